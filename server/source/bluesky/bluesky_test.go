package bluesky_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/source/bluesky"
	"github.com/tweetwire/tweetwire/server/source/bluesky/jetstreamtest"
	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newJetstream(t *testing.T) *jetstreamtest.Server {
	js := jetstreamtest.NewServer()
	t.Cleanup(js.Close)
	return js
}

// next waits for the source's next subscription.
func next(t *testing.T, js *jetstreamtest.Server) *jetstreamtest.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := js.Accept(ctx)
	if err != nil {
		t.Fatalf("the source did not connect: %v", err)
	}
	return c
}

func send(t *testing.T, c *jetstreamtest.Conn, msgs ...string) {
	t.Helper()
	if err := c.Send(msgs...); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// postMsg is a Jetstream create of a post.
func postMsg(did, rkey string, timeUS int64, text string, tags ...string) string {
	return jetstreamtest.Post{DID: did, RKey: rkey, TimeUS: timeUS, CreatedAt: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Text: text, Tags: tags}.Message()
}

// appview is a fake public AppView serving getProfile from a map.
func appview(t *testing.T, delay time.Duration, profiles map[string]bluesky.Profile) *httptest.Server {
	srv := jetstreamtest.NewAppView(delay, profiles)
	t.Cleanup(srv.Close)
	return srv
}

// run starts src and returns a function that stops it and returns Run's
// error.
func run(t *testing.T, src *bluesky.Source, sk *sourcetest.Sink) (stop func() error) {
	r := sourcetest.Start(t, context.Background(), src, sk, 10*time.Second)
	return func() error { return r.Stop(t, 10*time.Second) }
}

var fast = reconnect.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}

// t0 is a realistic time_us: the day of the event.
var t0 = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC).UnixMicro()

const (
	alice = "did:plc:alice0000000000000000000"
	bob   = "did:plc:bob000000000000000000000"
)

var quiet = slog.New(slog.DiscardHandler)

// One fake Jetstream plays what the real one sends: posts about the event
// and not, a malformed message, one over 1 MiB, a delete, identity
// updates, a server-side disconnect and a stall; the source emits what the
// wall must show, in order, with profiles, and resumes at its cursor.
func TestFollowsJetstream(t *testing.T) {
	js := newJetstream(t)
	av := appview(t, 0, map[string]bluesky.Profile{
		alice: {Handle: "alice.bsky.social", DisplayName: "Alice ✨", Avatar: "https://cdn.bsky.app/img/avatar/plain/alice.jpg"},
	})
	var logs sourcetest.Logs
	src, err := bluesky.New(bluesky.Config{
		JetstreamURL: js.URL,
		AppViewURL:   av.URL,
		Track:        []string{"#GoConf", "golang"},
		StallTimeout: time.Second,
		Backoff:      fast,
		Logger:       logs.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	sk := &sourcetest.Sink{}
	stop := run(t, src, sk)

	c := next(t, js)
	if got := c.Query.Get("wantedCollections"); got != "app.bsky.feed.post" {
		t.Errorf("wantedCollections = %q", got)
	}
	if c.Query.Has("cursor") {
		t.Errorf("first connection has a cursor: %v", c.Query)
	}
	sk.WaitState(t, tweet.StateRunning)

	huge := postMsg(alice, "3huge", t0+1_000_050, "#goconf "+strings.Repeat("x", 1<<20))
	send(t, c,
		postMsg(alice, "3aaa", t0+1_000_000, "See you at #GoConf!", "GoConf"),
		postMsg(bob, "3bbb", t0+1_000_010, "nothing to see here"),
		`{"did":"did:plc:alice","time_us":1000020000000000,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"3ccc","record":{"text":`,
		huge,
		postMsg(bob, "3ddd", t0+1_000_060, "I write GoLang daily"),
		jetstreamtest.Delete(bob, "3zzz", t0+1_000_070), // a post never shown
		jetstreamtest.Delete(alice, "3aaa", t0+1_000_080),
	)
	ev := sk.Next(t)
	want := tweet.Tweet{
		ID: "bluesky:" + alice + "/3aaa", Source: "bluesky", User: "alice.bsky.social", Name: "Alice ✨",
		Picture: "https://cdn.bsky.app/img/avatar/plain/alice.jpg", Text: "See you at #GoConf!",
		CreatedAt: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Hashtags: []string{"goconf"}, Lang: "en",
		URL:      "https://bsky.app/profile/" + alice + "/post/3aaa",
		Entities: []tweet.Entity{{Kind: "hashtag", Start: 11, End: 18, Href: "https://bsky.app/hashtag/GoConf"}},
	}
	if ev.Kind != tweet.KindPost || fmt.Sprint(ev.Tweet) != fmt.Sprint(want) {
		t.Errorf("first event:\n got %v %+v\nwant %+v", ev.Kind, ev.Tweet, want)
	}
	ev = sk.Next(t)
	if ev.ID != "bluesky:"+bob+"/3ddd" || ev.Tweet.User != bob || ev.Tweet.Name != "" {
		t.Errorf("second event %s by %q %q, want bob's post with his DID as handle (no profile)", ev.ID, ev.Tweet.User, ev.Tweet.Name)
	}
	ev = sk.Next(t)
	if ev.Kind != tweet.KindDelete || ev.ID != "bluesky:"+alice+"/3aaa" {
		t.Errorf("third event %v %s, want the delete of alice's post", ev.Kind, ev.ID)
	}
	sk.None(t, 100*time.Millisecond)

	// The server drops the connection; the source resumes 5 s before the
	// last message it saw, and what it replays is not shown twice.
	c.Close()
	c = next(t, js)
	if got, want := c.Query.Get("cursor"), fmt.Sprint(t0+1_000_080-5_000_000); got != want {
		t.Errorf("reconnect cursor = %q, want %s", got, want)
	}
	send(t, c,
		postMsg(alice, "3aaa", t0+1_000_000, "See you at #GoConf!", "GoConf"), // replayed
		postMsg(bob, "3ddd", t0+1_000_060, "I write GoLang daily"),            // replayed
		postMsg(bob, "3eee", t0+9_000_000, "#goconf day two"),
	)
	if ev := sk.Next(t); ev.ID != "bluesky:"+bob+"/3eee" {
		t.Errorf("after reconnect got %s, want only the new post", ev.ID)
	}
	// Silence: the watchdog drops the connection, the source reconnects
	// with the cursor.
	c = next(t, js)
	if got := c.Query.Get("cursor"); got != fmt.Sprint(t0+9_000_000-5_000_000) {
		t.Errorf("cursor after a stall = %q, want %d", got, t0+9_000_000-5_000_000)
	}
	if !sk.Saw(tweet.StateReconnecting, "sent nothing for 1s") {
		t.Errorf("no reconnecting state for the stall: %v", sk.States())
	}
	if err := stop(); err != nil {
		t.Errorf("Run returned %v after cancel, want nil", err)
	}
	select {
	case <-c.Gone():
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
	src, err := bluesky.New(bluesky.Config{JetstreamURL: js.URL, Track: []string{"#goconf"}, StallTimeout: 300 * time.Millisecond, Backoff: fast, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sk := &sourcetest.Sink{}
	stop := run(t, src, sk)
	c := next(t, js)
	for range 10 {
		if err := c.Ping(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, ok := js.Accepted(); ok {
		t.Fatal("reconnected although pings kept coming")
	}
	if st := sk.Last(); st.State != tweet.StateRunning {
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
		JetstreamURL: js.URL, AppViewURL: av.URL, Track: []string{"#goconf"},
		ProfileWait: 200 * time.Millisecond, Backoff: fast,
		Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	sk := &sourcetest.Sink{}
	stop := run(t, src, sk)
	c := next(t, js)
	start := time.Now()
	for i := range 20 {
		send(t, c, postMsg(fmt.Sprintf("did:plc:author%02d", i), fmt.Sprintf("3p%02d", i), t0+int64(i), "#goconf"))
	}
	for i := range 20 {
		ev := sk.Next(t)
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
		{name: "not found is configuration", status: http.StatusNotFound, fatal: "instead of a Jetstream subscription: check this URL"},
		{name: "unavailable is retried", status: http.StatusServiceUnavailable},
		{name: "rate limited is retried", status: http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := newJetstream(t)
			js.Refuse(tt.status)
			src, err := bluesky.New(bluesky.Config{JetstreamURL: js.URL, Track: []string{"#goconf"}, Backoff: fast, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			sk := &sourcetest.Sink{}
			r := sourcetest.Start(t, context.Background(), src, sk, 10*time.Second)
			if tt.fatal != "" {
				err := r.Wait(t, 10*time.Second)
				if err == nil || !strings.Contains(err.Error(), tt.fatal) || tweet.ErrorCode(err) != tweet.EINVALID {
					t.Fatalf("Run = %v, want an EINVALID error with %q", err, tt.fatal)
				}
				sourcetest.CheckFieldError(t, err, "JetstreamURL", tweet.EINVALID, tt.fatal)
				if st := sk.Last(); st.State != tweet.StateFailed || st.Err != err {
					t.Errorf("last state %v, want failed with Run's error", st)
				}
				return
			}
			c := next(t, js) // the second attempt is let in
			_ = c
			sk.WaitState(t, tweet.StateRunning)
			first := sk.States()[0]
			if first.State != tweet.StateReconnecting || !strings.Contains(first.Err.Error(), fmt.Sprint(tt.status)) {
				t.Errorf("first state %v, want reconnecting with the status", first)
			}
			if err := r.Stop(t, 10*time.Second); err != nil {
				t.Errorf("Run = %v after cancel", err)
			}
		})
	}
}

// Nothing listening is a network error: retried, never fatal.
func TestUnreachableIsRetried(t *testing.T) {
	js := newJetstream(t)
	u := js.URL
	js.Close()
	src, err := bluesky.New(bluesky.Config{JetstreamURL: u, Track: []string{"#goconf"}, Backoff: fast, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sk := &sourcetest.Sink{}
	stop := run(t, src, sk)
	st := sk.WaitState(t, tweet.StateReconnecting)
	if !strings.Contains(st.Err.Error(), "cannot connect to Jetstream") {
		t.Errorf("reconnecting because %v", st.Err)
	}
	time.Sleep(200 * time.Millisecond)
	if st := sk.Last(); st.State != tweet.StateReconnecting {
		t.Errorf("state %v, want still reconnecting", st)
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   bluesky.Config
		field string
		want  string
	}{
		{name: "no track", cfg: bluesky.Config{}, field: "Track", want: "Track: needs keywords or #hashtags"},
		{name: "empty terms", cfg: bluesky.Config{Track: []string{"#", " "}}, field: "Track", want: "Track: needs keywords or #hashtags"},
		{name: "jetstream not a URL", cfg: bluesky.Config{Track: []string{"go"}, JetstreamURL: "jetstream2.us-east.bsky.network"}, field: "JetstreamURL", want: "JetstreamURL: \"jetstream2.us-east.bsky.network\" is not a WebSocket URL"},
		{name: "jetstream with a query", cfg: bluesky.Config{Track: []string{"go"}, JetstreamURL: "wss://j.example/subscribe?cursor=1"}, field: "JetstreamURL", want: "is not a WebSocket URL"},
		{name: "appview not http", cfg: bluesky.Config{Track: []string{"go"}, AppViewURL: "ftp://x"}, field: "AppViewURL", want: "AppViewURL: \"ftp://x\" is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bluesky.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tweet.ErrorCode(err) != tweet.EINVALID {
				t.Fatalf("New = %v, want an EINVALID error with %q", err, tt.want)
			}
			sourcetest.CheckFieldError(t, err, tt.field, tweet.EINVALID)
		})
	}
	for _, ok := range []string{"wss://jetstream2.us-east.bsky.network", "ws://127.0.0.1:1/subscribe", "https://proxy.example/jetstream/"} {
		if _, err := bluesky.New(bluesky.Config{Track: []string{"go"}, JetstreamURL: ok}); err != nil {
			t.Errorf("New(%q) = %v", ok, err)
		}
	}
}

// A node that takes the source over from another starts at that one's
// cursor, so nothing posted during the handover is missed.
func TestResumesFromAnotherCopysCursor(t *testing.T) {
	js := newJetstream(t)
	src, err := bluesky.New(bluesky.Config{JetstreamURL: js.URL, AppViewURL: appview(t, 0, nil).URL, Track: []string{"#goconf"}, StallTimeout: time.Second, Backoff: fast, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if p := src.Position(); p != "" {
		t.Errorf("position before any message = %q, want empty", p)
	}
	src.ResumeFrom("not a cursor")
	src.ResumeFrom(fmt.Sprint(t0 + 2_000_000))
	sk := &sourcetest.Sink{}
	stop := run(t, src, sk)
	c := next(t, js)
	if got, want := c.Query.Get("cursor"), fmt.Sprint(t0+2_000_000-5_000_000); got != want {
		t.Errorf("first connection's cursor = %q, want %s (the other copy's, rewound 5 s)", got, want)
	}
	send(t, c, postMsg(alice, "3new", t0+3_000_000, "#goconf day two", "goconf"))
	if ev := sk.Next(t); ev.ID != "bluesky:"+alice+"/3new" {
		t.Errorf("got %s", ev.ID)
	}
	if p := src.Position(); p != fmt.Sprint(t0+3_000_000) {
		t.Errorf("position = %q, want the newest time_us %d", p, t0+3_000_000)
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v", err)
	}
}
