package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// mastodonToken is recognisable, so that a test can look for it wherever
// it must not be.
const mastodonToken = "e2e-MASTODON-TOKEN-5e7b"

// mastodonFake is a Mastodon streaming API on loopback: it checks the
// bearer token and hands each stream to the test, which writes
// server-sent events to it.
type mastodonFake struct {
	srv   *httptest.Server
	token string
	conns chan *mastodonStream

	mu       sync.Mutex
	requests int
}

type mastodonStream struct {
	name   string // "hashtag:goconf" or "public"
	send   chan string
	hangup chan struct{}
	gone   chan struct{}
}

func newMastodonFake(t *testing.T, token string) *mastodonFake {
	t.Helper()
	f := &mastodonFake{token: token, conns: make(chan *mastodonStream, 8)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var name string
		switch r.URL.Path {
		case "/api/v1/streaming/hashtag":
			name = "hashtag:" + r.URL.Query().Get("tag")
		case "/api/v1/streaming/public":
			name = "public"
		default:
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		f.requests++
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			// Mastodon's answer, quoting what it got, to prove the server
			// scrubs it.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "The access token is invalid (" + r.Header.Get("Authorization") + ")"})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, ":)\n")
		w.(http.Flusher).Flush()
		s := &mastodonStream{name: name, send: make(chan string), hangup: make(chan struct{}), gone: make(chan struct{})}
		defer close(s.gone)
		f.conns <- s
		for {
			select {
			case msg := <-s.send:
				fmt.Fprint(w, msg)
				w.(http.Flusher).Flush()
			case <-s.hangup:
				return
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *mastodonFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// open waits for n streams and returns them by name.
func (f *mastodonFake) open(t *testing.T, srv *server, n int) map[string]*mastodonStream {
	t.Helper()
	out := map[string]*mastodonStream{}
	for range n {
		select {
		case s := <-f.conns:
			out[s.name] = s
		case <-time.After(20 * time.Second):
			t.Fatalf("the server opened %d of %d streams\nserver log:\n%s", len(out), n, srv.logs)
		}
	}
	return out
}

func (s *mastodonStream) write(t *testing.T, msg string) {
	t.Helper()
	select {
	case s.send <- msg:
	case <-s.gone:
		t.Fatalf("the %s stream is closed", s.name)
	case <-time.After(10 * time.Second):
		t.Fatalf("the %s stream takes no writes", s.name)
	}
}

func (s *mastodonStream) event(t *testing.T, name, data string) {
	t.Helper()
	s.write(t, "event: "+name+"\ndata: "+data+"\n\n")
}

// thumps sends Mastodon's ":thump" keep-alive every 200 ms until the
// returned function is called.
func (s *mastodonStream) thumps() (stop func()) {
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
				select {
				case s.send <- ":thump\n":
				case <-s.gone:
					return
				case <-done:
					return
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// mastodonStatus is a Status as the streaming API sends it, n seconds into
// the event.
func mastodonStatus(id, acct string, n int, html string, tags ...string) string {
	ts := []any{}
	for _, tag := range tags {
		ts = append(ts, map[string]string{"name": tag, "url": "https://mastodon.example/tags/" + tag})
	}
	b, _ := json.Marshal(map[string]any{
		"id": id, "created_at": time.Date(2026, 11, 25, 18, 0, n, 0, time.UTC).Format(time.RFC3339Nano),
		"content": html, "spoiler_text": "", "language": "en", "visibility": "public", "sensitive": false,
		"url": "https://mastodon.example/@" + acct + "/" + id, "uri": "https://mastodon.example/users/" + acct + "/statuses/" + id,
		"account": map[string]any{"id": "1", "username": acct, "acct": acct, "display_name": strings.ToUpper(acct[:1]) + acct[1:],
			"avatar": "https://mastodon.example/" + acct + ".gif", "avatar_static": "https://mastodon.example/" + acct + ".png"},
		"tags": ts, "reblog": nil, "media_attachments": []any{}, "mentions": []any{}, "emojis": []any{},
	})
	return string(b)
}

// noSecret fails when secret appears in the log or in /healthz.
func noSecret(t *testing.T, logs string, health map[string]any, secret string) {
	t.Helper()
	hb, _ := json.Marshal(health)
	if strings.Contains(logs, secret) {
		t.Errorf("the log contains the secret %q", secret)
	}
	if strings.Contains(string(hb), secret) {
		t.Errorf("/healthz contains the secret %q", secret)
	}
}

// A real server follows a fake Mastodon: a hashtag stream and the public
// timeline for a keyword, a status on both, posts not about the event, a
// malformed event, one over 1 MiB, keep-alives, a stall, a hang-up and a
// delete; the clients see each post once, as plain text.
func TestMastodonSourceEndToEnd(t *testing.T) {
	t.Parallel()
	fake := newMastodonFake(t, mastodonToken)
	srv := startServer(t, "--source", "mastodon", "--track", "#GoConf,golang",
		"--mastodon-url", fake.srv.URL, "--mastodon-token", mastodonToken, "--mastodon-stall-timeout", "1s",
		"--backlog", "100", "--log-level", "debug")
	c := startClients(t, srv.URL, "--transports", "websocket")
	streams := fake.open(t, srv, 2)
	tag, public := streams["hashtag:goconf"], streams["public"]
	if tag == nil || public == nil {
		t.Fatalf("streams %v, want hashtag:goconf and public", streams)
	}
	srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	stopTag, stopPublic := tag.thumps(), public.thumps()
	host := strings.TrimPrefix(fake.srv.URL, "http://")
	id := func(n string) string { return "mastodon:" + host + ":" + n }

	t.Log("posts, the same status on both streams, one not about the event, a malformed event and one over 1 MiB")
	s101 := mastodonStatus("101", "alice", 1, `<p>See you at <a href="https://mastodon.example/tags/goconf" class="mention hashtag" rel="tag">#<span>GoConf</span></a> &amp; after, golang fans</p><p>Bring <a href="https://go.dev/doc/tutorial"><span class="invisible">https://</span><span class="">go.dev/doc/tutorial</span></a></p>`, "goconf")
	tag.event(t, "update", s101)
	public.event(t, "update", s101)
	public.event(t, "update", mastodonStatus("102", "bob", 2, "<p>lunch</p>"))
	public.event(t, "update", `{"id":"103","created_at":`)
	tag.event(t, "update", mastodonStatus("104", "bob", 3, "<p>"+strings.Repeat("#goconf ", 150_000)+"</p>", "goconf"))
	public.event(t, "update", mastodonStatus("105", "carol", 4, "<p>I write <em>GoLang</em> daily</p>"))
	waitForIDs(t, c, id("101"), id("105"))
	p, _ := postByID(c.snapshot(), id("101"))
	if p.Text != "See you at #GoConf & after, golang fans\n\nBring https://go.dev/doc/tutorial" || p.User != "alice" || p.Name != "Alice" ||
		p.Picture != "https://mastodon.example/alice.png" || p.URL != "https://mastodon.example/@alice/101" || p.Source != "mastodon" {
		t.Errorf("the client got %+v", p)
	}

	t.Log("keep-alives only, for longer than the stall timeout: the streams stay")
	time.Sleep(2500 * time.Millisecond)
	if n := fake.count(); n != 2 {
		t.Fatalf("%d stream requests: keep-alives did not keep the streams\nserver log:\n%s", n, srv.logs)
	}

	t.Log("silence on the public timeline: a stall, and that stream alone comes back")
	stopPublic()
	again := fake.open(t, srv, 1)
	if public = again["public"]; public == nil {
		t.Fatalf("reopened %v, want the public stream", again)
	}
	stopPublic = public.thumps()
	defer func() { stopPublic() }()

	t.Log("the server hangs up the hashtag stream: it comes back, and a delete")
	stopTag()
	close(tag.hangup)
	again = fake.open(t, srv, 1)
	if tag = again["hashtag:goconf"]; tag == nil {
		t.Fatalf("reopened %v, want the hashtag stream", again)
	}
	stopTag = tag.thumps()
	defer func() { stopTag() }()
	tag.event(t, "delete", "101")
	tag.event(t, "update", mastodonStatus("106", "dave", 6, "<p>day two <a href=\"https://mastodon.example/tags/goconf\">#<span>goconf</span></a></p>", "goconf"))
	waitForIDs(t, c, id("106"))
	c.waitUntil("the delete", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "delete") == 1 })

	want := []string{id("101"), id("105"), id("106")}
	if got := received(c.snapshot())[0]; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the client saw %v, want %v once each", got, want)
	}
	if ids := storedIDs(t, srv.URL); strings.Join(ids, ",") != id("106")+","+id("105") {
		t.Errorf("/api/tweets = %v, want 106 and 105: the deleted post is gone", ids)
	}
	h := srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	logs := srv.logs.String()
	for _, want := range []string{"skipping a malformed event", "skipping an event larger than 1 MiB", "not even a keep-alive, for 1s", "closed the #goconf stream"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not mention %q", want)
		}
	}
	noSecret(t, logs, h, mastodonToken)
}

// A token from the environment that the server refuses stops the source
// with one sentence in the log and /healthz, which never show the token,
// and there is no retry.
func TestMastodonRefusedToken(t *testing.T) {
	// Not parallel: t.Setenv changes the environment the server inherits.
	const wrong = "e2e-WRONG-MASTODON-TOKEN-3c1f"
	t.Setenv("MASTODON_TOKEN", wrong)
	fake := newMastodonFake(t, mastodonToken)
	srv := startServer(t, "--source", "mastodon", "--track", "#GoConf", "--mastodon-url", fake.srv.URL)
	h := srv.waitHealth(t, "the source failed", func(h map[string]any) bool { return sourceState(h) == "failed" })
	msg := h["source"].(map[string]any)["error"].(string)
	for _, want := range []string{"refused the access token", "401 Unauthorized", "set MASTODON_TOKEN"} {
		if !strings.Contains(msg, want) {
			t.Errorf("/healthz error %q lacks %q", msg, want)
		}
	}
	time.Sleep(1500 * time.Millisecond) // a retry would come now
	if n := fake.count(); n != 1 {
		t.Errorf("%d stream requests, want 1: no retry after 401", n)
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "source stopped") || !strings.Contains(logs, "refused the access token") {
		t.Errorf("the log does not say the source stopped and why:\n%s", logs)
	}
	noSecret(t, logs, h, wrong)
}
