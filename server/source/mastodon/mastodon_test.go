package mastodon_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/mastodon"
	"github.com/tweetwire/tweetwire/server/source/mastodon/mastodontest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// secret is a recognisable token: it must never show in an error or a log.
const secret = "tok-SECRET-7f3a9c"

func newServer(t *testing.T, token string) *mastodontest.Server {
	s := mastodontest.NewServer(token)
	t.Cleanup(s.Close)
	return s
}

// next returns the next stream opened, whichever it is.
func next(t *testing.T, s *mastodontest.Server) *mastodontest.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.Accept(ctx)
	if err != nil {
		t.Fatalf("no stream opened within 10 s: %v", err)
	}
	return c
}

// open waits for n streams and returns them by name.
func open(t *testing.T, s *mastodontest.Server, n int) map[string]*mastodontest.Stream {
	t.Helper()
	out := map[string]*mastodontest.Stream{}
	for range n {
		c := next(t, s)
		out[c.Name] = c
	}
	return out
}

func write(t *testing.T, c *mastodontest.Stream, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, msg); err != nil {
		t.Fatalf("stream %s takes no writes: %v", c.Name, err)
	}
}

func event(t *testing.T, c *mastodontest.Stream, name, data string) {
	t.Helper()
	write(t, c, mastodontest.Event(name, data))
}

// status returns the JSON of a status.
func status(id, acct, html string, tags ...string) string {
	return mastodontest.Status{ID: id, Acct: acct, DisplayName: strings.ToUpper(acct), HTML: html, Tags: tags, CreatedAt: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)}.JSON()
}

var fast = reconnect.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}

var quiet = slog.New(slog.DiscardHandler)

func start(t *testing.T, src *mastodon.Source, sk *sourcetest.Sink) (stop func() error) {
	r := sourcetest.Start(t, context.Background(), src, sk, 10*time.Second)
	return func() error { return r.Stop(t, 10*time.Second) }
}

// A fake server plays hashtag streams and the public timeline: posts, a
// status on two streams, a post not about the event, a malformed event,
// one over 1 MiB, keep-alives, deletes, and a server-side hang-up.
func TestFollowsHashtagsAndKeywords(t *testing.T) {
	fake := newServer(t, secret)
	var logs sourcetest.Logs
	src, err := mastodon.New(mastodon.Config{URL: fake.URL, Token: secret, Track: []string{"#GoConf", "#gophers", "golang", "#goconf"}, Backoff: fast, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	sk := &sourcetest.Sink{}
	stop := start(t, src, sk)
	streams := open(t, fake, 3)
	goconf, gophers, public := streams["hashtag:goconf"], streams["hashtag:gophers"], streams["public"]
	if goconf == nil || gophers == nil || public == nil {
		t.Fatalf("streams opened: %v, want hashtag:goconf, hashtag:gophers and public", streams)
	}
	sk.WaitState(t, tweet.StateRunning)
	id := func(n string) string { return "mastodon:" + fake.Host() + ":" + n }

	event(t, goconf, "update", status("101", "alice", "<p>Hello <a href=\"https://mastodon.example/tags/goconf\" class=\"mention hashtag\">#<span>GoConf</span></a> &amp; all</p>", "goconf"))
	ev := sk.Next(t)
	want := tweet.Tweet{
		ID: id("101"), Source: "mastodon", User: "alice", Name: "ALICE", Picture: "https://mastodon.example/alice.png",
		Text: "Hello #GoConf & all", CreatedAt: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Hashtags: []string{"goconf"},
		Lang: "en", URL: "https://mastodon.example/@alice/101",
		Entities: []tweet.Entity{{Kind: "hashtag", Start: 6, End: 13, Href: "https://mastodon.example/tags/goconf"}},
	}
	if ev.Kind != tweet.KindPost || fmt.Sprint(ev.Tweet) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", ev.Tweet, want)
	}
	// The same status on another stream is not emitted again.
	event(t, gophers, "update", status("101", "alice", "<p>#GoConf #gophers</p>", "goconf", "gophers"))
	event(t, public, "update", status("101", "alice", "<p>#GoConf golang</p>", "goconf"))
	write(t, gophers, ":thump\n")
	event(t, gophers, "update", `{"id":"102","created_at":"not a time"`)
	event(t, gophers, "update", status("103", "bob", "<p>"+strings.Repeat("big ", 300_000)+"</p>", "gophers"))
	event(t, public, "update", status("104", "carol", "<p>nothing about it</p>"))
	event(t, public, "update", status("105", "dave", "<p>I write <b>GoLang</b> daily</p>"))
	if ev := sk.Next(t); ev.ID != id("105") {
		t.Errorf("got %s, want only the public post about golang", ev.ID)
	}
	// Streams are read concurrently: #gophers may still be reading past
	// its 1.2 MB event while the public post is out already.
	sourcetest.WaitFor(t, "the oversized event skipped", func() bool {
		return strings.Contains(logs.String(), "skipping an event larger than 1 MiB")
	})
	event(t, public, "delete", "999") // a post never shown: the public timeline tells of every deletion
	event(t, goconf, "delete", "101")
	if ev := sk.Next(t); ev.Kind != tweet.KindDelete || ev.ID != id("101") {
		t.Errorf("got %v %s, want the delete of 101", ev.Kind, ev.ID)
	}
	event(t, gophers, "delete", "101") // the same delete on another stream
	event(t, goconf, "delete", "42")   // on a hashtag stream: a post shown before a restart, perhaps
	if ev := sk.Next(t); ev.Kind != tweet.KindDelete || ev.ID != id("42") {
		t.Errorf("got %v %s, want the delete of 42", ev.Kind, ev.ID)
	}
	event(t, goconf, "status.update", status("101", "alice", "<p>edited</p>", "goconf"))
	sk.None(t, 100*time.Millisecond)

	// The server hangs up one stream: only that one reconnects.
	goconf.Hangup()
	again := next(t, fake)
	if again.Name != "hashtag:goconf" {
		t.Errorf("reopened %s, want hashtag:goconf", again.Name)
	}
	sk.WaitState(t, tweet.StateRunning)
	event(t, again, "update", status("106", "erin", "<p>back</p>", "goconf"))
	if ev := sk.Next(t); ev.ID != id("106") {
		t.Errorf("after the reconnect got %s", ev.ID)
	}
	if !sk.Saw(tweet.StateReconnecting, "closed the #goconf stream") {
		t.Errorf("no reconnecting state for the hang-up: %v", sk.States())
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v after cancel", err)
	}
	for _, want := range []string{"skipping a malformed event", "skipping an event larger than 1 MiB"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the token is in the log:\n%s", logs.String())
	}
}

// Keep-alives keep a stream; silence drops it after the stall timeout.
func TestStall(t *testing.T) {
	fake := newServer(t, secret)
	var logs sourcetest.Logs
	src, err := mastodon.New(mastodon.Config{URL: fake.URL, Token: secret, Track: []string{"#goconf"}, StallTimeout: time.Second, Backoff: fast, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	sk := &sourcetest.Sink{}
	stop := start(t, src, sk)
	c := next(t, fake)
	// Keep-alives 10 times more often than the stall timeout, for twice
	// its length: margin enough for a loaded machine.
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		write(t, c, ":thump\n")
	}
	if _, ok := fake.Accepted(); ok {
		t.Fatal("reconnected although keep-alives kept coming")
	}
	begin := time.Now()
	c = next(t, fake)
	if d := time.Since(begin); d < 700*time.Millisecond {
		t.Errorf("reconnected %v after the last keep-alive, before the stall timeout", d)
	}
	if !sk.Saw(tweet.StateReconnecting, "not even a keep-alive, for 1s") {
		t.Errorf("no reconnecting state for the stall: %v", sk.States())
	}
	stop()
	select {
	case <-c.Gone():
	case <-time.After(5 * time.Second):
		t.Error("the stream stayed open after Run returned")
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		refuse []mastodontest.Refusal
		fatal  string // "" means retried, then streaming
		field  string // the Config field the fatal error is about
	}{
		{name: "invalid token", token: "tok-SECRET-wrong", fatal: "refused the access token (401 Unauthorized: The access token is invalid: Bearer [token]): set a valid token", field: "Token"},
		{name: "no token", token: "", fatal: "requires an access token for streaming (401 Unauthorized: The access token is invalid:): create one", field: "Token"},
		{name: "forbidden", token: secret, refuse: []mastodontest.Refusal{{Status: 403, ContentType: "application/json", Body: `{"error":"This action is not allowed"}`}}, fatal: "refused the #goconf stream (403 Forbidden: This action is not allowed): give the token the read:statuses scope", field: "Token"},
		{name: "not found", token: secret, refuse: []mastodontest.Refusal{{Status: 404, ContentType: "text/html", Body: "<html>nope</html>"}}, fatal: "answered the #goconf stream with 404 Not Found: check that this is a Mastodon server", field: "URL"},
		{name: "not an event stream", token: secret, refuse: []mastodontest.Refusal{{Status: 200, ContentType: "text/html; charset=utf-8", Body: "<html>hi</html>"}}, fatal: `with "text/html", not an event stream`, field: "URL"},
		{name: "unavailable is retried", token: secret, refuse: []mastodontest.Refusal{{Status: 503, ContentType: "text/plain", Body: "busy"}, {Status: 502, ContentType: "text/plain", Body: "busy"}}},
		{name: "rate limit is retried", token: secret, refuse: []mastodontest.Refusal{{Status: 429, ContentType: "application/json", Body: `{"error":"Too many requests"}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newServer(t, secret)
			fake.Refuse(tt.refuse...)
			var logs sourcetest.Logs
			src, err := mastodon.New(mastodon.Config{URL: fake.URL, Token: tt.token, Track: []string{"#goconf"}, Backoff: fast, Logger: logs.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			sk := &sourcetest.Sink{}
			r := sourcetest.Start(t, context.Background(), src, sk, 10*time.Second)
			if tt.fatal == "" {
				next(t, fake)
				sk.WaitState(t, tweet.StateRunning)
				got := sk.States()[0]
				if got.State != tweet.StateReconnecting {
					t.Errorf("first state %v, want reconnecting", got)
				}
				if err := r.Stop(t, 10*time.Second); err != nil {
					t.Errorf("Run = %v", err)
				}
				return
			}
			runErr := r.Wait(t, 10*time.Second)
			if runErr == nil || !strings.Contains(runErr.Error(), tt.fatal) || tweet.ErrorCode(runErr) != tweet.EINVALID {
				t.Fatalf("Run = %v\nwant an EINVALID error with %q", runErr, tt.fatal)
			}
			sourcetest.CheckFieldError(t, runErr, tt.field, tweet.EINVALID, tt.fatal)
			if strings.Count(runErr.Error(), "\n") > 0 {
				t.Errorf("error is not one line: %q", runErr)
			}
			if st := sk.Last(); st.State != tweet.StateFailed || st.Err != runErr {
				t.Errorf("last state %v, want failed with Run's error", st)
			}
			for _, where := range []string{runErr.Error(), logs.String()} {
				if strings.Contains(where, "SECRET") {
					t.Errorf("a token leaked: %s", where)
				}
			}
		})
	}
}

// mastodon.social redirects /api/v1/streaming to its streaming host; the
// token must follow, which Go's client would drop on a change of host.
func TestRedirectKeepsTheToken(t *testing.T) {
	streaming := newServer(t, secret)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := *r.URL
		u.Scheme, u.Host = "http", strings.Replace(streaming.Host(), "127.0.0.1", "localhost", 1)
		http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
	}))
	defer front.Close()
	src, err := mastodon.New(mastodon.Config{URL: front.URL, Token: secret, Track: []string{"#goconf"}, Backoff: fast, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sk := &sourcetest.Sink{}
	stop := start(t, src, sk)
	c := next(t, streaming)
	event(t, c, "update", status("7", "alice", "<p>hi</p>", "goconf"))
	// Ids carry the host of Config.URL, which is the server that
	// numbered the status.
	if ev := sk.Next(t); ev.ID != "mastodon:"+host2(front.URL)+":7" {
		t.Errorf("id %s", ev.ID)
	}
	stop()
}

func host2(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   mastodon.Config
		field string
		want  string
	}{
		{name: "no track", cfg: mastodon.Config{}, field: "Track", want: "Track: needs #hashtags to follow, or keywords"},
		{name: "hashtag Mastodon cannot have", cfg: mastodon.Config{Track: []string{"#go-conf"}}, field: "Track", want: `Track: "#go-conf" is not a Mastodon hashtag`},
		{name: "not a URL", cfg: mastodon.Config{URL: "mastodon.social", Track: []string{"#go"}}, field: "URL", want: `URL: "mastodon.social" is not the URL of a server`},
		{name: "URL with a query", cfg: mastodon.Config{URL: "https://m.example/?x=1", Track: []string{"#go"}}, field: "URL", want: "is not the URL of a server"},
		{name: "token with a line break", cfg: mastodon.Config{Token: secret + "\n", Track: []string{"#go"}}, field: "Token", want: "white space or control characters: give the token alone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mastodon.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tweet.ErrorCode(err) != tweet.EINVALID {
				t.Fatalf("New = %v, want an EINVALID error with %q", err, tt.want)
			}
			sourcetest.CheckFieldError(t, err, tt.field, tweet.EINVALID)
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}
