package bluesky_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/source/bluesky"
	"github.com/tweetwire/tweetwire/server/source/reconnect"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// jetstream is a fake Jetstream: a WebSocket endpoint at /subscribe that
// hands each connection to the test.
type jetstream struct {
	srv   *httptest.Server
	conns chan *jsConn
	// refuse, when set, is the status answered instead of the upgrade.
	mu     sync.Mutex
	refuse []int
}

type jsConn struct {
	query  url.Values
	ws     *websocket.Conn
	closed chan struct{} // the client went away
}

func newJetstream(t *testing.T) *jetstream {
	js := &jetstream{conns: make(chan *jsConn, 16)}
	up := websocket.Upgrader{}
	js.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/subscribe" {
			http.NotFound(w, r)
			return
		}
		js.mu.Lock()
		var status int
		if len(js.refuse) > 0 {
			status, js.refuse = js.refuse[0], js.refuse[1:]
		}
		js.mu.Unlock()
		if status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &jsConn{query: r.URL.Query(), ws: ws, closed: make(chan struct{})}
		js.conns <- c
		// The test writes; this goroutine reads, which answers pings and
		// notices the client closing.
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
		}
		ws.Close()
		close(c.closed)
	}))
	t.Cleanup(js.srv.Close)
	return js
}

func (js *jetstream) url() string { return "ws" + strings.TrimPrefix(js.srv.URL, "http") }

func (js *jetstream) next(t *testing.T) *jsConn {
	t.Helper()
	select {
	case c := <-js.conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the source did not connect")
		return nil
	}
}

func (c *jsConn) send(t *testing.T, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

// postMsg is a Jetstream create of a post.
func postMsg(did, rkey string, timeUS int64, text string, tags ...string) string {
	var facets []any
	for _, tag := range tags {
		facets = append(facets, map[string]any{
			"features": []any{map[string]any{"$type": "app.bsky.richtext.facet#tag", "tag": tag}},
			"index":    map[string]any{"byteStart": 0, "byteEnd": 1},
		})
	}
	b, _ := json.Marshal(map[string]any{
		"did": did, "time_us": timeUS, "kind": "commit",
		"commit": map[string]any{
			"rev": "3l3qo2vutsw2b", "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey, "cid": "bafyrei",
			"record": map[string]any{"$type": "app.bsky.feed.post", "createdAt": "2026-11-25T18:00:00.000Z", "langs": []string{"en"}, "text": text, "facets": facets},
		},
	})
	return string(b)
}

func deleteMsg(did, rkey string, timeUS int64) string {
	return fmt.Sprintf(`{"did":%q,"time_us":%d,"kind":"commit","commit":{"rev":"3l3","operation":"delete","collection":"app.bsky.feed.post","rkey":%q}}`, did, timeUS, rkey)
}

// appview is a fake public AppView serving getProfile from a map.
func appview(t *testing.T, delay time.Duration, profiles map[string]bluesky.Profile) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/xrpc/app.bsky.actor.getProfile" {
			http.NotFound(w, r)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		p, ok := profiles[r.URL.Query().Get("actor")]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"InvalidRequest","message":"Profile not found"}`)
			return
		}
		json.NewEncoder(w).Encode(p)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// sink records what the source emits and says.
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

// run starts src and returns a function that stops it and returns Run's
// error.
func run(t *testing.T, src *bluesky.Source, sk *sink) (stop func() error) {
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

var fast = reconnect.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}

// t0 is a realistic time_us: the day of the event.
var t0 = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC).UnixMicro()

const (
	alice = "did:plc:alice0000000000000000000"
	bob   = "did:plc:bob000000000000000000000"
)

func quietLog(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// One fake Jetstream plays what the real one sends: posts about the event
// and not, a malformed message, one over 1 MiB, a delete, identity
// updates, a server-side disconnect and a stall; the source emits what the
// wall must show, in order, with profiles, and resumes at its cursor.
func TestFollowsJetstream(t *testing.T) {
	js := newJetstream(t)
	av := appview(t, 0, map[string]bluesky.Profile{
		alice: {Handle: "alice.bsky.social", DisplayName: "Alice ✨", Avatar: "https://cdn.bsky.app/img/avatar/plain/alice.jpg"},
	})
	var logs bytes.Buffer
	src, err := bluesky.New(bluesky.Config{
		JetstreamURL: js.url(),
		AppViewURL:   av.URL,
		Track:        []string{"#GoConf", "golang"},
		StallTimeout: 300 * time.Millisecond,
		Backoff:      fast,
	}, quietLog(&logs))
	if err != nil {
		t.Fatal(err)
	}
	sk := newSink()
	stop := run(t, src, sk)

	c := js.next(t)
	if got := c.query.Get("wantedCollections"); got != "app.bsky.feed.post" {
		t.Errorf("wantedCollections = %q", got)
	}
	if c.query.Has("cursor") {
		t.Errorf("first connection has a cursor: %v", c.query)
	}
	sk.waitState(t, tweet.StateRunning)

	huge := postMsg(alice, "3huge", t0+1_000_050, "#goconf "+strings.Repeat("x", 1<<20))
	c.send(t,
		postMsg(alice, "3aaa", t0+1_000_000, "See you at #GoConf!", "GoConf"),
		postMsg(bob, "3bbb", t0+1_000_010, "nothing to see here"),
		`{"did":"did:plc:alice","time_us":1000020000000000,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"3ccc","record":{"text":`,
		huge,
		postMsg(bob, "3ddd", t0+1_000_060, "I write GoLang daily"),
		deleteMsg(bob, "3zzz", t0+1_000_070), // a post never shown
		deleteMsg(alice, "3aaa", t0+1_000_080),
	)
	ev := sk.next(t)
	want := tweet.Tweet{
		ID: "bluesky:" + alice + "/3aaa", Source: "bluesky", User: "alice.bsky.social", Name: "Alice ✨",
		Picture: "https://cdn.bsky.app/img/avatar/plain/alice.jpg", Text: "See you at #GoConf!",
		CreatedAt: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Hashtags: []string{"goconf"}, Lang: "en",
		URL: "https://bsky.app/profile/" + alice + "/post/3aaa",
	}
	if ev.Kind != tweet.KindPost || fmt.Sprint(ev.Tweet) != fmt.Sprint(want) {
		t.Errorf("first event:\n got %v %+v\nwant %+v", ev.Kind, ev.Tweet, want)
	}
	ev = sk.next(t)
	if ev.ID != "bluesky:"+bob+"/3ddd" || ev.Tweet.User != bob || ev.Tweet.Name != "" {
		t.Errorf("second event %s by %q %q, want bob's post with his DID as handle (no profile)", ev.ID, ev.Tweet.User, ev.Tweet.Name)
	}
	ev = sk.next(t)
	if ev.Kind != tweet.KindDelete || ev.ID != "bluesky:"+alice+"/3aaa" {
		t.Errorf("third event %v %s, want the delete of alice's post", ev.Kind, ev.ID)
	}
	sk.none(t, 100*time.Millisecond)

	// The server drops the connection; the source resumes 5 s before the
	// last message it saw, and what it replays is not shown twice.
	c.ws.Close()
	c = js.next(t)
	if got, want := c.query.Get("cursor"), fmt.Sprint(t0+1_000_080-5_000_000); got != want {
		t.Errorf("reconnect cursor = %q, want %s", got, want)
	}
	c.send(t,
		postMsg(alice, "3aaa", t0+1_000_000, "See you at #GoConf!", "GoConf"), // replayed
		postMsg(bob, "3ddd", t0+1_000_060, "I write GoLang daily"),            // replayed
		postMsg(bob, "3eee", t0+9_000_000, "#goconf day two"),
	)
	if ev := sk.next(t); ev.ID != "bluesky:"+bob+"/3eee" {
		t.Errorf("after reconnect got %s, want only the new post", ev.ID)
	}
	// Silence: the watchdog drops the connection, the source reconnects
	// with the cursor.
	c = js.next(t)
	if got := c.query.Get("cursor"); got != fmt.Sprint(t0+9_000_000-5_000_000) {
		t.Errorf("cursor after a stall = %q, want %d", got, t0+9_000_000-5_000_000)
	}
	sk.mu.Lock()
	var sawStall bool
	for _, st := range sk.states {
		if st.s == tweet.StateReconnecting && st.err != nil && strings.Contains(st.err.Error(), "sent nothing for 300ms") {
			sawStall = true
		}
	}
	sk.mu.Unlock()
	if !sawStall {
		t.Errorf("no reconnecting state for the stall: %v", sk.states)
	}
	if err := stop(); err != nil {
		t.Errorf("Run returned %v after cancel, want nil", err)
	}
	select {
	case <-c.closed:
	case <-time.After(5 * time.Second):
		t.Error("the connection stayed open after Run returned")
	}
	for _, want := range []string{"skipping a malformed message", "skipping a message larger than 1 MiB"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// Pings are keep-alives: a connection that only pings is not stalled.
func TestPingsKeepTheConnection(t *testing.T) {
	js := newJetstream(t)
	src, err := bluesky.New(bluesky.Config{JetstreamURL: js.url(), Track: []string{"#goconf"}, StallTimeout: 300 * time.Millisecond, Backoff: fast}, quietLog(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	sk := newSink()
	stop := run(t, src, sk)
	c := js.next(t)
	for range 10 {
		if err := c.ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-js.conns:
		t.Fatal("reconnected although pings kept coming")
	default:
	}
	if st := sk.last(); st.s != tweet.StateRunning {
		t.Errorf("state %v, want running", st)
	}
	stop()
}

// A post waits for its author's profile no longer than ProfileWait, and
// the posts behind it are not held up longer.
func TestSlowAppViewDoesNotHoldUpTheStream(t *testing.T) {
	js := newJetstream(t)
	av := appview(t, time.Hour, nil)
	src, err := bluesky.New(bluesky.Config{
		JetstreamURL: js.url(), AppViewURL: av.URL, Track: []string{"#goconf"},
		ProfileWait: 200 * time.Millisecond, Backoff: fast,
	}, quietLog(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	sk := newSink()
	stop := run(t, src, sk)
	c := js.next(t)
	start := time.Now()
	for i := range 20 {
		c.send(t, postMsg(fmt.Sprintf("did:plc:author%02d", i), fmt.Sprintf("3p%02d", i), t0+int64(i), "#goconf"))
	}
	for i := range 20 {
		ev := sk.next(t)
		if want := fmt.Sprintf("did:plc:author%02d", i); ev.Tweet.User != want {
			t.Errorf("post %d by %q, want %q in arrival order", i, ev.Tweet.User, want)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("20 posts took %v with a hanging AppView; want about one ProfileWait", d)
	}
	stop()
}

func TestHandshakeRefusals(t *testing.T) {
	tests := []struct {
		name   string
		status int
		fatal  string // "" means retried
	}{
		{name: "forbidden is configuration", status: http.StatusForbidden, fatal: "refused the connection (403 Forbidden), though Jetstream needs no credentials"},
		{name: "unauthorized is configuration", status: http.StatusUnauthorized, fatal: "refused the connection (401 Unauthorized)"},
		{name: "not found is configuration", status: http.StatusNotFound, fatal: "instead of a Jetstream subscription: check --bluesky-jetstream-url"},
		{name: "unavailable is retried", status: http.StatusServiceUnavailable},
		{name: "rate limited is retried", status: http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := newJetstream(t)
			js.refuse = []int{tt.status}
			src, err := bluesky.New(bluesky.Config{JetstreamURL: js.url(), Track: []string{"#goconf"}, Backoff: fast}, quietLog(&bytes.Buffer{}))
			if err != nil {
				t.Fatal(err)
			}
			sk := newSink()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx, sk) }()
			if tt.fatal != "" {
				var err error
				select {
				case err = <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("Run did not return")
				}
				if err == nil || !strings.Contains(err.Error(), tt.fatal) || tweet.ErrorCode(err) != tweet.EINVALID {
					t.Fatalf("Run = %v, want an EINVALID error with %q", err, tt.fatal)
				}
				if st := sk.last(); st.s != tweet.StateFailed || st.err != err {
					t.Errorf("last state %v, want failed with Run's error", st)
				}
				return
			}
			c := js.next(t) // the second attempt is let in
			_ = c
			sk.waitState(t, tweet.StateRunning)
			sk.mu.Lock()
			first := sk.states[0]
			sk.mu.Unlock()
			if first.s != tweet.StateReconnecting || !strings.Contains(first.err.Error(), fmt.Sprint(tt.status)) {
				t.Errorf("first state %v, want reconnecting with the status", first)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v after cancel", err)
			}
		})
	}
}

// Nothing listening is a network error: retried, never fatal.
func TestUnreachableIsRetried(t *testing.T) {
	js := newJetstream(t)
	u := js.url()
	js.srv.Close()
	src, err := bluesky.New(bluesky.Config{JetstreamURL: u, Track: []string{"#goconf"}, Backoff: fast}, quietLog(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	sk := newSink()
	stop := run(t, src, sk)
	st := sk.waitState(t, tweet.StateReconnecting)
	if !strings.Contains(st.err.Error(), "cannot connect to Jetstream") {
		t.Errorf("reconnecting because %v", st.err)
	}
	time.Sleep(200 * time.Millisecond)
	if st := sk.last(); st.s != tweet.StateReconnecting {
		t.Errorf("state %v, want still reconnecting", st)
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  bluesky.Config
		want string
	}{
		{name: "no track", cfg: bluesky.Config{}, want: "--source bluesky needs --track"},
		{name: "empty terms", cfg: bluesky.Config{Track: []string{"#", " "}}, want: "needs --track"},
		{name: "jetstream not a URL", cfg: bluesky.Config{Track: []string{"go"}, JetstreamURL: "jetstream2.us-east.bsky.network"}, want: "--bluesky-jetstream-url \"jetstream2.us-east.bsky.network\" is not a WebSocket URL"},
		{name: "jetstream with a query", cfg: bluesky.Config{Track: []string{"go"}, JetstreamURL: "wss://j.example/subscribe?cursor=1"}, want: "is not a WebSocket URL"},
		{name: "appview not http", cfg: bluesky.Config{Track: []string{"go"}, AppViewURL: "ftp://x"}, want: "--bluesky-appview-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bluesky.New(tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tweet.ErrorCode(err) != tweet.EINVALID {
				t.Fatalf("New = %v, want an EINVALID error with %q", err, tt.want)
			}
		})
	}
	for _, ok := range []string{"wss://jetstream2.us-east.bsky.network", "ws://127.0.0.1:1/subscribe", "https://proxy.example/jetstream/"} {
		if _, err := bluesky.New(bluesky.Config{Track: []string{"go"}, JetstreamURL: ok}, nil); err != nil {
			t.Errorf("New(%q) = %v", ok, err)
		}
	}
}
