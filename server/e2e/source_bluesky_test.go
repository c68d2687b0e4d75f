package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// jetstreamFake is a Jetstream on loopback: a WebSocket endpoint at
// /subscribe, as the real service has, that hands each connection to the
// test, and a public AppView answering getProfile.
type jetstreamFake struct {
	srv     *httptest.Server
	appview *httptest.Server
	conns   chan *jetstreamConn

	mu       sync.Mutex
	refuse   []int // statuses answered, in order, instead of upgrading
	requests int
}

type jetstreamConn struct {
	query url.Values
	ws    *websocket.Conn
	gone  chan struct{} // the client closed or dropped the connection
}

func newJetstreamFake(t *testing.T, profiles map[string]map[string]string) *jetstreamFake {
	t.Helper()
	f := &jetstreamFake{conns: make(chan *jetstreamConn, 8)}
	up := websocket.Upgrader{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/subscribe" {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		f.requests++
		var status int
		if len(f.refuse) > 0 {
			status, f.refuse = f.refuse[0], f.refuse[1:]
		}
		f.mu.Unlock()
		if status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &jetstreamConn{query: r.URL.Query(), ws: ws, gone: make(chan struct{})}
		f.conns <- c
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
		}
		ws.Close()
		close(c.gone)
	}))
	t.Cleanup(f.srv.Close)
	f.appview = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := profiles[r.URL.Query().Get("actor")]
		if r.URL.Path != "/xrpc/app.bsky.actor.getProfile" || !ok {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"InvalidRequest","message":"Profile not found"}`)
			return
		}
		json.NewEncoder(w).Encode(p)
	}))
	t.Cleanup(f.appview.Close)
	return f
}

func (f *jetstreamFake) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") }

func (f *jetstreamFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *jetstreamFake) next(t *testing.T, srv *server, what string) *jetstreamConn {
	t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(20 * time.Second):
		t.Fatalf("the server never opened %s\nserver log:\n%s", what, srv.logs)
		return nil
	}
}

func (c *jetstreamConn) send(t *testing.T, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatalf("write to the server: %v", err)
		}
	}
}

// pings sends a WebSocket ping every 200 ms, the only thing a quiet
// connection carries, until the returned function is called.
func (c *jetstreamConn) pings() (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) != nil {
					return
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// jetstreamT0 is the time_us of the first message: the event's day.
var jetstreamT0 = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// jetstreamPost is a Jetstream commit creating a post n seconds into the
// event; tag, when set, is in a tag facet.
func jetstreamPost(did, rkey string, n int, text, tag string) string {
	at := jetstreamT0.Add(time.Duration(n) * time.Second)
	rec := map[string]any{"$type": "app.bsky.feed.post", "createdAt": at.Format(time.RFC3339Nano), "langs": []string{"en"}, "text": text}
	if tag != "" {
		rec["facets"] = []any{map[string]any{
			"index":    map[string]any{"byteStart": 0, "byteEnd": len(tag) + 1},
			"features": []any{map[string]any{"$type": "app.bsky.richtext.facet#tag", "tag": tag}},
		}}
	}
	b, _ := json.Marshal(map[string]any{
		"did": did, "time_us": at.UnixMicro(), "kind": "commit",
		"commit": map[string]any{"rev": "3l3qo2vutsw2b", "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey, "record": rec, "cid": "bafyreid"},
	})
	return string(b)
}

func jetstreamDelete(did, rkey string, n int) string {
	return fmt.Sprintf(`{"did":%q,"time_us":%d,"kind":"commit","commit":{"rev":"3l3","operation":"delete","collection":"app.bsky.feed.post","rkey":%q}}`,
		did, jetstreamT0.Add(time.Duration(n)*time.Second).UnixMicro(), rkey)
}

// waitForIDs waits until the first client has seen every id in want.
func waitForIDs(t *testing.T, c *clients, want ...string) {
	t.Helper()
	c.waitUntil(strings.Join(want, ", "), 20*time.Second, func(evs []clientEvent) bool {
		got := received(evs)[0]
		for _, id := range want {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	})
}

// postByID is the post with the given id as the clients received it, live
// or in a backlog.
func postByID(evs []clientEvent, id string) (post, bool) {
	for _, e := range evs {
		var ps []post
		switch e.Event {
		case "tweet":
			var p post
			_ = json.Unmarshal(e.Data, &p)
			ps = append(ps, p)
		case "backlog":
			_ = json.Unmarshal(e.Data, &ps)
		}
		for _, p := range ps {
			if p.ID == id {
				return p, true
			}
		}
	}
	return post{}, false
}

const (
	jetstreamAlice = "did:plc:e2ealice00000000000000000"
	jetstreamBob   = "did:plc:e2ebob0000000000000000000"
)

// A real server follows a fake Jetstream through what the service does:
// posts about the event and not, a malformed message, one over 1 MiB,
// pings only, a stall, a disconnect and a delete; it resumes at its cursor
// each time, and the clients see each post once, with its author's
// profile.
func TestBlueskySourceEndToEnd(t *testing.T) {
	t.Parallel()
	fake := newJetstreamFake(t, map[string]map[string]string{
		jetstreamAlice: {"did": jetstreamAlice, "handle": "alice.bsky.social", "displayName": "Alice", "avatar": "https://cdn.bsky.app/img/avatar/plain/alice.jpg"},
	})
	srv := startServer(t, "--source", "bluesky", "--track", "#GoConf,golang",
		"--bluesky-jetstream-url", fake.url(), "--bluesky-appview-url", fake.appview.URL, "--bluesky-stall-timeout", "1s",
		"--backlog", "100", "--log-level", "debug")
	c := startClients(t, srv.URL, "--transports", "websocket")
	conn := fake.next(t, srv, "the subscription")
	if got := conn.query.Get("wantedCollections"); got != "app.bsky.feed.post" {
		t.Errorf("wantedCollections = %q", got)
	}
	if conn.query.Has("cursor") {
		t.Errorf("the first subscription has a cursor: %v", conn.query)
	}
	srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	stop := conn.pings()
	alice := "bluesky:" + jetstreamAlice + "/3aaa"
	bob := "bluesky:" + jetstreamBob + "/3bbb"
	carol := "bluesky:" + jetstreamBob + "/3ccc"

	t.Log("posts, with one not about the event, a malformed message and one over 1 MiB among them")
	conn.send(t,
		jetstreamPost(jetstreamAlice, "3aaa", 1, "See you at #GoConf", "GoConf"),
		jetstreamPost(jetstreamBob, "3zzz", 2, "lunch", ""),
		`{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{`,
		jetstreamPost(jetstreamBob, "3big", 3, "#goconf "+strings.Repeat("x", 1<<20), "goconf"),
		jetstreamPost(jetstreamBob, "3bbb", 4, "I write golang daily", ""),
	)
	waitForIDs(t, c, alice, bob)
	if p, _ := postByID(c.snapshot(), alice); p.User != "alice.bsky.social" || p.Name != "Alice" || p.Picture != "https://cdn.bsky.app/img/avatar/plain/alice.jpg" || p.Source != "bluesky" ||
		p.URL != "https://bsky.app/profile/"+jetstreamAlice+"/post/3aaa" {
		t.Errorf("alice's post reached the client as %+v", p)
	}
	if p, _ := postByID(c.snapshot(), bob); p.User != jetstreamBob {
		t.Errorf("bob, who has no profile, is %q; want his DID", p.User)
	}

	t.Log("pings only, for longer than the stall timeout: the connection stays")
	time.Sleep(2500 * time.Millisecond)
	if n := fake.count(); n != 1 {
		t.Fatalf("%d connections: pings did not keep the connection\nserver log:\n%s", n, srv.logs)
	}

	t.Log("silence: a stall, then a subscription from the cursor")
	stop()
	conn = fake.next(t, srv, "a subscription after the stall")
	wantCursor := fmt.Sprint(jetstreamT0.Add(4*time.Second - 5*time.Second).UnixMicro())
	if got := conn.query.Get("cursor"); got != wantCursor {
		t.Errorf("cursor after the stall = %q, want %s (the last time_us, 5 s back)", got, wantCursor)
	}
	stop = conn.pings()
	// Jetstream replays from the cursor: what the wall showed is not
	// shown again.
	conn.send(t, jetstreamPost(jetstreamBob, "3bbb", 4, "I write golang daily", ""))

	t.Log("the server closes the connection: a subscription from the cursor, and a delete")
	stop()
	conn.ws.Close()
	conn = fake.next(t, srv, "a subscription after the disconnect")
	if got := conn.query.Get("cursor"); got != wantCursor {
		t.Errorf("cursor after the disconnect = %q, want %s", got, wantCursor)
	}
	stop = conn.pings()
	defer stop()
	conn.send(t, jetstreamDelete(jetstreamAlice, "3aaa", 5), jetstreamPost(jetstreamBob, "3ccc", 6, "#goconf day two", "goconf"))
	waitForIDs(t, c, carol)
	c.waitUntil("the delete", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "delete") == 1 })

	if got := received(c.snapshot())[0]; strings.Join(got, ",") != strings.Join([]string{alice, bob, carol}, ",") {
		t.Errorf("the client saw %v, want %v once each", got, []string{alice, bob, carol})
	}
	if ids := storedIDs(t, srv.URL); strings.Join(ids, ",") != carol+","+bob {
		t.Errorf("/api/tweets = %v, want %s and %s: the deleted post is gone", ids, carol, bob)
	}
	srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	logs := srv.logs.String()
	for _, want := range []string{"skipping a malformed message", "skipping a message larger than 1 MiB", "Jetstream sent nothing for 1s", "the connection to Jetstream dropped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not mention %q", want)
		}
	}
}

// A handshake refusal means the URL does not lead to Jetstream, which
// needs no credentials: the source stops with one sentence in the log and
// /healthz, and does not retry.
func TestBlueskyRefusedSubscription(t *testing.T) {
	t.Parallel()
	fake := newJetstreamFake(t, nil)
	fake.mu.Lock()
	fake.refuse = []int{http.StatusForbidden}
	fake.mu.Unlock()
	srv := startServer(t, "--source", "bluesky", "--track", "#GoConf", "--bluesky-jetstream-url", fake.url())
	h := srv.waitHealth(t, "the source failed", func(h map[string]any) bool { return sourceState(h) == "failed" })
	msg := h["source"].(map[string]any)["error"].(string)
	for _, want := range []string{"403 Forbidden", "check --bluesky-jetstream-url"} {
		if !strings.Contains(msg, want) {
			t.Errorf("/healthz error %q lacks %q", msg, want)
		}
	}
	if strings.Count(msg, "\n") > 0 {
		t.Errorf("/healthz error is not one sentence: %q", msg)
	}
	time.Sleep(1500 * time.Millisecond) // a retry would come now
	if n := fake.count(); n != 1 {
		t.Errorf("%d subscriptions, want 1: no retry after a refusal", n)
	}
	if logs := srv.logs.String(); !strings.Contains(logs, "source stopped") || !strings.Contains(logs, "403 Forbidden") {
		t.Errorf("the log does not say the source stopped and why:\n%s", logs)
	}
}

// Bad configuration stops the server at start with one sentence.
func TestBlueskyBadConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no track", args: nil, want: "--source bluesky needs --track"},
		{name: "not a WebSocket URL", args: []string{"--track", "go", "--bluesky-jetstream-url", "ftp://x"}, want: "is not a WebSocket URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, append([]string{"--source", "bluesky", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, tt.args...)...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the server started:\n%s", out)
			}
			if !strings.Contains(string(out), tt.want) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
				t.Errorf("output %q, want one line with %q", out, tt.want)
			}
		})
	}
}
