package sourcetest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/secret"
	"github.com/tweetwire/tweetwire/server/source/streamtest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// The scenarios below are what every streaming source (twitter, x) must
// survive, written once. Each source's test calls them with an Adapter for
// its fake and keeps, in its own table, what differs between services:
// how a connection is dropped, what the error then says, which answers are
// fatal.

// Options are what a scenario changes in a source's configuration; zero
// values keep the test's own.
type Options struct {
	// StallTimeout is how long the source waits for a byte before it
	// gives a connection up.
	StallTimeout time.Duration
	// Backoff replaces the recording Live.Backoff.
	Backoff reconnect.HTTPBackoff
	// URL replaces the fake's address, e.g. with DeadURL.
	URL string
}

// Adapter is what the scenarios need of one source's test.
type Adapter struct {
	// Start runs the source, configured with o, against a new fake until
	// the test ends, as StartLive does.
	Start func(t *testing.T, o Options) *Live
	// Post returns a line of the stream that the source hands on as one
	// post.
	Post func(id int, text string) string
}

// Drop is one way the first connection of a stream ends, with what the
// source must make of it.
type Drop struct {
	Name string
	// End ends the connection.
	End func(t *testing.T, c *streamtest.Conn)
	// WantWait is the only wait the source asks its backoff for: "network"
	// or "http <status>".
	WantWait string
	// WantErr is part of the error of the reconnecting state.
	WantErr string
}

// ReconnectsAfterEveryKindOfDrop ends a stream's first connection in each
// way of drops, in parallel subtests, and checks that the source waits as
// it should, says why in its reconnecting state, and streams again on the
// next connection. check, when set, checks more after each.
func ReconnectsAfterEveryKindOfDrop(t *testing.T, a Adapter, drops []Drop, check func(t *testing.T, l *Live)) {
	for _, d := range drops {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			// A second, so that a loaded machine does not stall the
			// second connection before the test sends on it.
			l := a.Start(t, Options{StallTimeout: time.Second})
			d.End(t, l.Accept(t))
			c := l.Open(t)
			if st, msg := l.Sink.LastMessage(); st != tweet.StateRunning && (st != tweet.StateReconnecting || !strings.Contains(msg, d.WantErr)) {
				t.Errorf("state = %s %q, want reconnecting with %q", st, msg, d.WantErr)
			}
			Must(t, c.Send(a.Post(7, "back")))
			WaitFor(t, "the post after reconnecting", func() bool { return len(l.Sink.IDs()) == 1 })
			if st, _ := l.Sink.LastMessage(); st != tweet.StateRunning {
				t.Errorf("state after reconnecting = %s", st)
			}
			if waits := l.Backoff.Waits(); waits != d.WantWait {
				t.Errorf("backoff waits %q, want exactly %q", waits, d.WantWait)
			}
			if !l.Sink.Saw(tweet.StateReconnecting, d.WantErr) {
				t.Errorf("no reconnecting state saying %q; log:\n%s", d.WantErr, l.Logs)
			}
			if check != nil {
				check(t, l)
			}
		})
	}
}

// KeepAlivesKeepAQuietStreamOpen checks that keep-alives alone keep a
// stream open for longer than the stall timeout, and that silence does
// not: only silence is a stall.
func KeepAlivesKeepAQuietStreamOpen(t *testing.T, a Adapter) {
	l := a.Start(t, Options{StallTimeout: time.Second})
	c := l.Open(t)
	for range 25 { // 2.5 s, two and a half stall timeouts
		Must(t, c.KeepAlive())
		time.Sleep(100 * time.Millisecond)
	}
	if n := l.Fake.Requests(); n != 1 {
		t.Fatalf("%d requests: a stream with keep-alives was dropped", n)
	}
	if st, _ := l.Sink.LastMessage(); st != tweet.StateRunning {
		t.Fatalf("state = %s", st)
	}
	select {
	case <-c.Gone():
	case <-time.After(5 * time.Second):
		t.Fatal("a silent stream was not dropped")
	}
	l.Open(t)
	if got := l.Backoff.String(); got != "reset,network" {
		t.Errorf("backoff calls %q, want a reset on data and one network wait", got)
	}
}

// Fatal waits for Run to stop on what retrying cannot fix, and checks
// what the source then says: Run returns an EINVALID error that holds
// every want, on one line, and the source's last state is failed with
// that error. It returns the error for the source's own checks.
func Fatal(t *testing.T, l *Live, want ...string) error {
	t.Helper()
	err := l.Wait(t, 10*time.Second)
	if err == nil || tweet.ErrorCode(err) != tweet.EINVALID {
		t.Fatalf("Run = %v, want an EINVALID error", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
	if st, msg := l.Sink.LastMessage(); st != tweet.StateFailed || msg != err.Error() {
		t.Errorf("state = %s %q, want failed with the error", st, msg)
	}
	return err
}

// NoSecrets fails the test if any of secrets appears, in any of the forms
// a service may quote it back in (secret.Forms: as sent, percent- or
// base64-encoded), in what the source said (its log at debug level, the
// errors of its states) or in err.
func NoSecrets(t *testing.T, l *Live, err error, secrets ...string) {
	t.Helper()
	texts := l.Said()
	if err != nil {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
	}
	for _, s := range secrets {
		forms := append([]string{s}, secret.Forms(s)...)
		for _, form := range forms {
			for _, text := range texts {
				if strings.Contains(text, form) {
					t.Errorf("%q (a form of a secret) appears in %q", form, text)
				}
			}
		}
	}
}

// DeadURL returns the URL of a local port where nothing listens.
func DeadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(t, err)
	dead := "http://" + ln.Addr().String()
	ln.Close()
	return dead
}

// ShutdownLeavesNoGoroutine checks that cancelling the context ends Run
// promptly, with nil, from every state a stream can be in (streaming,
// waiting for the response, waiting to reconnect), and leaves no
// goroutine behind. It must not run in parallel with other tests:
// goleak looks at every goroutine of the process.
func ShutdownLeavesNoGoroutine(t *testing.T, a Adapter) {
	tests := []struct {
		name  string
		setup func(t *testing.T, l *Live)
	}{
		{"while streaming", func(t *testing.T, l *Live) {
			c := l.Open(t)
			Must(t, c.Send(a.Post(1, "hi")))
			WaitFor(t, "the post", func() bool { return len(l.Sink.IDs()) == 1 })
		}},
		{"while waiting for the response", func(t *testing.T, l *Live) { l.Accept(t) }},
		{"while waiting to reconnect", func(t *testing.T, l *Live) {
			Must(t, l.Accept(t).Reject(503, "", ""))
			WaitFor(t, "the reconnecting state", func() bool { st, _ := l.Sink.LastMessage(); return st == tweet.StateReconnecting })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			// A backoff as slow as the services ask for: cancelling
			// must cut its waits short.
			l := a.Start(t, Options{Backoff: SlowBackoff{}})
			tt.setup(t, l)
			began := time.Now()
			l.Cancel()
			if err := l.Wait(t, 10*time.Second); err != nil {
				t.Errorf("Run = %v after cancel, want nil", err)
			}
			if d := time.Since(began); d > time.Second {
				t.Errorf("Run took %v to stop", d)
			}
			l.Fake.Close()
		})
	}
}
