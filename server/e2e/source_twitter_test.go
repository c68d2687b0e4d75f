package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/streamtest"
	"github.com/tweetwire/tweetwire/server/source/twitter/twittertest"
)

// twitterCreds are recognisable, so that a test can look for them wherever
// they must not be.
var twitterCreds = twittertest.Credentials{
	ConsumerKey:    "e2e-CONSUMER-KEY-4b1d",
	ConsumerSecret: "e2e-CONSUMER-SECRET-9f3a",
	AccessToken:    "e2e-ACCESS-TOKEN-7c2e",
	AccessSecret:   "e2e-ACCESS-SECRET-1d8b",
}

// twitterArgs are the flags of a server that follows the fake Twitter at
// url, signing with twitterCreds, then extra.
func twitterArgs(url string, extra ...string) []string {
	return append([]string{"--source", "twitter", "--twitter-stream-url", url,
		"--twitter-consumer-key", twitterCreds.ConsumerKey, "--twitter-consumer-secret", twitterCreds.ConsumerSecret,
		"--twitter-access-token", twitterCreds.AccessToken, "--twitter-access-secret", twitterCreds.AccessSecret}, extra...)
}

func twitterStatus(id int, text string) string {
	b, _ := json.Marshal(map[string]any{
		"id_str": fmt.Sprint(id), "id": id, "text": text, "lang": "en",
		"created_at": time.Date(2026, 11, 25, 18, 0, id%60, 0, time.UTC).Format(time.RubyDate),
		"user":       map[string]any{"screen_name": "marta_codes", "name": "Marta", "profile_image_url_https": "https://pbs.twimg.com/a.jpg"},
		"entities":   map[string]any{"hashtags": []any{map[string]any{"text": "GoConf"}}},
	})
	return string(b)
}

// keepAlive sends keep-alives on c every 200 ms, as a quiet stream does,
// until the returned function is called.
func keepAlive(c *streamtest.Conn) (stop func()) {
	return quietly(func(context.Context) error { return c.KeepAlive() })
}

// A real server follows a fake Twitter through everything a stream does:
// posts, bad messages, quiet spells, stalls, disconnects and deletes, and
// every client sees each post once.
func TestTwitterSourceEndToEnd(t *testing.T) {
	t.Parallel()
	fake := twittertest.NewServer(twitterCreds)
	t.Cleanup(fake.Close)
	srv := startServer(t, twitterArgs(fake.URL, "--track", "#GoConf,go conf", "--twitter-stall-timeout", "1s",
		"--backlog", "100", "--log-level", "debug")...)
	c := startClients(t, srv.URL, "--transports", "websocket")
	conn := accept(t, "the stream", srv, fake.Open)
	if got := conn.Request.PostForm.Get("track"); got != "#GoConf,go conf" {
		t.Errorf("track = %q", got)
	}
	srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	// Keep-alives flow except while the test wants silence.
	stop := keepAlive(conn)

	t.Log("posts, with a keep-alive, malformed lines, a status that panics anaconda, and a line over 1 MiB among them")
	mustSend(t, conn,
		twitterStatus(1, "first #GoConf"),
		"",
		`{"id_str":"2","text":`,
		`{"id_str":"1","full_text":"hi","display_text_range":[0,50],"user":{"screen_name":"a"},"created_at":"Thu Apr 25 09:00:00 +0000 2019"}`,
		`{"id_str":"3","text":"`+strings.Repeat("a", 1<<20)+`"}`,
		twitterStatus(4, "still the same connection"),
	)
	waitIDs(t, c, "twitter:1", "twitter:4")

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
	mustSend(t, conn, twitterStatus(5, "after the stall"))
	waitIDs(t, c, "twitter:5")

	t.Log("the server ends the stream: a new connection, and a delete")
	stop()
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	conn = accept(t, "a stream after the close", srv, fake.Open)
	stop = keepAlive(conn)
	mustSend(t, conn, `{"delete":{"status":{"id":1,"id_str":"1","user_id":1,"user_id_str":"1"},"timestamp_ms":"1"}}`, twitterStatus(6, "after the close"))
	waitIDs(t, c, "twitter:6")
	c.waitUntil("the delete", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "delete") == 1 })

	t.Log("the connection breaks: a new one")
	stop()
	if err := conn.Drop(); err != nil {
		t.Fatal(err)
	}
	conn = accept(t, "a stream after the break", srv, fake.Open)
	stop = keepAlive(conn)
	defer stop()
	mustSend(t, conn, twitterStatus(7, "after the break"))
	waitIDs(t, c, "twitter:7")

	got := received(c.snapshot())[0]
	if want := []string{"twitter:1", "twitter:4", "twitter:5", "twitter:6", "twitter:7"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("client saw %v, want %v once each", got, want)
	}
	if ids := storedSoon(t, srv, []string{"twitter:7", "twitter:6", "twitter:5", "twitter:4"}, false); strings.Join(ids, ",") != "twitter:7,twitter:6,twitter:5,twitter:4" {
		t.Errorf("/api/tweets = %v, want the posts but the deleted one, newest first", ids)
	}
	h := srv.waitHealth(t, "the source running", func(h map[string]any) bool { return sourceState(h) == "running" })
	logs := srv.logs.String()
	for _, want := range []string{"skipping a malformed message", "display_text_range", "longer than 1 MiB", "not even a keep-alive", "Twitter closed the stream", "broke off"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not mention %q", want)
		}
	}
	assertNoSecrets(t, logs, h, twitterCreds.ConsumerKey, twitterCreds.ConsumerSecret, twitterCreds.AccessToken, twitterCreds.AccessSecret)
}

// Credentials from the environment work, and after Twitter refuses them
// the source stops with one sentence in the log and /healthz, which
// never show them.
func TestTwitterCredentialsFromEnvironmentAndRefusal(t *testing.T) {
	// Not parallel: t.Setenv changes the environment the server inherits.
	t.Setenv("TWITTER_CONSUMER_KEY", twitterCreds.ConsumerKey)
	t.Setenv("TWITTER_CONSUMER_SECRET", twitterCreds.ConsumerSecret)
	t.Setenv("TWITTER_ACCESS_TOKEN", twitterCreds.AccessToken)
	t.Setenv("TWITTER_ACCESS_SECRET", twitterCreds.AccessSecret)
	fake := twittertest.NewServer(twitterCreds)
	t.Cleanup(fake.Close)
	srv := startServer(t, "--source", "twitter", "--track", "#GoConf", "--twitter-stream-url", fake.URL, "--log-level", "debug")
	c := startClients(t, srv.URL, "--transports", "polling")

	// The fake checks the OAuth signature: a post gets through only if the
	// environment's credentials reached anaconda.
	conn := accept(t, "the stream", srv, fake.Open)
	mustSend(t, conn, twitterStatus(1, "signed with the environment's credentials"))
	waitIDs(t, c, "twitter:1")
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	conn = accept(t, "a second stream", srv, fake.Accept)
	if err := conn.Reject(401, "application/json", `{"errors":[{"code":89,"message":"Invalid or expired token."}]}`); err != nil {
		t.Fatal(err)
	}
	h := srv.waitHealth(t, "the source failed", func(h map[string]any) bool { return sourceState(h) == "failed" })
	msg := h["source"].(map[string]any)["error"].(string)
	for _, want := range []string{"HTTP 401", "TWITTER_CONSUMER_KEY"} {
		if !strings.Contains(msg, want) {
			t.Errorf("/healthz error %q lacks %q", msg, want)
		}
	}
	time.Sleep(time.Second) // a retry would come now
	if n := fake.Requests(); n != 2 {
		t.Errorf("%d connections, want 2: no retry after 401", n)
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "source stopped") || !strings.Contains(logs, "HTTP 401") {
		t.Errorf("the log does not say the source stopped and why:\n%s", logs)
	}
	assertNoSecrets(t, logs, h, twitterCreds.ConsumerKey, twitterCreds.ConsumerSecret, twitterCreds.AccessToken, twitterCreds.AccessSecret)
}

// Today's Twitter answers 403 to every app: /healthz says the endpoint was
// retired and what to use instead.
func TestTwitterRetiredEndpoint(t *testing.T) {
	t.Parallel()
	fake := twittertest.NewServer(twitterCreds)
	t.Cleanup(fake.Close)
	srv := startServer(t, twitterArgs(fake.URL, "--track", "#GoConf")...)
	conn := accept(t, "the stream", srv, fake.Accept)
	if err := conn.Reject(403, "application/json", `{"errors":[{"code":453,"message":"You currently have access to a subset of Twitter API v2 endpoints"}]}`); err != nil {
		t.Fatal(err)
	}
	h := srv.waitHealth(t, "the source failed", func(h map[string]any) bool { return sourceState(h) == "failed" })
	msg := h["source"].(map[string]any)["error"].(string)
	for _, want := range []string{"HTTP 403", "retired", "use the x source", "the bluesky source"} {
		if !strings.Contains(msg, want) {
			t.Errorf("/healthz error %q lacks %q", msg, want)
		}
	}
	if h["status"] == "ok" {
		t.Errorf("/healthz status %v with a failed source", h["status"])
	}
}
