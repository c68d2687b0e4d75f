package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/internal/syncbuf"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// adminCall sends an admin request and decodes the answer into out.
func adminCall(t *testing.T, a *App, token, method, path, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, "http://"+a.Addr().String()+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

func listed(t *testing.T, a *App, token string) map[string]bool {
	t.Helper()
	var page struct {
		Tweets []tweet.Tweet `json:"tweets"`
	}
	if code := adminCall(t, a, token, "GET", "/api/tweets?limit=200", "", &page); code != http.StatusOK {
		t.Fatalf("/api/tweets: %d", code)
	}
	out := map[string]bool{}
	for _, p := range page.Tweets {
		out[p.ID] = true
	}
	return out
}

func backlogIDs(h *hub.Hub) map[string]bool {
	c := h.Subscribe("", nil, nil)
	defer h.Unsubscribe(c)
	out := map[string]bool{}
	for _, m := range c.Backlog {
		out[m.ID] = true
	}
	return out
}

// Moderation survives a restart: hidden posts, author blocks and the
// switches are read back before the node serves, so neither the backlog
// nor /api/tweets shows a hidden post, and the console's sign-in URL is
// logged once per start.
func TestModerationSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	posts := worldPosts(9) // zoë0, zoë1, zoë2 in turn
	logs := &syncbuf.Buffer{}
	cfg := testConfig(t, dir, burst{posts})
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- a.Run(runCtx) }()
	b, _ := os.ReadFile(dir + "/admin-token")
	token := strings.TrimSpace(string(b))
	signIn := "/admin#token=" + url.QueryEscape(token)
	if n := strings.Count(logs.String(), signIn); n != 1 {
		t.Errorf("the sign-in URL is logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "token_in="+dir+"/admin-token") {
		t.Errorf("the log does not say which file holds the token:\n%s", logs)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(listed(t, a, token)) < len(posts) {
		if time.Now().After(deadline) {
			// Seen once in CI: say what the server did, to find out why.
			select {
			case err := <-ran:
				t.Errorf("Run returned early: %v", err)
			default:
			}
			t.Fatalf("the posts were never stored: %v\n/healthz: %+v\nlog:\n%s", listed(t, a, token), a.Health(), logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := adminCall(t, a, token, "POST", "/api/admin/posts/demo%3A2/hide", "", nil); code != http.StatusOK {
		t.Fatalf("hide: %d", code)
	}
	if code := adminCall(t, a, token, "POST", "/api/admin/blocks", `{"kind":"author","value":"demo:ZOË1"}`, nil); code != http.StatusCreated {
		t.Fatalf("block: %d", code)
	}
	if code := adminCall(t, a, token, "PUT", "/api/admin/settings", `{"premoderation":true}`, nil); code != http.StatusOK {
		t.Fatalf("settings: %d", code)
	}
	stop()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// The source repeats what it sent, and one new post, which now waits.
	more := append(worldPosts(9), worldPosts(11)[9:]...)
	cfg = testConfig(t, dir, burst{more})
	a, err = New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	runCtx, stop = context.WithCancel(ctx)
	defer stop()
	go func() { _ = a.Run(runCtx) }()
	hiddenIDs := []string{"demo:2", "demo:1", "demo:4", "demo:7"}
	for _, where := range []struct {
		name string
		ids  map[string]bool
	}{{"the backlog", backlogIDs(a.hub)}, {"/api/tweets", listed(t, a, token)}} {
		for _, id := range hiddenIDs {
			if where.ids[id] {
				t.Errorf("%s shows %s after a restart", where.name, id)
			}
		}
		if !where.ids["demo:0"] || len(where.ids) != 5 {
			t.Errorf("%s = %v, want the 5 shown posts", where.name, where.ids)
		}
	}
	// demo:9 (zoë0) waits for approval; demo:10 is zoë1's, blocked.
	var items struct {
		Posts []struct {
			Post  tweet.Tweet `json:"post"`
			State string      `json:"state"`
		} `json:"posts"`
	}
	states := map[string]string{}
	for states["demo:9"] == "" || states["demo:10"] == "" {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("the new posts never arrived: %v", states)
		}
		time.Sleep(20 * time.Millisecond)
		adminCall(t, a, token, "GET", "/api/admin/posts?limit=50", "", &items)
		for _, it := range items.Posts {
			states[it.Post.ID] = it.State
		}
	}
	if states["demo:9"] != "queued" || states["demo:10"] != "blocked" || states["demo:2"] != "hidden" || states["demo:4"] != "hidden" || states["demo:0"] != "shown" {
		t.Errorf("states after restart = %v", states)
	}
	var blocks struct {
		Blocks []tweet.Block `json:"blocks"`
	}
	adminCall(t, a, token, "GET", "/api/admin/blocks", "", &blocks)
	if len(blocks.Blocks) != 1 || blocks.Blocks[0].Value != "demo:zoë1" {
		t.Errorf("blocks after restart = %+v", blocks)
	}
	if listed(t, a, token)["demo:9"] {
		t.Error("a queued post is listed")
	}
}
