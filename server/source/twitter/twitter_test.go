package twitter_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/streamtest"
	"github.com/tweetwire/tweetwire/server/source/twitter"
	"github.com/tweetwire/tweetwire/server/source/twitter/twittertest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// Run must end with its context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The credentials are recognisable so that a test can look for them
// anywhere they must not be.
var creds = twittertest.Credentials{
	ConsumerKey:    "CK-visible-in-the-request-Zq81",
	ConsumerSecret: "CS-SECRET-never-logged-Xu27",
	AccessToken:    "AT-visible-in-the-request-Pn44",
	AccessSecret:   "AS-SECRET-never-logged-Wd93",
}

// The crafted status of the twitterv1 tests: anaconda's UnmarshalJSON
// panics on it.
const crafted = `{"id_str":"1","full_text":"hi","display_text_range":[0,50],"user":{"screen_name":"a"},"created_at":"Thu Apr 25 09:00:00 +0000 2019"}`

func status(id int, text string) string {
	b, _ := json.Marshal(map[string]any{
		"id_str": fmt.Sprint(id), "id": id, "text": text, "lang": "en",
		"created_at": "Wed Nov 25 18:00:00 +0000 2026",
		"user":       map[string]any{"screen_name": "marta_codes", "name": "Marta", "profile_image_url_https": "https://pbs.twimg.com/a.jpg"},
		"entities":   map[string]any{"hashtags": []any{map[string]any{"text": "GoConf"}}},
	})
	return string(b)
}

func deletion(id int) string {
	return fmt.Sprintf(`{"delete":{"status":{"id":%d,"id_str":"%d","user_id":1,"user_id_str":"1"},"timestamp_ms":"1556191200000"}}`, id, id)
}

// run is a Source running against a fake server.
type run struct {
	*sourcetest.Live
	srv *twittertest.Server
}

func start(t *testing.T, mod func(*twitter.Config)) *run {
	t.Helper()
	srv := twittertest.NewServer(creds)
	t.Cleanup(srv.Close)
	return &run{srv: srv, Live: sourcetest.StartLive(t, srv, func(b reconnect.HTTPBackoff, log *slog.Logger) (tweet.Source, error) {
		cfg := twitter.Config{
			Track:          []string{"#GoConf", "go conf"},
			ConsumerKey:    creds.ConsumerKey,
			ConsumerSecret: creds.ConsumerSecret,
			AccessToken:    creds.AccessToken,
			AccessSecret:   creds.AccessSecret,
			StreamURL:      srv.URL,
			StallTimeout:   2 * time.Second,
			Backoff:        b,
		}
		if mod != nil {
			mod(&cfg)
		}
		cfg.Logger = log
		return twitter.New(cfg)
	})}
}

var must = sourcetest.Must

// source is what the shared scenarios of sourcetest need of this source.
var source = sourcetest.Adapter{
	Start: func(t *testing.T, o sourcetest.Options) *sourcetest.Live {
		return start(t, func(c *twitter.Config) {
			if o.StallTimeout != 0 {
				c.StallTimeout = o.StallTimeout
			}
			if o.Backoff != nil {
				c.Backoff = o.Backoff
			}
			if o.URL != "" {
				c.StreamURL = o.URL
			}
		}).Live
	},
	Post: status,
}

func TestStreamsPostsAndDeletesAndSkipsBadMessages(t *testing.T) {
	t.Parallel()
	r := start(t, nil)
	c := r.Open(t)
	if got := c.Request.PostForm.Get("track"); got != "#GoConf,go conf" {
		t.Errorf("track = %q, want the terms joined by commas", got)
	}
	if !strings.HasPrefix(c.Request.Header.Get("Authorization"), "OAuth ") {
		t.Errorf("Authorization = %q, want an OAuth 1.0a signature", c.Request.Header.Get("Authorization"))
	}
	sourcetest.WaitFor(t, "the running state", func() bool { st, _ := r.Sink.LastMessage(); return st == tweet.StateRunning })
	must(t, c.Send(
		status(101, "first #GoConf"),
		"",                        // keep-alive
		`{"id_str":"102","text":`, // cut off
		"not json at all",
		crafted, // would panic inside anaconda's stream decoder
		`{"limit":{"track":42,"timestamp_ms":"1"}}`,
		`{"warning":{"code":"FALLING_BEHIND","message":"behind","percent_full":60}}`,
		`{"id_str":"`+strings.Repeat("9", 1<<20)+`"}`, // over 1 MiB
		deletion(101),
		status(103, "&lt;still&gt; the same connection"),
	))
	want := []string{"twitter:101", "-twitter:101", "twitter:103"}
	sourcetest.WaitFor(t, "every event", func() bool { return len(r.Sink.IDs()) >= len(want) })
	if got := r.Sink.IDs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events = %v, want %v", got, want)
	}
	last := r.Sink.Events()[2].Tweet
	if last.Text != "<still> the same connection" || last.User != "marta_codes" || last.Source != "twitter" || last.URL != "https://twitter.com/marta_codes/status/103" {
		t.Errorf("post = %+v", last)
	}
	if n := r.srv.Requests(); n != 1 {
		t.Errorf("%d requests: a bad message cost the connection", n)
	}
	logs := r.Logs.String()
	for _, want := range []string{"skipping a malformed message", "display_text_range", "longer than 1 MiB", "FALLING_BEHIND"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// The drops of Twitter's stream: a disconnect notice before the close,
// no headers at all, and 420 as well as 429 for rate limiting.
func TestReconnectsAfterEveryKindOfDrop(t *testing.T) {
	t.Parallel()
	sourcetest.ReconnectsAfterEveryKindOfDrop(t, source, []sourcetest.Drop{
		{Name: "server closes the stream", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Close())
		}, WantWait: "network", WantErr: "Twitter closed the stream"},
		{Name: "disconnect notice then close", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Send(`{"disconnect":{"code":1,"stream_name":"x","reason":"Shutdown"}}`))
			must(t, c.Close())
		}, WantWait: "network", WantErr: "disconnect notice 1 (Shutdown)"},
		{Name: "connection aborted mid-stream", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Write(`{"id_str":"5`))
			must(t, c.Drop())
		}, WantWait: "network", WantErr: "broke off"},
		{Name: "stall: silence after the headers", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			<-c.Gone()
		}, WantWait: "network", WantErr: "not even a keep-alive"},
		{Name: "stall: no headers at all", End: func(t *testing.T, c *streamtest.Conn) { <-c.Gone() }, WantWait: "network", WantErr: "not even a keep-alive"},
		{Name: "service unavailable", End: func(t *testing.T, c *streamtest.Conn) { must(t, c.Reject(503, "text/plain", "over capacity")) }, WantWait: "http 503", WantErr: "HTTP 503"},
		{Name: "rate limited (420)", End: func(t *testing.T, c *streamtest.Conn) { must(t, c.Reject(420, "text/plain", "Enhance Your Calm")) }, WantWait: "http 420", WantErr: "rate limiting"},
		{Name: "rate limited (429)", End: func(t *testing.T, c *streamtest.Conn) { must(t, c.Reject(429, "text/plain", "")) }, WantWait: "http 429", WantErr: "rate limiting"},
	}, nil)
}

// Keep-alives alone keep a quiet stream open: only silence is a stall.
func TestKeepAlivesKeepAQuietStreamOpen(t *testing.T) {
	t.Parallel()
	sourcetest.KeepAlivesKeepAQuietStreamOpen(t, source)
}

// credentials are the Config fields of the OAuth credentials.
var credentials = []string{"ConsumerKey", "ConsumerSecret", "AccessToken", "AccessSecret"}

func TestStopsOnWhatReconnectingCannotFix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mod     func(*twitter.Config)
		status  int      // 0: the fake answers by itself
		fields  []string // the Config fields the error is about
		wantErr []string
	}{
		{"wrong consumer secret", func(c *twitter.Config) { c.ConsumerSecret = "not-the-secret" }, 0, credentials, []string{"HTTP 401", "check all four", "clock"}},
		{"wrong access token", func(c *twitter.Config) { c.AccessToken = "revoked" }, 0, credentials, []string{"HTTP 401", "refused the credentials"}},
		{"endpoint retired", nil, 403, nil, []string{"HTTP 403", "retired", "the x source", "the bluesky source"}},
		{"wrong stream URL", nil, 404, []string{"StreamURL"}, []string{"HTTP 404", "check this URL"}},
		{"track refused", nil, 406, []string{"Track"}, []string{"HTTP 406", "check the terms"}},
		{"track too long", nil, 413, []string{"Track"}, []string{"HTTP 413", "check the terms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, tt.mod)
			if tt.status != 0 {
				must(t, r.Accept(t).Reject(tt.status, "application/json", `{"errors":[{"code":0,"message":"no"}]}`))
			}
			err := sourcetest.Fatal(t, r.Live, tt.wantErr...)
			for _, f := range tt.fields {
				sourcetest.CheckFieldError(t, err, f, tweet.EINVALID, tt.wantErr[1:]...)
			}
			if strings.Count(err.Error(), ". ") > 0 {
				t.Errorf("error %q is not one sentence", err)
			}
			if n := r.srv.Requests(); n != 1 {
				t.Errorf("%d requests, want 1: no retry after a fatal answer", n)
			}
		})
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	good := twitter.Config{Track: []string{"go"}, ConsumerKey: "a", ConsumerSecret: "b", AccessToken: "c", AccessSecret: "d"}
	tests := []struct {
		name   string
		mod    func(*twitter.Config)
		fields []string // the Config fields the error is about
		want   string
	}{
		{"no credentials", func(c *twitter.Config) { *c = twitter.Config{Track: c.Track} }, credentials, "ConsumerKey, ConsumerSecret, AccessToken, AccessSecret: not set"},
		{"one credential missing", func(c *twitter.Config) { c.AccessSecret = "" }, []string{"AccessSecret"}, "AccessSecret: not set"},
		{"no track", func(c *twitter.Config) { c.Track = nil }, []string{"Track"}, "Track: needs the keywords"},
		{"term too long", func(c *twitter.Config) { c.Track = []string{strings.Repeat("a", 61)} }, []string{"Track"}, "61 bytes"},
		{"too many terms", func(c *twitter.Config) { c.Track = make([]string, 401) }, []string{"Track"}, "401 terms"},
		{"term with a comma", func(c *twitter.Config) { c.Track = []string{"a,b"} }, []string{"Track"}, "comma"},
		{"URL not http", func(c *twitter.Config) { c.StreamURL = "ftp://stream.twitter.com" }, []string{"StreamURL"}, "StreamURL: is not an http(s) base URL"},
		{"URL with a password", func(c *twitter.Config) { c.StreamURL = "https://u:hunter2@proxy.example" }, []string{"StreamURL"}, "password"},
		{"negative stall timeout", func(c *twitter.Config) { c.StallTimeout = -time.Second }, []string{"StallTimeout"}, "StallTimeout: -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			_, err := twitter.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tweet.ErrorCode(err) != tweet.EINVALID {
				t.Fatalf("New = %v, want an EINVALID error containing %q", err, tt.want)
			}
			for _, f := range tt.fields {
				sourcetest.CheckFieldError(t, err, f, tweet.EINVALID)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

// The credentials reach the request's signature and nothing else: not the
// log (at debug level), not a state, not an error, whatever goes wrong.
func TestCredentialsAppearInNoLogStateOrError(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, r *run, err error) {
		t.Helper()
		sourcetest.NoSecrets(t, r.Live, err, creds.ConsumerKey, creds.ConsumerSecret, creds.AccessToken, creds.AccessSecret)
	}
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		r := start(t, nil)
		must(t, r.Accept(t).Reject(401, "application/json", `{"errors":[{"code":32,"message":"Could not authenticate you."}]}`))
		check(t, r, r.Err())
	})
	t.Run("unreachable, malformed, stalled", func(t *testing.T) {
		t.Parallel()
		dead := sourcetest.DeadURL(t)
		r := start(t, func(c *twitter.Config) { c.StreamURL = dead; c.StallTimeout = 200 * time.Millisecond })
		sourcetest.WaitFor(t, "a failed connection", func() bool { st, _ := r.Sink.LastMessage(); return st == tweet.StateReconnecting })
		check(t, r, nil)

		r = start(t, func(c *twitter.Config) { c.StallTimeout = 200 * time.Millisecond })
		c := r.Open(t)
		must(t, c.Send("{bad", crafted))
		<-c.Gone()
		sourcetest.WaitFor(t, "a stall", func() bool { st, _ := r.Sink.LastMessage(); return st == tweet.StateReconnecting })
		check(t, r, nil)
	})
}

// NewTwitterApi sets http.DefaultClient.Timeout to 20 s for the whole
// process; building and running a Source must leave it as it was.
func TestDefaultClientTimeoutIsLeftAlone(t *testing.T) {
	// Not parallel: it reads a process-wide value.
	saved := http.DefaultClient.Timeout
	t.Cleanup(func() { http.DefaultClient.Timeout = saved })
	http.DefaultClient.Timeout = 0
	r := start(t, nil)
	c := r.Open(t)
	must(t, c.Send(status(1, "hi")))
	sourcetest.WaitFor(t, "the post", func() bool { return len(r.Sink.IDs()) == 1 })
	if got := http.DefaultClient.Timeout; got != 0 {
		t.Fatalf("http.DefaultClient.Timeout = %v after New and Run, want 0 (unchanged)", got)
	}
}

// Cancelling the context ends Run promptly from every state, and leaves no
// goroutine behind (not even anaconda's).
func TestShutdownLeavesNoGoroutine(t *testing.T) {
	// Not parallel: goleak looks at every goroutine in the process.
	sourcetest.ShutdownLeavesNoGoroutine(t, source)
}
