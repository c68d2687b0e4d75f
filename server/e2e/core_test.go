package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Every transport a socket.io-client 2.5.0 can use receives every replayed
// post exactly once and in order, whether it arrived in the backlog or live.
func TestEveryTransportReceivesEveryPostOnceInOrder(t *testing.T) {
	t.Parallel()
	file, ids := writeReplay(t, 0, 300)
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "100", "--backlog", "1000", "--log-level", "debug")
	procs := map[string]*clients{}
	for _, tr := range []string{"websocket", "polling", "default"} {
		procs[tr] = startClients(t, srv.URL, "--transports", tr, "--clients", "2")
	}
	srv.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	for tr, c := range procs {
		t.Run(tr, func(t *testing.T) {
			c.waitUntil("all 300 posts on both clients", 30*time.Second, func(evs []clientEvent) bool {
				got := received(evs)
				return len(got[0]) >= len(ids) && len(got[1]) >= len(ids)
			})
			time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
			evs := c.snapshot()
			for client, got := range received(evs) {
				if strings.Join(got, ",") != strings.Join(ids, ",") {
					t.Errorf("client %d got %d ids, not the %d replayed ones once each in order; first difference at %d", client, len(got), len(ids), firstDiff(got, ids))
				}
			}
			var lifecycle []clientEvent
			for _, e := range evs {
				if e.Event != "tweet" {
					lifecycle = append(lifecycle, e)
				}
			}
			if n := countEvents(evs, "backlog"); n != 2 {
				t.Errorf("%d backlog events, want one per client: %s\n%s", n, tail(lifecycle, 20), srv.logs)
			}
			// With default transports the upgrade may finish before the
			// Socket.IO connect packet arrives; the upgrade events say it.
			wantConnect := map[string]string{"websocket": "websocket", "polling": "polling"}[tr]
			for _, e := range evs {
				if e.Event == "connect" && wantConnect != "" && e.Transport != wantConnect {
					t.Errorf("client %d connected over %s, want %s", e.Client, e.Transport, wantConnect)
				}
			}
			switch tr {
			case "default":
				if countEvents(evs, "upgrade") != 2 {
					t.Errorf("default transports: %d upgrades to websocket, want 2: %s\n%s", countEvents(evs, "upgrade"), tail(lifecycle, 20), srv.logs)
				}
			default:
				if countEvents(evs, "upgrade") != 0 {
					t.Errorf("%s only: a client upgraded", tr)
				}
			}
		})
	}
	h := srv.health(t)
	cl, _ := h["clients"].(map[string]any)
	if cl["websocket"] != float64(4) || cl["polling"] != float64(2) {
		t.Errorf("/healthz clients = %v, want 4 websocket (2 direct, 2 upgraded) and 2 polling", cl)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestBacklogSinceAndDelete(t *testing.T) {
	t.Parallel()
	deleteLine := `{"delete":{"status":{"id":1000003,"id_str":"1000003","user_id":1}}}`
	file, ids := writeReplay(t, 0, 30, deleteLine)
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "0", "--backlog", "5")
	srv.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })

	t.Run("backlog is the newest posts oldest first", func(t *testing.T) {
		c := startClients(t, srv.URL, "--transports", "websocket")
		evs := c.waitUntil("a backlog", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "backlog") == 1 })
		if got := received(evs)[0]; strings.Join(got, ",") != strings.Join(ids[25:], ",") {
			t.Errorf("backlog = %v, want %v", got, ids[25:])
		}
	})
	t.Run("since gives every post after it, without the deleted one", func(t *testing.T) {
		c := startClients(t, srv.URL, "--transports", "polling", "--since", ids[1])
		evs := c.waitUntil("a backlog", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "backlog") == 1 })
		want := append([]string{ids[2]}, ids[4:]...)
		if got := received(evs)[0]; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("since backlog = %v, want %v", got, want)
		}
	})
}

func TestDeleteReachesConnectedClients(t *testing.T) {
	t.Parallel()
	file, ids := writeReplay(t, 0, 120)
	// The delete comes 100 posts (5 s) in, while the client is connected.
	lines, _ := os.ReadFile(file)
	all := strings.SplitAfter(string(lines), "\n")
	del := `{"delete":{"status":{"id":1000000,"id_str":"1000000","user_id":1}}}` + "\n"
	body := strings.Join(all[:100], "") + del + strings.Join(all[100:], "")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "20", "--backlog", "1000")
	c := startClients(t, srv.URL, "--transports", "websocket")
	evs := c.waitUntil("the delete", 30*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "delete") == 1 })
	if got := received(evs)[0]; len(got) == 0 || got[0] != ids[0] {
		t.Fatalf("the client did not have %s before its delete: %v", ids[0], got)
	}
	for _, e := range evs {
		if e.Event == "delete" {
			var d struct{ ID string }
			_ = json.Unmarshal(e.Data, &d)
			if d.ID != ids[0] {
				t.Errorf("delete for %q, want %q", d.ID, ids[0])
			}
		}
	}
	// A client connecting after the delete no longer gets the post.
	srv.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	late := startClients(t, srv.URL, "--transports", "polling")
	evs = late.waitUntil("a backlog", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "backlog") == 1 })
	if got := received(evs)[0]; strings.Join(got, ",") != strings.Join(ids[1:], ",") {
		t.Errorf("late backlog has %d posts starting %v, want the %d not deleted", len(got), got[:min(len(got), 2)], len(ids)-1)
	}
}

// A polling client that stops polling fills its queue and is dropped; the
// others keep receiving everything at full speed.
func TestStalledClientDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	file, ids := writeReplay(t, 0, 200)
	// The replay waits for the clients: --replay-rate 40 spreads it over 5 s.
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "40", "--client-queue", "8", "--backlog", "1000")
	stallPollingClient(t, srv.URL)
	c := startClients(t, srv.URL, "--transports", "websocket")
	start := time.Now()
	c.waitUntil("every post", 40*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= len(ids) })
	if got := received(c.snapshot())[0]; strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("reading client got %d posts, want the %d replayed in order", len(got), len(ids))
	}
	h := srv.waitHealth(t, "the stalled client dropped and disconnected", func(h map[string]any) bool {
		cl, _ := h["clients"].(map[string]any)
		return h["dropped"].(float64) == 1 && cl["polling"] == float64(0)
	})
	if !strings.Contains(srv.logs.String(), "dropped slow client") {
		t.Errorf("server did not log the drop:\n%s", srv.logs)
	}
	t.Logf("reading client done after %v; /healthz: %v", time.Since(start).Round(time.Millisecond), h)
}

// stallPollingClient opens an Engine.IO v3 polling session, takes the
// Socket.IO connect packet, and never polls again.
func stallPollingClient(t *testing.T, base string) {
	t.Helper()
	resp, err := httpc.Get(base + "/socket.io/?EIO=3&transport=polling&b64=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`"sid":"([^"]+)"`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("handshake answered %q", body)
	}
	// go-socket.io registers the session just after it answered the
	// handshake: a poll that follows at once may find no session yet.
	for try := 0; ; try++ {
		resp, err = httpc.Get(base + "/socket.io/?EIO=3&transport=polling&b64=1&sid=" + m[1])
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "invalid sid") || try == 50 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(string(body), "40") {
		t.Fatalf("second poll answered %q, want the socket.io connect packet", body)
	}
}

func TestOriginsAreChecked(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--source", "demo", "--demo-rate", "5", "--allowed-origins", "https://wall.example.org")
	// A server that wants only its page and the Chrome extension.
	strict := startServer(t, "--source", "demo", "--demo-rate", "5", "--firefox-extension=false")
	const firefox = "moz-extension://0f3c8e1a-7b2d-4c5e-9a1f-2d3e4f5a6b7c"
	poll := func(origin string) *http.Response { return pollFrom(t, srv.URL, origin) }
	if resp := pollFrom(t, strict.URL, firefox); resp.StatusCode != http.StatusForbidden {
		t.Errorf("with --firefox-extension=false the Firefox extension polled: %d, want 403", resp.StatusCode)
	}
	if code, _ := dialFrom(strict.Addr, firefox); code != http.StatusForbidden {
		t.Errorf("with --firefox-extension=false the Firefox extension's websocket: %d, want 403", code)
	}
	dial := func(origin string) (int, error) { return dialFrom(srv.Addr, origin) }
	// The JSON API sends no CORS headers to anyone: admitting the
	// extensions to the live feed opens nothing else to them.
	for _, origin := range []string{firefox, "chrome-extension://fjamhnalbnojmognfhnilhlakmampnfa", "https://wall.example.org"} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/tweets", nil)
		req.Header.Set("Origin", origin)
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "" {
			t.Errorf("/api/tweets answered %s with Access-Control-Allow-Origin %q", origin, acao)
		}
	}
	tests := []struct {
		name, origin string
		allowed      bool
	}{
		{"no origin (not a browser)", "", true},
		{"the page's own origin", srv.URL, true},
		{"the bundled extension", "chrome-extension://fjamhnalbnojmognfhnilhlakmampnfa", true},
		{"the Firefox extension", firefox, true},
		{"an extra allowed origin", "https://wall.example.org", true},
		{"another site", "https://evil.example", false},
		{"another extension", "chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh", false},
		{"a Firefox origin with no UUID", "moz-extension://tweetwire", false},
		{"a Firefox origin with a cut UUID", "moz-extension://0f3c8e1a-7b2d-4c5e-9a1f", false},
		{"a Firefox origin naming this host", "moz-extension://" + srv.Addr, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := poll(tt.origin)
			if got := resp.StatusCode == 200; got != tt.allowed {
				t.Errorf("polling: status %d, allowed=%v", resp.StatusCode, tt.allowed)
			}
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			if tt.allowed && tt.origin != "" && acao != tt.origin {
				t.Errorf("polling: Access-Control-Allow-Origin = %q, want %q", acao, tt.origin)
			}
			if !tt.allowed && acao != "" {
				t.Errorf("polling: CORS header %q for a refused origin", acao)
			}
			if tt.origin == "" {
				return
			}
			code, err := dial(tt.origin)
			if tt.allowed && (err != nil || code != 101) {
				t.Errorf("websocket: %d %v, want 101", code, err)
			}
			if !tt.allowed && (err == nil || code != 403) {
				t.Errorf("websocket: %d %v, want 403", code, err)
			}
		})
	}
	t.Run("real clients with a foreign origin get connect errors", func(t *testing.T) {
		for _, tr := range []string{"websocket", "polling"} {
			c := startClients(t, srv.URL, "--transports", tr, "--origin", "https://evil.example", "--no-reconnect")
			evs := c.waitUntil("a connect error", 20*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "connect_error") > 0 })
			if countEvents(evs, "connect") != 0 || countEvents(evs, "tweet")+countEvents(evs, "backlog") != 0 {
				t.Errorf("%s: a refused origin connected: %s", tr, tail(evs, 5))
			}
		}
	})
}

// pollFrom opens a polling session at base with the Origin given (none
// when empty).
func pollFrom(t *testing.T, base, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/socket.io/?EIO=3&transport=polling", nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// dialFrom opens a WebSocket at addr with the Origin given and returns
// the handshake's status.
func dialFrom(addr, origin string) (int, error) {
	h := http.Header{}
	h.Set("Origin", origin)
	conn, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/socket.io/?EIO=3&transport=websocket", h)
	if conn != nil {
		conn.Close()
	}
	if resp == nil {
		return 0, err
	}
	return resp.StatusCode, err
}

func TestStartupErrorsAreOneClearSentence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.jsonl")
	_ = os.WriteFile(junk, []byte("not json\n\n{\"also\": \"not a tweet\"\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--colour", "red"}, "run with --help"},
		{"missing replay file", []string{"--source", "replay", "--replay-file", filepath.Join(dir, "nope.jsonl")}, "does not exist"},
		{"file with no valid line", []string{"--source", "replay", "--replay-file", junk}, "has no line with a Twitter v1.1 status"},
		{"bad address", []string{"--addr", "127.0.0.1:http-alt"}, "--addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCommand(t, time.Minute, append(tt.args, "--data-dir", t.TempDir())...)
			if code == 0 {
				t.Fatalf("exit 0, want a failure; output:\n%s%s", out, errOut)
			}
			msg := strings.TrimSpace(out + errOut)
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tt.want) {
				t.Errorf("output = %q, want one line containing %q", msg, tt.want)
			}
		})
	}
	t.Run("address in use", func(t *testing.T) {
		srv := startServer(t, "--source", "demo")
		code, out, errOut := runCommand(t, time.Minute, "--addr", srv.Addr, "--data-dir", t.TempDir())
		if code == 0 || !strings.Contains(errOut, "cannot listen on") {
			t.Errorf("second server on %s: exit %d %s%s", srv.Addr, code, out, errOut)
		}
	})
}

// The fallback page shows posts live in Chromium, over WebSocket and, with
// WebSocket removed from the browser, over long polling.
func TestPageInChromium(t *testing.T) {
	t.Parallel()
	dir := nodeModules(t)
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's chromium is not installed: run scripts/test (it installs it) or apt-get install chromium")
	}
	hostile := `{"id_str":"9","id":9,"text":"<img src=x onerror=alert(1)>","created_at":"Wed Nov 25 18:00:00 +0000 2026","user":{"screen_name":"mallory","name":"<b>Mallory</b>\u202e"}}`
	// Before the hostile post: a post with links and photos, and a repost.
	repost := `{"id_str":"8","id":8,"text":"RT @marta_codes: Grüße aus Zürich","created_at":"Wed Nov 25 17:59:59 +0000 2026","user":{"screen_name":"noa","name":"נועה"},` +
		`"retweeted_status":{"id_str":"7","id":7,"text":"Grüße aus Zürich","created_at":"Wed Nov 25 17:00:00 +0000 2026","user":{"screen_name":"marta_codes","name":"Marta"}}}`
	file, ids := writeReplay(t, 0, 12, richStatusLine(1000080), repost, hostile)
	ids = append(ids, "twitter:1000080", "twitter:8")
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "10", "--backlog", "100")
	for _, tc := range []struct {
		name      string
		flags     []string
		transport string
	}{
		{"websocket", []string{"--expect-state", "websocket"}, "websocket"},
		{"long polling without WebSocket", []string{"--no-websocket", "--expect-state", "long polling"}, "polling"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{filepath.Join(dir, "page-check.mjs"), "--url", srv.URL + "/", "--expect", fmt.Sprint(len(ids) + 1), "--timeout-ms", "30000"}, tc.flags...)
			cmd := exec.Command("node", args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("page-check: %v\n%s\n%s", err, out, stderr.String())
			}
			var res struct {
				Posts        int
				IDs          []string
				Transport    string
				Texts        []string
				Rich         []richView
				BidiIsolated bool
				Alerts       int
				PageErrors   []string
			}
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				_ = json.Unmarshal(sc.Bytes(), &res)
			}
			if res.Posts != len(ids)+1 {
				t.Errorf("page shows %d posts, want %d", res.Posts, len(ids)+1)
			}
			if len(res.IDs) > 0 && res.IDs[0] != "twitter:9" {
				t.Errorf("newest first: first post is %q, want twitter:9", res.IDs[0])
			}
			if res.Transport != tc.transport {
				t.Errorf("transport = %q, want %q", res.Transport, tc.transport)
			}
			if res.Alerts != 0 || len(res.PageErrors) != 0 {
				t.Errorf("alerts=%d pageErrors=%v: post content ran as code", res.Alerts, res.PageErrors)
			}
			if len(res.Texts) == 0 || res.Texts[0] != "<img src=x onerror=alert(1)>" {
				t.Errorf("hostile text not shown literally: %q", res.Texts)
			}
			if len(res.Rich) == len(ids)+1 {
				if l := res.Rich[0].Links; len(l) != 0 {
					t.Errorf("the hostile post shows links %+v", l)
				}
				if got := res.Rich[1].Repost; got != "reposted @marta_codes" {
					t.Errorf("repost line %q, want %q", got, "reposted @marta_codes")
				}
				checkRich(t, res.Rich[2])
			}
			if !res.BidiIsolated {
				t.Error("a name, handle or text is not laid out on its own: a right-to-left override in one (U+202E) reverses the next")
			}
		})
	}
}
