package linestream_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/linestream"
	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestBaseURL(t *testing.T) {
	tests := []struct {
		raw, want, err string
	}{
		{raw: "https://api.example/", want: "https://api.example"},
		{raw: "http://proxy.example/x/", want: "http://proxy.example/x"},
		{raw: "api.example", err: "is not an http(s) base URL: give one like https://api.example, without query or fragment"},
		{raw: "https://api.example/?a=1", err: "without query or fragment"},
		{raw: "https://u:hunter2@proxy.example", err: "carries a user name or password: remove them, it uses a token"},
	}
	for _, tt := range tests {
		u, err := linestream.BaseURL(tt.raw, "APIURL", "https://api.example", "it uses a token")
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) || tweet.ErrorCode(err) != tweet.EINVALID || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("BaseURL(%q) = %v, want an EINVALID error with %q", tt.raw, err, tt.err)
			}
			sourcetest.CheckFieldError(t, err, "APIURL", tweet.EINVALID, tt.err)
		case err != nil || u.String() != tt.want:
			t.Errorf("BaseURL(%q) = %v, %v; want %s", tt.raw, u, err, tt.want)
		}
	}
}

// messages takes every message that is not "end" as a post with that id.
type messages struct{}

func (messages) Decode(line []byte) (tweet.Update, bool, error) {
	if string(line) == "end" {
		return tweet.Update{}, false, errors.New("told to end")
	}
	return tweet.Post(tweet.Tweet{ID: string(line)}), true, nil
}

func (messages) Closed() error { return errors.New("closed") }

func TestRead(t *testing.T) {
	s := linestream.Stream{Service: "Test", StallTimeout: time.Hour, Backoff: &sourcetest.Backoff{}, Log: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name, body string
		want       []string
		err        string
	}{
		{name: "keep-alives and a long message are skipped", body: "a\r\n\r\n" + strings.Repeat("x", 1<<20+1) + "\r\nb\r\n", want: []string{"a", "b"}, err: "closed"},
		{name: "a message ends the connection", body: "a\r\nend\r\nb\r\n", want: []string{"a"}, err: "told to end"},
		{name: "a cut-off body", body: "a\r\nb", want: []string{"a", "b"}, err: "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wd := reconnect.NewWatchdog(time.Hour, func() {})
			defer wd.Stop()
			sink := &sourcetest.Sink{}
			d := s.Read(context.Background(), strings.NewReader(tt.body), wd, sink, messages{})
			if d.Fatal || d.Err == nil || d.Err.Error() != tt.err {
				t.Errorf("drop %+v, want one with %q", d, tt.err)
			}
			if got := strings.Join(sink.IDs(), " "); got != strings.Join(tt.want, " ") {
				t.Errorf("events %s, want %s", got, strings.Join(tt.want, " "))
			}
		})
	}
	t.Run("a refusing sink is fatal", func(t *testing.T) {
		wd := reconnect.NewWatchdog(time.Hour, func() {})
		defer wd.Stop()
		sink := &sourcetest.Sink{OnEmit: func(context.Context, int) error { return errors.New("full") }}
		d := s.Read(context.Background(), strings.NewReader("a\r\n"), wd, sink, messages{})
		if !d.Fatal || !strings.Contains(d.Err.Error(), "test: the sink refused a: full") {
			t.Errorf("drop %+v, want a fatal one", d)
		}
	})
}
