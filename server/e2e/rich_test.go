package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The rich post that the wall and the extension popup are checked with: a
// Twitter v1.1 status, as a replay reads it, whose text puts emoji,
// Arabic and CJK before its links (so that Twitter's code point indices
// and the UTF-16 offsets a page slices with differ), with a hashtag, a
// mention, a t.co link, a t.co link to javascript:, and two photos: one
// inline that loads offline, one whose server refuses the connection.
const (
	richText      = "🎉 مرحبا @marta_codes! #GoConf 東京 → https://t.co/AbCdEf1234 evil: https://t.co/EvilEvil99 https://t.co/PhotoPh0to"
	richExpanded  = "https://goconf.example/2026/slides?day=2"
	richDisplay   = "goconf.example/2026/slides…"
	richPhotoAlt  = "Die Bühne «GoConf» 🎤 — المسرح الرئيسي"
	richBrokenAlt = "a photo that never loads"
	richPhoto     = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='64' height='36'%3E%3Crect width='64' height='36' fill='teal'/%3E%3C/svg%3E"
)

// richStatusLine is that status, with the given id, by @carmen_go.
func richStatusLine(id int) string {
	idx := func(sub string) []int {
		at := strings.Index(richText, sub)
		start := utf8.RuneCountInString(richText[:at]) // Twitter counts code points
		return []int{start, start + utf8.RuneCountInString(sub)}
	}
	media := []map[string]any{
		{"id_str": "1", "type": "photo", "url": "https://t.co/PhotoPh0to", "display_url": "pic.twitter.com/PhotoPh0to",
			"expanded_url": "https://twitter.com/carmen_go/status/1/photo/1", "media_url_https": richPhoto, "indices": idx("https://t.co/PhotoPh0to"),
			"ext_alt_text": richPhotoAlt, "sizes": map[string]any{"large": map[string]any{"w": 640, "h": 360, "resize": "fit"}}},
		{"id_str": "2", "type": "photo", "url": "https://t.co/PhotoPh0to", "display_url": "pic.twitter.com/PhotoPh0to",
			"expanded_url": "https://twitter.com/carmen_go/status/1/photo/2", "media_url_https": "https://127.0.0.1:1/broken.jpg", "indices": idx("https://t.co/PhotoPh0to"),
			"ext_alt_text": richBrokenAlt},
	}
	b, _ := json.Marshal(map[string]any{
		"id_str":     fmt.Sprint(id),
		"id":         id,
		"full_text":  richText,
		"created_at": time.Now().UTC().Format(time.RubyDate),
		"lang":       "ar",
		"user":       map[string]any{"screen_name": "carmen_go", "name": "كارمن Ruiz", "profile_image_url_https": "https://example.invalid/c.png"},
		"entities": map[string]any{
			"hashtags":      []map[string]any{{"text": "GoConf", "indices": idx("#GoConf")}},
			"user_mentions": []map[string]any{{"screen_name": "marta_codes", "indices": idx("@marta_codes")}},
			"urls": []map[string]any{
				{"url": "https://t.co/AbCdEf1234", "expanded_url": richExpanded, "display_url": richDisplay, "indices": idx("https://t.co/AbCdEf1234")},
				{"url": "https://t.co/EvilEvil99", "expanded_url": "javascript:alert(document.domain)", "display_url": "harmless.example", "indices": idx("https://t.co/EvilEvil99")},
			},
			"media": media[:1],
		},
		"extended_entities": map[string]any{"media": media},
	})
	return string(b)
}

// richView is what a page reports of one post: its links, the images of
// its media grid still in the page, and the dir attributes of its name
// and text.
type richView struct {
	Links []struct {
		Text, Href, Class, Target, Rel, Dir string
	}
	// MediaClass is the class of the media grid, which says how many
	// photos it lays out.
	MediaClass string
	Images     []struct {
		Alt, Src, Loading string
		Width, Height     int
		Loaded            bool
	}
	NameDir, TextDir string
	Repost           string
}

// checkRich checks that a page shows the rich post as it should.
func checkRich(t *testing.T, v richView) {
	t.Helper()
	want := []struct{ text, href, class string }{
		{"@marta_codes", "https://twitter.com/marta_codes", "entity entity-mention"},
		{"#GoConf", "https://twitter.com/hashtag/GoConf", "entity entity-hashtag"},
		{richDisplay, richExpanded, "entity entity-url"},
		{"pic.twitter.com/PhotoPh0to", "https://twitter.com/carmen_go/status/1/photo/1", "entity entity-url"},
	}
	if len(v.Links) != len(want) {
		t.Errorf("links %+v, want %d: the mention, the hashtag, the expanded URL and the photo link, not the javascript: one", v.Links, len(want))
	}
	for i := range min(len(v.Links), len(want)) {
		got, w := v.Links[i], want[i]
		if got.Text != w.text || got.Href != w.href || got.Class != w.class {
			t.Errorf("link %d = %q -> %q (%s), want %q -> %q (%s)", i, got.Text, got.Href, got.Class, w.text, w.href, w.class)
		}
		if got.Target != "_blank" || !strings.Contains(got.Rel, "noopener") || !strings.Contains(got.Rel, "noreferrer") {
			t.Errorf("link %q opens with target %q rel %q, want a new tab with noopener noreferrer", got.Text, got.Target, got.Rel)
		}
		if got.Dir != "auto" {
			t.Errorf("link %q has dir %q, want auto: in right-to-left text it would read %q", got.Text, got.Dir, "marta_codes@")
		}
	}
	for _, l := range v.Links {
		if !strings.HasPrefix(l.Href, "https://") {
			t.Errorf("link %q leads to %q, want only https links", l.Text, l.Href)
		}
	}
	if len(v.Images) != 1 {
		t.Fatalf("media images %+v, want the inline photo only (the broken one removed)", v.Images)
	}
	if v.MediaClass != "media media-1" {
		t.Errorf("media grid class %q after the broken photo left, want %q: one photo takes the width", v.MediaClass, "media media-1")
	}
	img := v.Images[0]
	if img.Alt != richPhotoAlt || img.Src != richPhoto || img.Width != 640 || img.Height != 360 || img.Loading != "lazy" || !img.Loaded {
		t.Errorf("photo = %+v, want the inline photo loaded lazily, 640×360, with alt %q", img, richPhotoAlt)
	}
	if v.NameDir != "auto" || v.TextDir != "auto" {
		t.Errorf("dir of name %q and text %q, want auto for right-to-left text", v.NameDir, v.TextDir)
	}
}

// A post's links, photos and reposted author are stored with it: after a
// restart, /api/tweets and the backlog still carry them, as clients got
// them live.
func TestRichPostsSurviveARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	repost := `{"id_str":"8","id":8,"text":"RT @marta_codes: Grüße aus Zürich","created_at":"Wed Nov 25 17:59:59 +0000 2026","user":{"screen_name":"noa","name":"נועה"},` +
		`"retweeted_status":{"id_str":"7","id":7,"text":"Grüße aus Zürich","created_at":"Wed Nov 25 17:00:00 +0000 2026","user":{"screen_name":"marta_codes","name":"Marta"}}}`
	file, _ := writeReplay(t, 0, 0, richStatusLine(1000080), repost)
	args := []string{"--source", "replay", "--replay-file", file, "--replay-rate", "0", "--data-dir", dir}
	first := startServer(t, args...)
	first.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	type richPost struct {
		ID       string
		Entities []struct {
			Kind, Href, Display string
			Start, End          int
		}
		Media []struct {
			Type, URL, Alt string
			Width, Height  int
		}
		RepostOf *struct{ User, Name string } `json:"repost_of"`
	}
	read := func(base string) []richPost {
		var page struct{ Tweets []richPost }
		if code := getJSON(t, base+"/api/tweets?limit=10", &page); code != 200 {
			t.Fatalf("GET /api/tweets: %d", code)
		}
		return page.Tweets
	}
	// The source has finished before the writer has stored what it read.
	live := read(first.URL)
	for deadline := time.Now().Add(20 * time.Second); len(live) < 2 && time.Now().Before(deadline); live = read(first.URL) {
		time.Sleep(50 * time.Millisecond)
	}
	first.Stop()
	second := startServer(t, args...)
	stored := read(second.URL)
	if !reflect.DeepEqual(stored, live) || len(stored) != 2 {
		t.Fatalf("after a restart /api/tweets gives\n%+v\nwant what it gave before\n%+v", stored, live)
	}
	byID := map[string]richPost{}
	for _, p := range stored {
		byID[p.ID] = p
	}
	repostOf, rich := byID["twitter:8"], byID["twitter:1000080"]
	if repostOf.RepostOf == nil || repostOf.RepostOf.User != "marta_codes" || repostOf.RepostOf.Name != "Marta" {
		t.Errorf("repost_of = %+v, want marta_codes", repostOf.RepostOf)
	}
	// The text is richText: @marta_codes at code point 8, after an emoji
	// (2 UTF-16 units), so at UTF-16 offset 9.
	if len(rich.Entities) != 4 || rich.Entities[0].Kind != "mention" || rich.Entities[0].Start != 9 || rich.Entities[2].Display != richDisplay {
		t.Errorf("entities = %+v, want the mention at 9, the hashtag, the URL shown as %q and the photo link", rich.Entities, richDisplay)
	}
	if len(rich.Media) != 2 || rich.Media[0].Alt != richPhotoAlt || rich.Media[0].Width != 640 {
		t.Errorf("media = %+v, want both photos with their alt text and size", rich.Media)
	}
}
