package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// pages drives the server's pages in one browser (scripts/js/pages-check.mjs):
// the wall, the moderation console and the display, each opened once and
// read as a person would see it.
type pages struct {
	*driver
	t *testing.T
}

func startPages(t *testing.T, base string) *pages {
	d, _ := startDriver(t, "pages-check.mjs", "--base", base, "--max-ms", "400000")
	return &pages{d, t}
}

// open loads path in the named page, at 1440x1000 unless a size is given.
func (p *pages) open(page, path string, size ...int) {
	p.t.Helper()
	cmd := map[string]any{"cmd": "open", "page": page, "path": path}
	if len(size) == 2 {
		cmd["width"], cmd["height"] = size[0], size[1]
	}
	p.call(p.t, cmd, nil)
}

// do runs a command on a page; kv are its further fields, in pairs.
func (p *pages) do(cmd string, page string, kv ...string) {
	p.t.Helper()
	m := map[string]any{"cmd": cmd, "page": page}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	p.call(p.t, m, nil)
}

func (p *pages) read(page string, into any) {
	p.t.Helper()
	p.call(p.t, map[string]any{"cmd": "read", "page": page}, into)
}

// waitFor reads a page until ok accepts what it shows.
func waitFor[V any](p *pages, page, what string, ok func(V) bool) V {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var v V
		p.read(page, &v)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the %s page never showed %s; it shows %+v\n%s", page, what, v, p.tail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// screenshot saves the page as a PNG: what the viewport shows, or the
// whole page.
func (p *pages) screenshot(page, path string, full bool) {
	p.t.Helper()
	p.call(p.t, map[string]any{"cmd": "screenshot", "page": page, "path": path, "full": full}, nil)
}

func (p *pages) wall() (v wallView) { p.t.Helper(); p.read("wall", &v); return v }

func (p *pages) waitWall(what string, ok func(wallView) bool) wallView {
	p.t.Helper()
	return waitFor(p, "wall", what, ok)
}

// wallView is what it reads off the wall.
type wallView struct {
	IDs, Pinned, Texts                []string
	Title, EventName, Terms           string
	Count, CountHref, NewPosts, Older string
	Paused                            bool
	ScrollY                           float64
	SourceState                       string
	OverflowX                         bool
	TextPx                            float64
	NotifyButton, NotifyState         string
	Notifications                     []struct{ Title, Body, Tag, Icon string }
	PageErrors                        []string
	Dialogs                           int
}

// displayView is what it reads off the display.
type displayView struct {
	Spotlight      string
	Recent         []string
	More           string
	State          string
	EventName, CTA string
	QR             string
	Help           bool
	Theme          string
	Overflow       bool
	FontPx         float64
	Pinned         bool
	SpotRich       richView
	SourceState    string
	PageErrors     []string
	Dialogs        int
}

func (v displayView) String() string {
	return fmt.Sprintf("spotlight %q, recent %v, more %q, state %q, stream %q, header %q / %q, qr %q, overflow %v, font %.0fpx",
		v.Spotlight, v.Recent, v.More, v.State, v.SourceState, v.EventName, v.CTA, v.QR, v.Overflow, v.FontPx)
}

// modStatus is a v1.1 status by user, created id seconds after a fixed
// instant, so that ids and times agree on the order.
// modRetweet is modStatus for a retweet, by user, of the post origID by
// origUser, which Twitter says was retweeted count times.
func modRetweet(id int, user, name string, origID int, origUser, origName, origText string, count int) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(modStatus(id, user, name, "RT @"+origUser+": "+origText)), &m)
	var orig map[string]any
	_ = json.Unmarshal([]byte(modStatus(origID, origUser, origName, origText)), &orig)
	orig["retweet_count"] = count
	m["retweeted_status"] = orig
	b, _ := json.Marshal(m)
	return string(b)
}

func modStatus(id int, user, name, text string) string {
	b, _ := json.Marshal(map[string]any{
		"id_str": fmt.Sprint(id), "id": id, "text": text, "lang": "und",
		"created_at": time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Second).Format(time.RubyDate),
		"user":       map[string]any{"screen_name": user, "name": name, "profile_image_url_https": "https://pbs.twimg.com/a.jpg"},
		"entities":   map[string]any{"hashtags": []any{map[string]any{"text": "GoConf"}}},
	})
	return string(b)
}
