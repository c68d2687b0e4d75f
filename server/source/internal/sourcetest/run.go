package sourcetest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/streamtest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Run is a source's Run going on in the background of a test.
type Run struct {
	// Logs, when set, is shown when the test fails for want of Run
	// returning.
	Logs fmt.Stringer

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Start calls src.Run with sink and a context derived from ctx, in a
// goroutine. When the test ends it cancels that context, and fails the
// test unless Run returns within stopWithin.
func Start(t testing.TB, ctx context.Context, src tweet.Source, sink tweet.Sink, stopWithin time.Duration) *Run {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	r := &Run{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = src.Run(ctx, sink)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(stopWithin):
			t.Errorf("Run did not return within %v of cancel%s", stopWithin, r.logs())
		}
	})
	return r
}

// RunFor runs src until Run returns, and fails the test at once unless it
// does within limit.
func RunFor(t testing.TB, ctx context.Context, src tweet.Source, sink tweet.Sink, limit time.Duration) error {
	t.Helper()
	return Start(t, ctx, src, sink, limit).Wait(t, limit)
}

// Cancel cancels Run's context.
func (r *Run) Cancel() { r.cancel() }

// Done is closed once Run returned.
func (r *Run) Done() <-chan struct{} { return r.done }

// Err is what Run returned, once Done is closed.
func (r *Run) Err() error {
	<-r.done
	return r.err
}

// Wait returns what Run returns, and fails the test at once unless it
// returns within limit.
func (r *Run) Wait(t testing.TB, limit time.Duration) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(limit):
		t.Fatalf("Run did not return within %v%s", limit, r.logs())
		return nil
	}
}

// Stop cancels Run and waits for it as Wait does.
func (r *Run) Stop(t testing.TB, limit time.Duration) error {
	t.Helper()
	r.Cancel()
	return r.Wait(t, limit)
}

func (r *Run) logs() string {
	if r.Logs == nil {
		return ""
	}
	return "; log:\n" + r.Logs.String()
}

// Fake is a fake streaming service built on streamtest (twittertest,
// xtest).
type Fake interface {
	// Accept waits for the next connection, which the test then answers.
	Accept(ctx context.Context) (*streamtest.Conn, error)
	// Open accepts the next connection and opens its stream.
	Open(ctx context.Context) (*streamtest.Conn, error)
	// Requests is how many stream requests arrived, refused ones too.
	Requests() int
	// Close ends every stream and stops the fake.
	Close()
}

// Live is a live source running in the background against a Fake, with
// what it tells recorded.
type Live struct {
	*Run
	Sink    *Sink
	Backoff *Backoff
	Logs    *Logs
	// Fake is the service the source runs against.
	Fake Fake
}

// StartLive makes a source with newSource, which gets a recording
// backoff and a logger that writes to Logs, and runs it until the test
// ends, as Start does with 5 s to stop.
func StartLive(t testing.TB, fake Fake, newSource func(reconnect.HTTPBackoff, *slog.Logger) (tweet.Source, error)) *Live {
	t.Helper()
	l := &Live{Sink: &Sink{}, Backoff: &Backoff{}, Logs: &Logs{}, Fake: fake}
	src, err := newSource(l.Backoff, l.Logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	l.Run = Start(t, context.Background(), src, l.Sink, 5*time.Second)
	l.Run.Logs = l.Logs
	return l
}

// Said returns what the source said: its log, and the error of every
// state it reported.
func (l *Live) Said() []string {
	said := []string{l.Logs.String()}
	for _, st := range l.Sink.States() {
		if st.Err != nil {
			said = append(said, st.Err.Error())
		}
	}
	return said
}

// Open returns the next connection, opened, and fails the test at once
// unless one comes within 10 s.
func (l *Live) Open(t testing.TB) *streamtest.Conn {
	t.Helper()
	return l.await(t, l.Fake.Open)
}

// Accept returns the next connection, for the test to answer, and fails
// the test at once unless one comes within 10 s.
func (l *Live) Accept(t testing.TB) *streamtest.Conn {
	t.Helper()
	return l.await(t, l.Fake.Accept)
}

func (l *Live) await(t testing.TB, next func(context.Context) (*streamtest.Conn, error)) *streamtest.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := next(ctx)
	if err != nil {
		t.Fatalf("no connection: %v\nlog:\n%s", err, l.Logs)
	}
	return c
}

// Must fails the test at once if err is not nil.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
