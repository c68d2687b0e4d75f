package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/bluesky"
	"github.com/tweetwire/tweetwire/server/source/bluesky/jetstreamtest"
)

// newJetstreamFake starts a fake Jetstream, and a public AppView that
// knows profiles.
func newJetstreamFake(t *testing.T, profiles map[string]bluesky.Profile) (*jetstreamtest.Server, *httptest.Server) {
	t.Helper()
	js, av := jetstreamtest.NewServer(), jetstreamtest.NewAppView(0, profiles)
	t.Cleanup(js.Close)
	t.Cleanup(av.Close)
	return js, av
}

// pings sends a WebSocket ping every 200 ms, the only thing a quiet
// connection carries, until the returned function is called.
func pings(c *jetstreamtest.Conn) (stop func()) {
	return quietly(func(context.Context) error { return c.Ping() })
}

// jetstreamT0 is the time_us of the first message: the event's day.
var jetstreamT0 = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// jetstreamPost is a Jetstream commit creating a post n seconds into the
// event; tag, when set, is in a tag facet.
func jetstreamPost(did, rkey string, n int, text, tag string) string {
	at := jetstreamT0.Add(time.Duration(n) * time.Second)
	p := jetstreamtest.Post{DID: did, RKey: rkey, TimeUS: at.UnixMicro(), CreatedAt: at, Text: text}
	if tag != "" {
		p.Tags = []string{tag}
	}
	return p.Message()
}

func jetstreamDelete(did, rkey string, n int) string {
	return jetstreamtest.Delete(did, rkey, jetstreamT0.Add(time.Duration(n)*time.Second).UnixMicro())
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
	fake, appview := newJetstreamFake(t, map[string]bluesky.Profile{
		jetstreamAlice: {Handle: "alice.bsky.social", DisplayName: "Alice", Avatar: "https://cdn.bsky.app/img/avatar/plain/alice.jpg"},
	})
	srv := startServer(t, "--source", "bluesky", "--track", "#GoConf,golang",
		"--bluesky-jetstream-url", fake.URL, "--bluesky-appview-url", appview.URL, "--bluesky-stall-timeout", "1s",
		"--backlog", "100", "--log-level", "debug")
	c := startClients(t, srv.URL, "--transports", "websocket")
	conn := accept(t, "the subscription", srv, fake.Accept)
	if got := conn.Query.Get("wantedCollections"); got != "app.bsky.feed.post" {
		t.Errorf("wantedCollections = %q", got)
	}
	if conn.Query.Has("cursor") {
		t.Errorf("the first subscription has a cursor: %v", conn.Query)
	}
	srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	stop := pings(conn)
	alice := "bluesky:" + jetstreamAlice + "/3aaa"
	bob := "bluesky:" + jetstreamBob + "/3bbb"
	carol := "bluesky:" + jetstreamBob + "/3ccc"

	t.Log("posts, with one not about the event, a malformed message and one over 1 MiB among them")
	mustSend(t, conn,
		jetstreamPost(jetstreamAlice, "3aaa", 1, "See you at #GoConf", "GoConf"),
		jetstreamPost(jetstreamBob, "3zzz", 2, "lunch", ""),
		`{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{`,
		jetstreamPost(jetstreamBob, "3big", 3, "#goconf "+strings.Repeat("x", 1<<20), "goconf"),
		jetstreamPost(jetstreamBob, "3bbb", 4, "I write golang daily", ""),
	)
	waitIDs(t, c, alice, bob)
	if p, _ := postByID(c.snapshot(), alice); p.User != "alice.bsky.social" || p.Name != "Alice" || p.Picture != "https://cdn.bsky.app/img/avatar/plain/alice.jpg" || p.Source != "bluesky" ||
		p.URL != "https://bsky.app/profile/"+jetstreamAlice+"/post/3aaa" {
		t.Errorf("alice's post reached the client as %+v", p)
	}
	if p, _ := postByID(c.snapshot(), bob); p.User != jetstreamBob {
		t.Errorf("bob, who has no profile, is %q; want his DID", p.User)
	}

	t.Log("pings only, for longer than the stall timeout: the connection stays")
	time.Sleep(2500 * time.Millisecond)
	if n := fake.Requests(); n != 1 {
		t.Fatalf("%d connections: pings did not keep the connection\nserver log:\n%s", n, srv.logs)
	}

	t.Log("silence: a stall, then a subscription from the cursor")
	stop()
	conn = accept(t, "a subscription after the stall", srv, fake.Accept)
	wantCursor := fmt.Sprint(jetstreamT0.Add(4*time.Second - 5*time.Second).UnixMicro())
	if got := conn.Query.Get("cursor"); got != wantCursor {
		t.Errorf("cursor after the stall = %q, want %s (the last time_us, 5 s back)", got, wantCursor)
	}
	stop = pings(conn)
	// Jetstream replays from the cursor: what the wall showed is not
	// shown again.
	mustSend(t, conn, jetstreamPost(jetstreamBob, "3bbb", 4, "I write golang daily", ""))

	t.Log("the server closes the connection: a subscription from the cursor, and a delete")
	stop()
	conn.Close()
	conn = accept(t, "a subscription after the disconnect", srv, fake.Accept)
	if got := conn.Query.Get("cursor"); got != wantCursor {
		t.Errorf("cursor after the disconnect = %q, want %s", got, wantCursor)
	}
	stop = pings(conn)
	defer stop()
	mustSend(t, conn, jetstreamDelete(jetstreamAlice, "3aaa", 5), jetstreamPost(jetstreamBob, "3ccc", 6, "#goconf day two", "goconf"))
	waitIDs(t, c, carol)
	c.waitUntil("the delete", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "delete") == 1 })

	if got := received(c.snapshot())[0]; strings.Join(got, ",") != strings.Join([]string{alice, bob, carol}, ",") {
		t.Errorf("the client saw %v, want %v once each", got, []string{alice, bob, carol})
	}
	if ids := storedSoon(t, srv, []string{carol, bob}, false); strings.Join(ids, ",") != carol+","+bob {
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
	fake, _ := newJetstreamFake(t, nil)
	fake.Refuse(http.StatusForbidden)
	srv := startServer(t, "--source", "bluesky", "--track", "#GoConf", "--bluesky-jetstream-url", fake.URL)
	h := srv.waitHealth(t, "the source failed", func(h map[string]any) bool { return sourceState(h) == "failed" })
	msg := h["source"].(map[string]any)["error"].(string)
	for _, want := range []string{"403 Forbidden", "--bluesky-jetstream-url (env TWEETWIRE_BLUESKY_JETSTREAM_URL): Jetstream at", "check this URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("/healthz error %q lacks %q", msg, want)
		}
	}
	if strings.Count(msg, "\n") > 0 {
		t.Errorf("/healthz error is not one sentence: %q", msg)
	}
	time.Sleep(1500 * time.Millisecond) // a retry would come now
	if n := fake.Requests(); n != 1 {
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
		{name: "no track", args: nil, want: "--source bluesky: --track (env TWEETWIRE_TRACK): needs keywords or #hashtags"},
		{name: "not a WebSocket URL", args: []string{"--track", "go", "--bluesky-jetstream-url", "ftp://x"}, want: "is not a WebSocket URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(t, time.Minute, append([]string{"--source", "bluesky", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, tt.args...)...)
			out := stdout + stderr
			if code == 0 {
				t.Fatalf("the server started:\n%s", out)
			}
			if !strings.Contains(out, tt.want) || strings.Count(strings.TrimSpace(out), "\n") > 0 {
				t.Errorf("output %q, want one line with %q", out, tt.want)
			}
		})
	}
}

// A lone server keeps Jetstream's cursor under --data-dir: after a restart
// it subscribes where it stopped (rewound 5 s), so posts made while it was
// down reach the wall, and the one replayed from before is not shown twice.
func TestBlueskyResumesAfterARestart(t *testing.T) {
	t.Parallel()
	fake, appview := newJetstreamFake(t, nil)
	dir := t.TempDir()
	args := []string{"--source", "bluesky", "--track", "#GoConf",
		"--bluesky-jetstream-url", fake.URL, "--bluesky-appview-url", appview.URL,
		"--backlog", "100", "--data-dir", dir}
	first := startServer(t, args...)
	conn := accept(t, "the first subscription", first, fake.Accept)
	if conn.Query.Has("cursor") {
		t.Errorf("the first subscription has a cursor: %v", conn.Query)
	}
	c := startClients(t, first.URL, "--transports", "websocket")
	mustSend(t, conn, jetstreamPost(jetstreamAlice, "3one", 10, "before the restart #GoConf", "GoConf"))
	c.waitUntil("the first post", 20*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) == 1 })
	first.Stop()

	second := startServer(t, args...)
	again := accept(t, "the subscription after the restart", second, fake.Accept)
	want := fmt.Sprint(jetstreamT0.Add(10*time.Second).UnixMicro() - 5_000_000)
	if got := again.Query.Get("cursor"); got != want {
		t.Errorf("after the restart the server subscribed with cursor %q, want %s (where it stopped, rewound 5 s)", got, want)
	}
	c2 := startClients(t, second.URL, "--transports", "websocket")
	mustSend(t, again,
		jetstreamPost(jetstreamAlice, "3one", 10, "before the restart #GoConf", "GoConf"), // replayed from the cursor
		jetstreamPost(jetstreamBob, "3two", 20, "while the wall was down #GoConf", "GoConf"))
	c2.waitUntil("the post made while it was down", 20*time.Second, func(evs []clientEvent) bool {
		return slices.Contains(received(evs)[0], "bluesky:"+jetstreamBob+"/3two")
	})
	time.Sleep(300 * time.Millisecond)
	got := received(c2.snapshot())[0]
	if len(got) != 2 {
		t.Errorf("client got %v (backlog and live), want each of the two posts once", got)
	}
}
