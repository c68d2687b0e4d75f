package x_test

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/streamtest"
	"github.com/tweetwire/tweetwire/server/source/x"
	"github.com/tweetwire/tweetwire/server/source/x/xtest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// Run must end with its context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// token is recognisable so that a test can look for it anywhere it must
// not be.
const token = "AAAAAAAAAAAAAAAAAAAAAXBEARER-SECRET-never-logged-7hQ2"

// run is a Source running against a fake X.
type run struct {
	*sourcetest.Live
	srv *xtest.Server
}

// start runs a Source; prepare, when set, sets the fake up before Run.
func start(t *testing.T, prepare func(*xtest.Server), mod func(*x.Config)) *run {
	t.Helper()
	srv := xtest.NewServer(token)
	t.Cleanup(srv.Close)
	if prepare != nil {
		prepare(srv)
	}
	return &run{srv: srv, Live: sourcetest.StartLive(t, srv, func(b reconnect.HTTPBackoff, log *slog.Logger) (tweet.Source, error) {
		cfg := x.Config{
			Track:        []string{"#GoConf", "go conf"},
			BearerToken:  token,
			APIURL:       srv.URL,
			StallTimeout: 2 * time.Second,
			Backoff:      b,
		}
		if mod != nil {
			mod(&cfg)
		}
		cfg.Logger = log
		return x.New(cfg)
	})}
}

var must = sourcetest.Must

// source is what the shared scenarios of sourcetest need of this source.
var source = sourcetest.Adapter{
	Start: func(t *testing.T, o sourcetest.Options) *sourcetest.Live {
		return start(t, nil, func(c *x.Config) {
			if o.StallTimeout != 0 {
				c.StallTimeout = o.StallTimeout
			}
			if o.Backoff != nil {
				c.Backoff = o.Backoff
			}
			if o.URL != "" {
				c.APIURL = o.URL
			}
		}).Live
	},
	Post: func(id int, text string) string { return post(fmt.Sprint(id), text) },
}

func post(id, text string, rules ...string) string {
	return xtest.Post{ID: id, Text: text, Username: "marta_codes", Name: "Marta", Hashtags: []string{"GoConf"}, RuleIDs: rules}.Line()
}

func TestSyncsItsOwnRulesThenStreams(t *testing.T) {
	t.Parallel()
	var kept, foreign, foreignSame, stale xtest.Rule
	r := start(t, func(s *xtest.Server) {
		stale = s.AddRule("#OldConf", "tweetwire")
		kept = s.AddRule("#GoConf", "tweetwire")
		foreign = s.AddRule("golang", "another-tool")
		foreignSame = s.AddRule("go conf", "another-tool")
	}, func(c *x.Config) { c.Track = []string{"#GoConf", "go conf", "#GoConf", "#new"} })
	c := r.Open(t)

	var rules []string
	for _, rl := range r.srv.Rules() {
		rules = append(rules, rl.Value+"|"+rl.Tag)
	}
	sort.Strings(rules)
	if want := []string{"#GoConf|tweetwire", "#new|tweetwire", "go conf|another-tool", "golang|another-tool"}; !reflect.DeepEqual(rules, want) {
		t.Errorf("rules after sync = %v, want %v (stale one of ours deleted, others' untouched)", rules, want)
	}
	var added string
	for _, rl := range r.srv.Rules() {
		if rl.Value == "#new" {
			added = rl.ID
		}
		if rl.Value == "#GoConf" && rl.ID != kept.ID {
			t.Errorf("#GoConf was re-created (id %s, was %s)", rl.ID, kept.ID)
		}
	}
	_ = stale

	q := c.Request.URL.Query()
	for param, want := range map[string]string{
		"expansions":   "author_id",
		"tweet.fields": "created_at,entities,lang,referenced_tweets,note_tweet",
		"user.fields":  "username,name,profile_image_url",
		"media.fields": "url,preview_image_url,alt_text,width,height",
	} {
		if !strings.Contains(q.Get(param), want) {
			t.Errorf("%s = %q, want it to hold %q", param, q.Get(param), want)
		}
	}
	if got := c.Request.Header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q", got)
	}
	sourcetest.WaitFor(t, "the running state", func() bool { st, _ := r.Sink.LastMessage(); return st == tweet.StateRunning })
	must(t, c.Send(
		post("1", "ours", kept.ID),
		"",
		post("2", "another tool's rule only", foreign.ID),
		post("3", "a term another tool also follows", foreignSame.ID),
		post("4", "both", foreign.ID, added),
		post("5", "no matching_rules at all"),
		`{"data":{"id":"6","text":"cut`,
		`{"data":{"author_id":"404","created_at":"2026-11-25T18:12:00.000Z","id":"7","text":"author suspended"},"errors":[{"title":"Not Found Error","detail":"Could not find user"}]}`,
		`{"data":{"id":"8","text":"`+strings.Repeat("a", 1<<20)+`"}}`,
		xtest.Delete("1"),
		post("9", "&lt;same&gt; connection", added),
	))
	want := []string{"x:1", "x:3", "x:4", "x:5", "-x:1", "x:9"}
	sourcetest.WaitFor(t, "every event", func() bool { return len(r.Sink.IDs()) >= len(want) })
	if got := r.Sink.IDs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events = %v, want %v", got, want)
	}
	events := r.Sink.Events()
	last := events[len(events)-1].Tweet
	if last.Text != "<same> connection" || last.URL != "https://x.com/marta_codes/status/9" || last.Source != "x" {
		t.Errorf("last post = %+v", last)
	}
	if n := r.srv.Requests(); n != 1 {
		t.Errorf("%d stream requests: a bad message cost the connection", n)
	}
	logs := r.Logs.String()
	for _, w := range []string{"skipping a malformed message", "expansions=author_id", "longer than 1 MiB", "another tool's stream rule"} {
		if !strings.Contains(logs, w) {
			t.Errorf("log lacks %q:\n%s", w, logs)
		}
	}
}

// The drops of X's stream: an operational disconnect, after which the
// client hangs up by itself, and 429 for too many connections. The rules
// are synced once, not per connection; a rules endpoint that is down is
// retried like a stream.
func TestReconnectsAfterEveryKindOfDrop(t *testing.T) {
	t.Parallel()
	sourcetest.ReconnectsAfterEveryKindOfDrop(t, source, []sourcetest.Drop{
		{Name: "server closes the stream", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Close())
		}, WantWait: "network", WantErr: "X closed the stream"},
		{Name: "operational disconnect", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Send(xtest.OperationalDisconnect))
			<-c.Gone() // the client hangs up by itself
		}, WantWait: "network", WantErr: "operational reasons"},
		{Name: "connection aborted mid-stream", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Write(`{"data":`))
			must(t, c.Drop())
		}, WantWait: "network", WantErr: "broke off"},
		{Name: "stall: silence after the headers", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			<-c.Gone()
		}, WantWait: "network", WantErr: "not even a keep-alive"},
		{Name: "service unavailable", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Reject(503, "application/json", `{"title":"Service Unavailable","detail":"try later"}`))
		}, WantWait: "http 503", WantErr: "HTTP 503 Service Unavailable: Service Unavailable: try later"},
		{Name: "too many connections", End: func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Reject(429, "application/json", xtest.TooManyConnections))
		}, WantWait: "http 429", WantErr: "maximum allowed connection limit"},
	}, func(t *testing.T, l *sourcetest.Live) {
		if n := l.Fake.(*xtest.Server).RuleRequests(); n != 2 {
			t.Errorf("%d rules requests, want 2 (list, add): rules are synced once, not per connection", n)
		}
	})
	t.Run("rules endpoint unavailable", func(t *testing.T) {
		t.Parallel()
		r := start(t, func(s *xtest.Server) { s.FailRules(503, `{"title":"Service Unavailable"}`) }, nil)
		sourcetest.WaitFor(t, "a retry", func() bool { return r.srv.RuleRequests() >= 2 })
		r.srv.FailRules(0, "")
		c := r.Open(t)
		must(t, c.Send(post("7", "back")))
		sourcetest.WaitFor(t, "the post", func() bool { return len(r.Sink.IDs()) == 1 })
		if !strings.HasPrefix(r.Backoff.Waits(), "http 503,http 503") || strings.Contains(r.Backoff.Waits(), "network") || !r.Sink.Saw(tweet.StateReconnecting, "stream rules request") {
			t.Errorf("backoff %q; states %v", r.Backoff, r.Sink.States())
		}
	})
}

func TestKeepAlivesKeepAQuietStreamOpen(t *testing.T) {
	t.Parallel()
	sourcetest.KeepAlivesKeepAQuietStreamOpen(t, source)
}

func TestStopsOnWhatRetryingCannotFix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(*xtest.Server)
		mod     func(*x.Config)
		stream  func(*streamtest.Conn) error // how the stream answers, if reached
		field   string                       // the Config field the error is about, if one
		wantErr []string
	}{
		{"wrong token", nil, func(c *x.Config) { c.BearerToken = "revoked" }, nil, "BearerToken", []string{"HTTP 401", "X refused the bearer token", "check it"}},
		{"no filtered stream at this access level", func(s *xtest.Server) { s.FailRules(403, xtest.ClientForbidden) }, nil, nil, "",
			[]string{"HTTP 403", "Client Forbidden", "Pro or Enterprise", "the bluesky source"}},
		{"stream forbidden", nil, nil, func(c *streamtest.Conn) error { return c.Reject(403, "application/json", xtest.ClientForbidden) }, "", []string{"HTTP 403", "Pro or Enterprise"}},
		{"stream refuses a parameter", nil, nil, func(c *streamtest.Conn) error {
			return c.Reject(400, "application/json", `{"title":"Invalid Request","detail":"One or more parameters to your request was invalid."}`)
		}, "Track", []string{"HTTP 400", "check the terms"}},
		{"rule refused", func(s *xtest.Server) {
			s.RefuseRules(func(v string) string {
				if v == "go conf" {
					return "Reference to invalid operator 'conf'"
				}
				return ""
			})
		}, nil, nil, "Track", []string{`"go conf"`, "invalid operator", "change or remove that term"}},
		{"wrong API URL", func(s *xtest.Server) { s.FailRules(404, `{"title":"Not Found Error"}`) }, nil, nil, "APIURL", []string{"HTTP 404", "check this URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, tt.prepare, tt.mod)
			if tt.stream != nil {
				must(t, tt.stream(r.Accept(t)))
			}
			err := sourcetest.Fatal(t, r.Live, tt.wantErr...)
			if tt.field != "" {
				sourcetest.CheckFieldError(t, err, tt.field, tweet.EINVALID, tt.wantErr...)
			}
			if n := r.srv.Requests(); n > 1 {
				t.Errorf("%d stream requests: retried after a fatal answer", n)
			}
		})
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	good := x.Config{Track: []string{"go"}, BearerToken: "t"}
	tests := []struct {
		name  string
		mod   func(*x.Config)
		field string
		want  string
	}{
		{"no token", func(c *x.Config) { c.BearerToken = "" }, "BearerToken", "needs the bearer token of an X app"},
		{"no track", func(c *x.Config) { c.Track = nil }, "Track", "needs the keywords, phrases or #hashtags to follow"},
		{"empty term", func(c *x.Config) { c.Track = []string{"go", " "} }, "Track", "empty term"},
		{"URL not http", func(c *x.Config) { c.APIURL = "api.x.com" }, "APIURL", "is not an http(s) base URL"},
		{"URL with a password", func(c *x.Config) { c.APIURL = "https://u:hunter2@proxy.example" }, "APIURL", "password"},
		{"negative stall timeout", func(c *x.Config) { c.StallTimeout = -time.Second }, "StallTimeout", "is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			_, err := x.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tweet.ErrorCode(err) != tweet.EINVALID {
				t.Fatalf("New = %v, want an EINVALID error containing %q", err, tt.want)
			}
			sourcetest.CheckFieldError(t, err, tt.field, tweet.EINVALID, tt.want)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

// The token reaches the Authorization header and nothing else, whatever
// goes wrong, even when a proxy echoes it in an error body.
func TestTokenAppearsInNoLogStateOrError(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, r *run, err error) {
		t.Helper()
		sourcetest.NoSecrets(t, r.Live, err, token, token[20:])
	}
	t.Run("refused, with the token echoed", func(t *testing.T) {
		t.Parallel()
		r := start(t, func(s *xtest.Server) {
			// As sent, and as a proxy may quote it: from a URL, or
			// base64 from a Basic header.
			s.FailRules(403, `{"title":"Forbidden","detail":"token `+token+` (`+url.QueryEscape(token)+`, `+base64.StdEncoding.EncodeToString([]byte(token))+`) has no access"}`)
		}, nil)
		check(t, r, r.Wait(t, 10*time.Second))
	})
	t.Run("unreachable, malformed, stalled, disconnected", func(t *testing.T) {
		t.Parallel()
		dead := sourcetest.DeadURL(t)
		r := start(t, nil, func(c *x.Config) { c.APIURL = dead })
		sourcetest.WaitFor(t, "a failed connection", func() bool { st, _ := r.Sink.LastMessage(); return st == tweet.StateReconnecting })
		check(t, r, nil)

		r = start(t, nil, func(c *x.Config) { c.StallTimeout = 200 * time.Millisecond })
		c := r.Open(t)
		must(t, c.Send("{bad", `{"errors":[{"title":"x","detail":"`+token+`"}]}`, xtest.OperationalDisconnect))
		c = r.Open(t)
		<-c.Gone()
		sourcetest.WaitFor(t, "a stall", func() bool { return r.Sink.Saw(tweet.StateReconnecting, "keep-alive") })
		check(t, r, nil)
	})
}

// Cancelling the context ends Run promptly from every state and leaves no
// goroutine behind.
func TestShutdownLeavesNoGoroutine(t *testing.T) {
	// Not parallel: goleak looks at every goroutine in the process.
	sourcetest.ShutdownLeavesNoGoroutine(t, source)
}

// A node that takes the stream over asks X for the posts it missed, once.
func TestResumesWithBackfill(t *testing.T) {
	t.Parallel()
	srv := xtest.NewServer(token)
	t.Cleanup(srv.Close)
	var src *x.Source
	live := sourcetest.StartLive(t, srv, func(b reconnect.HTTPBackoff, log *slog.Logger) (tweet.Source, error) {
		s, err := x.New(x.Config{Track: []string{"#GoConf"}, BearerToken: token, APIURL: srv.URL, StallTimeout: 2 * time.Second, Backoff: b, Logger: log})
		if err == nil {
			s.ResumeFrom("yesterday") // ignored
			s.ResumeFrom(time.Now().Add(-90 * time.Second).Format(time.RFC3339Nano))
			src = s
		}
		return s, err
	})
	c := live.Open(t)
	if got := c.Request.URL.Query().Get("backfill_minutes"); got != "2" {
		t.Errorf("backfill_minutes = %q, want 2 for a 90 s gap", got)
	}
	if src.Position() != "" {
		t.Errorf("position before any post = %q", src.Position())
	}
	must(t, c.Send(post("7", "hello")))
	sourcetest.WaitFor(t, "the post", func() bool { return len(live.Sink.IDs()) == 1 })
	if p, err := time.Parse(time.RFC3339Nano, src.Position()); err != nil || time.Since(p) > time.Minute {
		t.Errorf("position = %q (%v), want the time the post arrived", src.Position(), err)
	}
	must(t, c.Close())
	if again := live.Open(t); again.Request.URL.Query().Has("backfill_minutes") {
		t.Error("a plain reconnect asked for the backfill again")
	}
}
