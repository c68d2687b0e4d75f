package e2e

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// worldTexts are posts in the scripts and markup real events see. Each
// breaks a parser that counts bytes where Engine.IO 3 counts UTF-16 units.
var worldTexts = []string{
	"Party 🎉 time 👍🏽 at #GoConf",
	"Café crème brûlée, naïve façade at #GoConf",
	"Привет из Москвы! Ёлка #GoConf",
	"東京で会いましょう 한국어 中文 #GoConf",
	"مرحبا بالعالم #GoConf",
	"שלום עולם #GoConf",
	`<b>&amp;</b> "quoted" \ back #GoConf`,
	"mixed € 🎉 é Ж 東 ع ש #GoConf",
}

// writeWorldReplay writes n posts cycling through worldTexts and returns
// the file, the ids in order and each id's text.
func writeWorldReplay(t *testing.T, n int) (string, []string, map[string]string) {
	t.Helper()
	var b strings.Builder
	var ids []string
	texts := map[string]string{}
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for i := range n {
		text := fmt.Sprintf("%d %s", i, worldTexts[i%len(worldTexts)])
		line, _ := json.Marshal(map[string]any{
			"id_str":     fmt.Sprint(2000000 + i),
			"id":         2000000 + i,
			"text":       text,
			"created_at": base.Add(time.Duration(i) * time.Second).Format(time.RubyDate),
			"lang":       "und",
			"user":       map[string]any{"screen_name": "léa", "name": "Léa 🎉 Дмитрий", "profile_image_url_https": "https://example.invalid/a.png"},
			"entities":   map[string]any{"hashtags": []map[string]any{{"text": "GoConf"}}},
		})
		b.Write(line)
		b.WriteByte('\n')
		id := fmt.Sprintf("twitter:%d", 2000000+i)
		ids = append(ids, id)
		// Twitter's v1.1 text is HTML-escaped; the source unescapes it.
		texts[id] = html.UnescapeString(text)
	}
	path := filepath.Join(t.TempDir(), "replay.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, ids, texts
}

// checkWorldPosts checks that every client got every post once, in order,
// with its text intact, and never lost its connection.
func checkWorldPosts(t *testing.T, c *clients, clients int, ids []string, texts map[string]string) {
	t.Helper()
	c.waitUntil(fmt.Sprintf("all %d posts on %d clients", len(ids), clients), 60*time.Second, func(evs []clientEvent) bool {
		got := received(evs)
		for i := range clients {
			if len(got[i]) < len(ids) {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	evs := c.snapshot()
	for client, got := range received(evs) {
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("client %d got %d ids, not the %d replayed ones once each in order; first difference at %d", client, len(got), len(ids), firstDiff(got, ids))
		}
	}
	for _, e := range evs {
		var ps []post
		switch e.Event {
		case "backlog":
			_ = json.Unmarshal(e.Data, &ps)
		case "tweet":
			var p post
			_ = json.Unmarshal(e.Data, &p)
			ps = append(ps, p)
		case "disconnect", "connect_error", "error", "reconnect_attempt":
			t.Errorf("client %d: %s %s%s", e.Client, e.Event, e.Reason, e.Error)
		}
		for _, p := range ps {
			if p.Text != texts[p.ID] {
				t.Errorf("client %d: post %s text %q, want %q", e.Client, p.ID, p.Text, texts[p.ID])
			}
		}
	}
}

// A socket.io-client 2.5.0 in Node asks for text payloads (b64=1) on
// polling. Their Engine.IO 3 lengths count UTF-16 code units: a server
// that counts bytes makes the client fail with "parser error" on the
// first non-ASCII post and reconnect forever.
func TestPollingClientReceivesNonASCIIPosts(t *testing.T) {
	t.Parallel()
	file, ids, texts := writeWorldReplay(t, 80)
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "40", "--backlog", "1000")
	c := startClients(t, srv.URL, "--transports", "polling", "--clients", "2", "--no-reconnect")
	checkWorldPosts(t, c, 2, ids, texts)
}

// The client matrix: socket.io-client 2.5.0 (Engine.IO 3), 3.1.3 and
// 4.8.1 (Engine.IO 4), each over WebSocket only, polling only and the
// default upgrade, receive every post full of emoji, accents, Cyrillic,
// CJK and RTL text exactly once, in order, from the backlog and live;
// then each generation resumes with `since` (query for 2.x, auth for
// later clients) and gets exactly the posts after it.
func TestClientMatrixReceivesEveryPostOnce(t *testing.T) {
	t.Parallel()
	file, ids, texts := writeWorldReplay(t, 60)
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "30", "--backlog", "1000")
	versions := []string{"v2", "v3", "v4"}
	procs := map[string]*clients{}
	for _, v := range versions {
		for _, tr := range []string{"websocket", "polling", "default"} {
			procs[v+" "+tr] = startClients(t, srv.URL, "--client", v, "--transports", tr, "--no-reconnect")
		}
	}
	srv.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	for name, c := range procs {
		t.Run(name, func(t *testing.T) {
			checkWorldPosts(t, c, 1, ids, texts)
			evs := c.snapshot()
			if n := countEvents(evs, "backlog"); n != 1 {
				t.Errorf("%d backlog events, want 1", n)
			}
			wantUpgrade := 0
			if strings.HasSuffix(name, "default") {
				wantUpgrade = 1
			}
			if n := countEvents(evs, "upgrade"); n != wantUpgrade {
				t.Errorf("%d upgrades to websocket, want %d", n, wantUpgrade)
			}
		})
	}
	for _, v := range versions {
		t.Run(v+" since", func(t *testing.T) {
			c := startClients(t, srv.URL, "--client", v, "--since", ids[40], "--no-reconnect")
			checkWorldPosts(t, c, 1, ids[41:], texts)
		})
	}
}

// A foreign Origin is refused on both transports for both generations;
// an allowed one connects.
func TestForeignOriginRefusedForEveryClient(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--source", "demo", "--demo-rate", "5", "--allowed-origins", "https://wall.example.org")
	for _, v := range []string{"v2", "v3", "v4"} {
		for _, tr := range []string{"websocket", "polling"} {
			for origin, allowed := range map[string]bool{"https://evil.example": false, "https://wall.example.org": true} {
				t.Run(fmt.Sprintf("%s %s %s", v, tr, origin), func(t *testing.T) {
					c := startClients(t, srv.URL, "--client", v, "--transports", tr, "--origin", origin, "--no-reconnect")
					evs := c.waitUntil("connect or connect_error", 20*time.Second, func(evs []clientEvent) bool {
						return countEvents(evs, "backlog") > 0 || countEvents(evs, "connect_error") > 0
					})
					if got := countEvents(evs, "backlog") > 0; got != allowed {
						t.Errorf("backlog received = %v, want %v: %s", got, allowed, tail(evs, 10))
					}
					if !allowed && countEvents(evs, "connect_error") == 0 {
						t.Errorf("no connect_error for a refused origin: %s", tail(evs, 10))
					}
				})
			}
		}
	}
}
