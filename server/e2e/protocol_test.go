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
	evs := c.waitUntil(fmt.Sprintf("all %d posts on %d clients", len(ids), clients), 60*time.Second, func(evs []clientEvent) bool {
		got := received(evs)
		for i := range clients {
			if len(got[i]) < len(ids) {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	evs = c.snapshot()
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
