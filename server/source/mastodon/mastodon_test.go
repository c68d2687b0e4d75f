package mastodon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/source/mastodon"
	"github.com/tweetwire/tweetwire/server/source/reconnect"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// secret is a recognisable token: it must never show in an error or a log.
const secret = "tok-SECRET-7f3a9c"

// server is a fake Mastodon streaming API: it checks the bearer token and
// hands each stream to the test, which writes server-sent events to it.
type server struct {
	srv   *httptest.Server
	token string
	conns chan *conn

	mu     sync.Mutex
	refuse []refusal // answered, in order, instead of streams
}

type refusal struct {
	status      int
	contentType string
	body        string
}

type conn struct {
	stream string // "hashtag:goconf" or "public"
	send   chan string
	hangup chan struct{}
	gone   chan struct{} // the handler returned
}

func newServer(t *testing.T, token string) *server {
	s := &server{token: token, conns: make(chan *conn, 16)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	var stream string
	switch r.URL.Path {
	case "/api/v1/streaming/hashtag":
		stream = "hashtag:" + r.URL.Query().Get("tag")
	case "/api/v1/streaming/public":
		stream = "public"
	default:
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	var ref *refusal
	if len(s.refuse) > 0 {
		ref = &s.refuse[0]
		s.refuse = s.refuse[1:]
	}
	s.mu.Unlock()
	if ref != nil {
		w.Header().Set("Content-Type", ref.contentType)
		w.WriteHeader(ref.status)
		fmt.Fprint(w, ref.body)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		// Like Mastodon, and quoting what it got, to prove the source
		// scrubs it.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "The access token is invalid: " + r.Header.Get("Authorization")})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ":)\n")
	w.(http.Flusher).Flush()
	c := &conn{stream: stream, send: make(chan string), hangup: make(chan struct{}), gone: make(chan struct{})}
	defer close(c.gone)
	s.conns <- c
	for {
		select {
		case msg := <-c.send:
			fmt.Fprint(w, msg)
			w.(http.Flusher).Flush()
		case <-c.hangup:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// next returns the next stream opened, whichever it is.
func (s *server) next(t *testing.T) *conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no stream opened within 10 s")
		return nil
	}
}

// open waits for n streams and returns them by name.
func (s *server) open(t *testing.T, n int) map[string]*conn {
	t.Helper()
	out := map[string]*conn{}
	for range n {
		c := s.next(t)
		out[c.stream] = c
	}
	return out
}

func (c *conn) write(t *testing.T, msg string) {
	t.Helper()
	select {
	case c.send <- msg:
	case <-c.gone:
		t.Fatalf("stream %s is closed", c.stream)
	case <-time.After(5 * time.Second):
		t.Fatalf("stream %s does not take writes", c.stream)
	}
}

func (c *conn) event(t *testing.T, name, data string) {
	t.Helper()
	c.write(t, "event: "+name+"\ndata: "+data+"\n\n")
}

// status returns the JSON of a status.
func status(id, acct, html string, tags ...string) string {
	var ts []any
	for _, tag := range tags {
		ts = append(ts, map[string]string{"name": tag, "url": "https://mastodon.example/tags/" + tag})
	}
	b, _ := json.Marshal(map[string]any{
		"id": id, "created_at": "2026-11-25T18:00:00.000Z", "content": html, "spoiler_text": "", "language": "en",
		"url": "https://mastodon.example/@" + acct + "/" + id, "uri": "https://mastodon.example/users/" + acct + "/statuses/" + id,
		"account": map[string]any{"username": acct, "acct": acct, "display_name": strings.ToUpper(acct), "avatar_static": "https://mastodon.example/" + acct + ".png"},
		"tags":    ts, "reblog": nil, "visibility": "public",
	})
	return string(b)
}

type sink struct {
	mu     sync.Mutex
	events chan tweet.Event
	states []state
	change chan struct{}
}

type state struct {
	s   tweet.State
	err error
}

func newSink() *sink {
	return &sink{events: make(chan tweet.Event, 100), change: make(chan struct{}, 1)}
}

func (s *sink) Emit(ctx context.Context, ev tweet.Event) error {
	select {
	case s.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *sink) SetState(st tweet.State, err error) {
	s.mu.Lock()
	s.states = append(s.states, state{st, err})
	s.mu.Unlock()
	select {
	case s.change <- struct{}{}:
	default:
	}
}

func (s *sink) last() state {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.states) == 0 {
		return state{}
	}
	return s.states[len(s.states)-1]
}

func (s *sink) waitState(t *testing.T, want tweet.State) state {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if st := s.last(); st.s == want {
			return st
		}
		select {
		case <-s.change:
		case <-deadline:
			t.Fatalf("state never became %s; last %v", want, s.last())
		}
	}
}

func (s *sink) next(t *testing.T) tweet.Event {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
		return tweet.Event{}
	}
}

func (s *sink) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-s.events:
		t.Fatalf("unexpected event %v %s", ev.Kind, ev.ID)
	case <-time.After(d):
	}
}

// syncBuffer is a log destination the source writes from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func logger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var fast = reconnect.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}

func start(t *testing.T, src *mastodon.Source, sk *sink) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, sk) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10 s of cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return stop
}

func host(s *server) string {
	u, _ := url.Parse(s.srv.URL)
	return u.Host
}

// A fake server plays hashtag streams and the public timeline: posts, a
// status on two streams, a post not about the event, a malformed event,
// one over 1 MiB, keep-alives, deletes, and a server-side hang-up.
func TestFollowsHashtagsAndKeywords(t *testing.T) {
	fake := newServer(t, secret)
	var logs syncBuffer
	src, err := mastodon.New(mastodon.Config{URL: fake.srv.URL, Token: secret, Track: []string{"#GoConf", "#gophers", "golang", "#goconf"}, Backoff: fast}, logger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	sk := newSink()
	stop := start(t, src, sk)
	streams := fake.open(t, 3)
	goconf, gophers, public := streams["hashtag:goconf"], streams["hashtag:gophers"], streams["public"]
	if goconf == nil || gophers == nil || public == nil {
		t.Fatalf("streams opened: %v, want hashtag:goconf, hashtag:gophers and public", streams)
	}
	sk.waitState(t, tweet.StateRunning)
	id := func(n string) string { return "mastodon:" + host(fake) + ":" + n }

	goconf.event(t, "update", status("101", "alice", "<p>Hello <a href=\"https://mastodon.example/tags/goconf\" class=\"mention hashtag\">#<span>GoConf</span></a> &amp; all</p>", "goconf"))
	ev := sk.next(t)
	want := tweet.Tweet{
		ID: id("101"), Source: "mastodon", User: "alice", Name: "ALICE", Picture: "https://mastodon.example/alice.png",
		Text: "Hello #GoConf & all", CreatedAt: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Hashtags: []string{"goconf"},
		Lang: "en", URL: "https://mastodon.example/@alice/101",
	}
	if ev.Kind != tweet.KindPost || fmt.Sprint(ev.Tweet) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", ev.Tweet, want)
	}
	// The same status on another stream is not emitted again.
	gophers.event(t, "update", status("101", "alice", "<p>#GoConf #gophers</p>", "goconf", "gophers"))
	public.event(t, "update", status("101", "alice", "<p>#GoConf golang</p>", "goconf"))
	gophers.write(t, ":thump\n")
	gophers.event(t, "update", `{"id":"102","created_at":"not a time"`)
	gophers.event(t, "update", status("103", "bob", "<p>"+strings.Repeat("big ", 300_000)+"</p>", "gophers"))
	public.event(t, "update", status("104", "carol", "<p>nothing about it</p>"))
	public.event(t, "update", status("105", "dave", "<p>I write <b>GoLang</b> daily</p>"))
	if ev := sk.next(t); ev.ID != id("105") {
		t.Errorf("got %s, want only the public post about golang", ev.ID)
	}
	public.event(t, "delete", "999") // a post never shown: the public timeline tells of every deletion
	goconf.event(t, "delete", "101")
	if ev := sk.next(t); ev.Kind != tweet.KindDelete || ev.ID != id("101") {
		t.Errorf("got %v %s, want the delete of 101", ev.Kind, ev.ID)
	}
	gophers.event(t, "delete", "101") // the same delete on another stream
	goconf.event(t, "delete", "42")   // on a hashtag stream: a post shown before a restart, perhaps
	if ev := sk.next(t); ev.Kind != tweet.KindDelete || ev.ID != id("42") {
		t.Errorf("got %v %s, want the delete of 42", ev.Kind, ev.ID)
	}
	goconf.event(t, "status.update", status("101", "alice", "<p>edited</p>", "goconf"))
	sk.none(t, 100*time.Millisecond)

	// The server hangs up one stream: only that one reconnects.
	close(goconf.hangup)
	again := fake.next(t)
	if again.stream != "hashtag:goconf" {
		t.Errorf("reopened %s, want hashtag:goconf", again.stream)
	}
	sk.waitState(t, tweet.StateRunning)
	again.event(t, "update", status("106", "erin", "<p>back</p>", "goconf"))
	if ev := sk.next(t); ev.ID != id("106") {
		t.Errorf("after the reconnect got %s", ev.ID)
	}
	sk.mu.Lock()
	var sawDrop bool
	for _, st := range sk.states {
		sawDrop = sawDrop || (st.s == tweet.StateReconnecting && strings.Contains(st.err.Error(), "closed the #goconf stream"))
	}
	sk.mu.Unlock()
	if !sawDrop {
		t.Errorf("no reconnecting state for the hang-up: %v", sk.states)
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
	var logs syncBuffer
	src, err := mastodon.New(mastodon.Config{URL: fake.srv.URL, Token: secret, Track: []string{"#goconf"}, StallTimeout: 300 * time.Millisecond, Backoff: fast}, logger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	sk := newSink()
	stop := start(t, src, sk)
	c := fake.next(t)
	for range 8 {
		time.Sleep(100 * time.Millisecond)
		c.write(t, ":thump\n")
	}
	select {
	case <-fake.conns:
		t.Fatal("reconnected although keep-alives kept coming")
	default:
	}
	begin := time.Now()
	c = fake.next(t)
	if d := time.Since(begin); d < 200*time.Millisecond {
		t.Errorf("reconnected %v after the last keep-alive, before the stall timeout", d)
	}
	sk.mu.Lock()
	var sawStall bool
	for _, st := range sk.states {
		sawStall = sawStall || (st.s == tweet.StateReconnecting && strings.Contains(st.err.Error(), "not even a keep-alive, for 300ms"))
	}
	sk.mu.Unlock()
	if !sawStall {
		t.Errorf("no reconnecting state for the stall: %v", sk.states)
	}
	stop()
	select {
	case <-c.gone:
	case <-time.After(5 * time.Second):
		t.Error("the stream stayed open after Run returned")
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		refuse []refusal
		fatal  string // "" means retried, then streaming
	}{
		{name: "invalid token", token: "tok-SECRET-wrong", fatal: "refused the access token (401 Unauthorized: The access token is invalid: Bearer [token]): set MASTODON_TOKEN"},
		{name: "no token", token: "", fatal: "requires an access token for streaming (401 Unauthorized: The access token is invalid:): create one"},
		{name: "forbidden", token: secret, refuse: []refusal{{403, "application/json", `{"error":"This action is not allowed"}`}}, fatal: "refused the #goconf stream (403 Forbidden: This action is not allowed): give the token the read:statuses scope"},
		{name: "not found", token: secret, refuse: []refusal{{404, "text/html", "<html>nope</html>"}}, fatal: "answered the #goconf stream with 404 Not Found: check that --mastodon-url is a Mastodon server"},
		{name: "not an event stream", token: secret, refuse: []refusal{{200, "text/html; charset=utf-8", "<html>hi</html>"}}, fatal: `with "text/html", not an event stream`},
		{name: "unavailable is retried", token: secret, refuse: []refusal{{503, "text/plain", "busy"}, {502, "text/plain", "busy"}}},
		{name: "rate limit is retried", token: secret, refuse: []refusal{{429, "application/json", `{"error":"Too many requests"}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newServer(t, secret)
			fake.refuse = tt.refuse
			var logs syncBuffer
			src, err := mastodon.New(mastodon.Config{URL: fake.srv.URL, Token: tt.token, Track: []string{"#goconf"}, Backoff: fast}, logger(&logs))
			if err != nil {
				t.Fatal(err)
			}
			sk := newSink()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx, sk) }()
			if tt.fatal == "" {
				fake.next(t)
				sk.waitState(t, tweet.StateRunning)
				sk.mu.Lock()
				got := sk.states[0]
				sk.mu.Unlock()
				if got.s != tweet.StateReconnecting {
					t.Errorf("first state %v, want reconnecting", got)
				}
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run = %v", err)
				}
				return
			}
			var runErr error
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not stop")
			}
			if runErr == nil || !strings.Contains(runErr.Error(), tt.fatal) || tweet.ErrorCode(runErr) != tweet.EINVALID {
				t.Fatalf("Run = %v\nwant an EINVALID error with %q", runErr, tt.fatal)
			}
			if strings.Count(runErr.Error(), "\n") > 0 {
				t.Errorf("error is not one line: %q", runErr)
			}
			if st := sk.last(); st.s != tweet.StateFailed || st.err != runErr {
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
		u.Scheme, u.Host = "http", strings.Replace(host(streaming), "127.0.0.1", "localhost", 1)
		http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
	}))
	defer front.Close()
	src, err := mastodon.New(mastodon.Config{URL: front.URL, Token: secret, Track: []string{"#goconf"}, Backoff: fast}, logger(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	sk := newSink()
	stop := start(t, src, sk)
	c := streaming.next(t)
	c.event(t, "update", status("7", "alice", "<p>hi</p>", "goconf"))
	// Ids carry the host of --mastodon-url, which is the server that
	// numbered the status.
	if ev := sk.next(t); ev.ID != "mastodon:"+host2(front.URL)+":7" {
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
		name string
		cfg  mastodon.Config
		want string
	}{
		{name: "no track", cfg: mastodon.Config{}, want: "--source mastodon needs --track"},
		{name: "hashtag Mastodon cannot have", cfg: mastodon.Config{Track: []string{"#go-conf"}}, want: `--track "#go-conf" is not a Mastodon hashtag`},
		{name: "not a URL", cfg: mastodon.Config{URL: "mastodon.social", Track: []string{"#go"}}, want: `--mastodon-url "mastodon.social" is not the URL of a server`},
		{name: "URL with a query", cfg: mastodon.Config{URL: "https://m.example/?x=1", Track: []string{"#go"}}, want: "is not the URL of a server"},
		{name: "token with a line break", cfg: mastodon.Config{Token: secret + "\n", Track: []string{"#go"}}, want: "set MASTODON_TOKEN to the token alone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mastodon.New(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tweet.ErrorCode(err) != tweet.EINVALID {
				t.Fatalf("New = %v, want an EINVALID error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}
