package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/x/xtest"
)

// xToken is recognisable, so that a test can look for it wherever it must
// not be.
const xToken = "AAAAAAAAAAAAAAAAAAAAAE2E-X-BEARER-SECRET-5e6f"

func xPost(id, text string) string {
	return xtest.Post{ID: id, Text: text, Username: "marta_codes", Name: "Marta", Hashtags: []string{"GoConf"},
		CreatedAt: time.Date(2026, 11, 25, 18, 0, len(id), 0, time.UTC)}.Line()
}

// A real server follows a fake X: it syncs its stream rules, then goes
// through posts (a long one, a repost), bad messages, quiet spells, a
// stall, an operational disconnect, a broken connection and a delete, and
// every client sees each post once.
func TestXSourceEndToEnd(t *testing.T) {
	t.Parallel()
	fake := xtest.NewServer(xToken)
	t.Cleanup(fake.Close)
	stale := fake.AddRule("#LastYearsConf", "tweetwire")
	foreign := fake.AddRule("golang", "someone-else")
	srv := startServer(t, "--source", "x", "--track", "#GoConf,go conf",
		"--x-api-url", fake.URL, "--x-stall-timeout", "1s", "--x-bearer-token", xToken,
		"--backlog", "100", "--log-level", "debug")
	c := startClients(t, srv.URL, "--transports", "websocket")
	conn := accept(t, "the stream", srv, fake.Open)
	stop := keepAlive(conn)

	var values []string
	for _, r := range fake.Rules() {
		values = append(values, r.Value+"|"+r.Tag)
		if r.ID == stale.ID {
			t.Errorf("the stale rule %q of ours was kept", r.Value)
		}
	}
	slices.Sort(values)
	if want := []string{"#GoConf|tweetwire", "go conf|tweetwire", "golang|someone-else"}; !slices.Equal(values, want) {
		t.Errorf("rules = %v, want %v", values, want)
	}
	srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })

	t.Log("posts, a long one and a repost, with malformed lines, a post of someone else's rule and a line over 1 MiB among them")
	long := strings.Repeat("long post ", 40) + "#GoConf"
	mustSend(t, conn,
		xPost("11", "first #GoConf"),
		"",
		`{"data":{"id":"12","text":`,
		xtest.Post{ID: "13", Text: "someone else's", Username: "other", RuleIDs: []string{foreign.ID}}.Line(),
		`{"data":{"id":"14","text":"`+strings.Repeat("a", 1<<20)+`"}}`,
		xtest.Post{ID: "15", Text: "long post long post…", Note: long, Username: "marta_codes", Hashtags: []string{"GoConf"}}.Line(),
		xtest.Post{ID: "16", Text: "RT @marta_codes: long post…", Username: "jan", Retweets: &xtest.Post{ID: "15", Note: long, Username: "marta_codes", Hashtags: []string{"GoConf"}}}.Line(),
	)
	waitIDs(t, c, "x:11", "x:15", "x:16")
	texts := map[string]string{}
	// The client may connect after the first posts: they come in its
	// backlog then.
	for _, p := range posts(c.snapshot()) {
		texts[p.ID] = p.Text
		if p.ID == "x:11" && (p.URL != "https://x.com/marta_codes/status/11" || p.Source != "x") {
			t.Errorf("x:11 = %+v", p)
		}
	}
	if texts["x:15"] != long || texts["x:16"] != "RT @marta_codes: "+long {
		t.Errorf("long post and repost texts = %q / %q, want note_tweet's full text", texts["x:15"], texts["x:16"])
	}

	t.Log("keep-alives only, for longer than the stall timeout: the stream stays")
	time.Sleep(2500 * time.Millisecond)
	if n := fake.Requests(); n != 1 {
		t.Fatalf("%d connections: keep-alives did not keep the stream\nserver log:\n%s", n, srv.logs)
	}

	t.Log("silence: a stall, then a new connection")
	stop()
	gone(t, srv, conn, "a stall")
	conn = accept(t, "a stream after the stall", srv, fake.Open)
	stop = keepAlive(conn)
	mustSend(t, conn, xPost("17", "after the stall"))
	waitIDs(t, c, "x:17")

	t.Log("an operational disconnect: a new connection, and a delete")
	stop()
	mustSend(t, conn, xtest.OperationalDisconnect)
	gone(t, srv, conn, "an operational disconnect")
	conn = accept(t, "a stream after the disconnect", srv, fake.Open)
	stop = keepAlive(conn)
	mustSend(t, conn, xtest.Delete("11"), xPost("18", "after the disconnect"))
	waitIDs(t, c, "x:18")
	c.waitUntil("the delete", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "delete") == 1 })

	t.Log("the connection breaks: a new one")
	stop()
	if err := conn.Drop(); err != nil {
		t.Fatal(err)
	}
	conn = accept(t, "a stream after the break", srv, fake.Open)
	stop = keepAlive(conn)
	defer stop()
	mustSend(t, conn, xPost("19", "after the break"))
	waitIDs(t, c, "x:19")

	got := received(c.snapshot())[0]
	if want := []string{"x:11", "x:15", "x:16", "x:17", "x:18", "x:19"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("client saw %v, want %v once each", got, want)
	}
	ids := storedSoon(t, srv, []string{"x:15", "x:16", "x:17", "x:18", "x:19"}, true)
	if strings.Join(ids, ",") != "x:15,x:16,x:17,x:18,x:19" {
		t.Errorf("/api/tweets = %v, want every post but the deleted one", ids)
	}
	if n := fake.RuleRequests(); n != 3 {
		t.Errorf("%d rules requests, want 3 (list, delete, add) once for all connections", n)
	}
	h := srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	logs := srv.logs.String()
	for _, want := range []string{"skipping a malformed message", "longer than 1 MiB", "not even a keep-alive", "operational reasons", "broke off"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not mention %q", want)
		}
	}
	assertNoSecrets(t, logs, h, xToken)
}

// A token from the environment works; when X then refuses the app the
// filtered stream, the source stops with one sentence in the log and
// /healthz, which never show the token.
func TestXTokenFromEnvironmentAndRefusal(t *testing.T) {
	// Not parallel: t.Setenv changes the environment the server inherits.
	t.Setenv("X_BEARER_TOKEN", xToken)
	fake := xtest.NewServer(xToken)
	t.Cleanup(fake.Close)
	srv := startServer(t, "--source", "x", "--track", "#GoConf", "--x-api-url", fake.URL, "--log-level", "debug")
	c := startClients(t, srv.URL, "--transports", "polling")
	conn := accept(t, "the stream", srv, fake.Open)
	mustSend(t, conn, xPost("1", "with the environment's token"))
	waitIDs(t, c, "x:1")
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	conn = accept(t, "a second stream", srv, fake.Accept)
	if err := conn.Reject(403, "application/json", xtest.ClientForbidden); err != nil {
		t.Fatal(err)
	}
	h := srv.waitHealth(t, "the source failed", func(h map[string]any) bool { return sourceState(h) == "failed" })
	msg := h["source"].(map[string]any)["error"].(string)
	for _, want := range []string{"HTTP 403", "Pro or Enterprise", "the bluesky source"} {
		if !strings.Contains(msg, want) {
			t.Errorf("/healthz error %q lacks %q", msg, want)
		}
	}
	time.Sleep(time.Second) // a retry would come now
	if n := fake.Requests(); n != 2 {
		t.Errorf("%d connections, want 2: no retry after 403", n)
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "source stopped") {
		t.Errorf("the log does not say the source stopped:\n%s", logs)
	}
	assertNoSecrets(t, logs, h, xToken)
}

// A wrong token stops the source before any stream opens.
func TestXWrongToken(t *testing.T) {
	t.Parallel()
	fake := xtest.NewServer("the-right-token")
	t.Cleanup(fake.Close)
	srv := startServer(t, "--source", "x", "--track", "#GoConf", "--x-api-url", fake.URL, "--x-bearer-token", xToken)
	h := srv.waitHealth(t, "the source failed", func(h map[string]any) bool { return sourceState(h) == "failed" })
	msg := h["source"].(map[string]any)["error"].(string)
	if !strings.Contains(msg, "HTTP 401") || !strings.Contains(msg, "X_BEARER_TOKEN") {
		t.Errorf("/healthz error %q, want the 401 and what to check", msg)
	}
	if fake.Requests() != 0 {
		t.Errorf("the stream was requested after the rules were refused")
	}
	assertNoSecrets(t, srv.logs.String(), h, xToken)
}
