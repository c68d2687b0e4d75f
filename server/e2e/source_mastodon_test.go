package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/mastodon/mastodontest"
)

// mastodonToken is recognisable, so that a test can look for it wherever
// it must not be.
const mastodonToken = "e2e-MASTODON-TOKEN-5e7b"

func newMastodonFake(t *testing.T, token string) *mastodontest.Server {
	t.Helper()
	f := mastodontest.NewServer(token)
	t.Cleanup(f.Close)
	return f
}

// openStreams waits for the server to open n streams and returns them by
// name.
func openStreams(t *testing.T, srv *server, f *mastodontest.Server, n int) map[string]*mastodontest.Stream {
	t.Helper()
	out := map[string]*mastodontest.Stream{}
	for range n {
		s := accept(t, fmt.Sprintf("stream %d of %d", len(out)+1, n), srv, f.Accept)
		out[s.Name] = s
	}
	return out
}

func event(t *testing.T, s *mastodontest.Stream, name, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Write(ctx, mastodontest.Event(name, data)); err != nil {
		t.Fatalf("the %s stream takes no writes: %v", s.Name, err)
	}
}

// thumps sends Mastodon's ":thump" keep-alive every 200 ms until the
// returned function is called.
func thumps(s *mastodontest.Stream) (stop func()) {
	return quietly(func(ctx context.Context) error { return s.Write(ctx, ":thump\n") })
}

// mastodonStatus is a Status as the streaming API sends it, n seconds into
// the event.
func mastodonStatus(id, acct string, n int, html string, tags ...string) string {
	return mastodontest.Status{ID: id, Acct: acct, DisplayName: strings.ToUpper(acct[:1]) + acct[1:], HTML: html, Tags: tags,
		CreatedAt: time.Date(2026, 11, 25, 18, 0, n, 0, time.UTC)}.JSON()
}

// A real server follows a fake Mastodon: a hashtag stream and the public
// timeline for a keyword, a status on both, posts not about the event, a
// malformed event, one over 1 MiB, keep-alives, a stall, a hang-up and a
// delete; the clients see each post once, as plain text.
func TestMastodonSourceEndToEnd(t *testing.T) {
	t.Parallel()
	fake := newMastodonFake(t, mastodonToken)
	srv := startServer(t, "--source", "mastodon", "--track", "#GoConf,golang",
		"--mastodon-url", fake.URL, "--mastodon-token", mastodonToken, "--mastodon-stall-timeout", "1s",
		"--backlog", "100", "--log-level", "debug")
	c := startClients(t, srv.URL, "--transports", "websocket")
	streams := openStreams(t, srv, fake, 2)
	tag, public := streams["hashtag:goconf"], streams["public"]
	if tag == nil || public == nil {
		t.Fatalf("streams %v, want hashtag:goconf and public", streams)
	}
	srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	stopTag, stopPublic := thumps(tag), thumps(public)
	id := func(n string) string { return "mastodon:" + fake.Host() + ":" + n }

	t.Log("posts, the same status on both streams, one not about the event, a malformed event and one over 1 MiB")
	s101 := mastodonStatus("101", "alice", 1, `<p>See you at <a href="https://mastodon.example/tags/goconf" class="mention hashtag" rel="tag">#<span>GoConf</span></a> &amp; after, golang fans</p><p>Bring <a href="https://go.dev/doc/tutorial"><span class="invisible">https://</span><span class="">go.dev/doc/tutorial</span></a></p>`, "goconf")
	event(t, tag, "update", s101)
	event(t, public, "update", s101)
	event(t, public, "update", mastodonStatus("102", "bob", 2, "<p>lunch</p>"))
	event(t, public, "update", `{"id":"103","created_at":`)
	event(t, tag, "update", mastodonStatus("104", "bob", 3, "<p>"+strings.Repeat("#goconf ", 150_000)+"</p>", "goconf"))
	event(t, public, "update", mastodonStatus("105", "carol", 4, "<p>I write <em>GoLang</em> daily</p>"))
	waitIDs(t, c, id("101"), id("105"))
	p, _ := postByID(c.snapshot(), id("101"))
	if p.Text != "See you at #GoConf & after, golang fans\n\nBring https://go.dev/doc/tutorial" || p.User != "alice" || p.Name != "Alice" ||
		p.Picture != "https://mastodon.example/alice.png" || p.URL != "https://mastodon.example/@alice/101" || p.Source != "mastodon" {
		t.Errorf("the client got %+v", p)
	}

	t.Log("keep-alives only, for longer than the stall timeout: the streams stay")
	time.Sleep(2500 * time.Millisecond)
	if n := fake.Requests(); n != 2 {
		t.Fatalf("%d stream requests: keep-alives did not keep the streams\nserver log:\n%s", n, srv.logs)
	}

	t.Log("silence on the public timeline: a stall, and that stream alone comes back")
	stopPublic()
	again := openStreams(t, srv, fake, 1)
	if public = again["public"]; public == nil {
		t.Fatalf("reopened %v, want the public stream", again)
	}
	stopPublic = thumps(public)
	defer func() { stopPublic() }()

	t.Log("the server hangs up the hashtag stream: it comes back, and a delete")
	stopTag()
	tag.Hangup()
	again = openStreams(t, srv, fake, 1)
	if tag = again["hashtag:goconf"]; tag == nil {
		t.Fatalf("reopened %v, want the hashtag stream", again)
	}
	stopTag = thumps(tag)
	defer func() { stopTag() }()
	event(t, tag, "delete", "101")
	event(t, tag, "update", mastodonStatus("106", "dave", 6, "<p>day two <a href=\"https://mastodon.example/tags/goconf\">#<span>goconf</span></a></p>", "goconf"))
	waitIDs(t, c, id("106"))
	c.waitUntil("the delete", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "delete") == 1 })

	want := []string{id("101"), id("105"), id("106")}
	if got := received(c.snapshot())[0]; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the client saw %v, want %v once each", got, want)
	}
	if ids := storedSoon(t, srv, []string{id("106"), id("105")}, false); strings.Join(ids, ",") != id("106")+","+id("105") {
		t.Errorf("/api/tweets = %v, want 106 and 105: the deleted post is gone", ids)
	}
	h := srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	logs := srv.logs.String()
	for _, want := range []string{"skipping a malformed event", "skipping an event larger than 1 MiB", "not even a keep-alive, for 1s", "closed the #goconf stream"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not mention %q", want)
		}
	}
	assertNoSecrets(t, logs, h, mastodonToken)
}

// A token from the environment that the server refuses stops the source
// with one sentence in the log and /healthz, which never show the token,
// and there is no retry.
func TestMastodonRefusedToken(t *testing.T) {
	// Not parallel: t.Setenv changes the environment the server inherits.
	const wrong = "e2e-WRONG-MASTODON-TOKEN-3c1f"
	t.Setenv("MASTODON_TOKEN", wrong)
	fake := newMastodonFake(t, mastodonToken)
	srv := startServer(t, "--source", "mastodon", "--track", "#GoConf", "--mastodon-url", fake.URL)
	h := srv.waitHealth(t, "the source failed", func(h map[string]any) bool { return sourceState(h) == "failed" })
	msg := h["source"].(map[string]any)["error"].(string)
	for _, want := range []string{"refused the access token", "401 Unauthorized", "--mastodon-token (env MASTODON_TOKEN): "} {
		if !strings.Contains(msg, want) {
			t.Errorf("/healthz error %q lacks %q", msg, want)
		}
	}
	time.Sleep(1500 * time.Millisecond) // a retry would come now
	if n := fake.Requests(); n != 1 {
		t.Errorf("%d stream requests, want 1: no retry after 401", n)
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "source stopped") || !strings.Contains(logs, "refused the access token") {
		t.Errorf("the log does not say the source stopped and why:\n%s", logs)
	}
	assertNoSecrets(t, logs, h, wrong)
}
