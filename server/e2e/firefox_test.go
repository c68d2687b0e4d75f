package e2e

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// geckoID is the Firefox add-on's id, browser_specific_settings.gecko.id
// in the manifest scripts/js/manifest.mjs writes.
const geckoID = "tweetwire@tweetwire.github.io"

// firefoxOrigin is what Firefox makes of the add-on's pages: a UUID of
// its own per installation (see the README's Origins).
var firefoxOrigin = regexp.MustCompile(`^moz-extension://[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// The Firefox build of the extension (scripts/package-extension firefox),
// unzipped and installed into Debian's headless firefox-esr through
// puppeteer-core over WebDriver BiDi, against the real server. BiDi will
// not open moz-extension:// pages, so firefox-check.mjs installs a test
// build with a reporting hook (scripts/js/firefox-hook.mjs) that answers
// with the add-on's localStorage, its record of notifications, every
// notifications.create call and the popup as it renders. The subtests
// share the browser and run in order: each points the add-on at a server
// of its own through chrome.storage, as the options page does.
func TestFirefoxExtension(t *testing.T) {
	t.Parallel()
	zr, dir := firefoxBuild(t)
	t.Run("the zip is a Firefox add-on with a fixed id that web-ext lint passes", func(t *testing.T) {
		checkFirefoxZip(t, zr, dir)
	})

	d, ready := startDriver(t, "firefox-check.mjs", "--extension", dir, "--max-ms", "300000")
	ff := &extension{d}
	if !firefoxOrigin.MatchString(ready.ID) {
		t.Fatalf("the add-on's pages have the origin %q, want moz-extension://<uuid>", ready.ID)
	}
	t.Run("over WebSocket posts become paced notifications, stay in localStorage and show in the popup as text", func(t *testing.T) {
		testFirefoxPosts(t, ff)
	})
	t.Run("a server with --firefox-extension=false refuses it", func(t *testing.T) {
		srv := startServer(t, "--source", "demo", "--demo-rate", "5", "--firefox-extension=false")
		ff.settings(t, map[string]any{"serverUrl": srv.URL}, nil)
		s := ff.waitFor(t, "the connection refused", 30*time.Second, func(s extSnapshot) bool {
			return s.Status.Server == srv.URL && s.Status.State == "reconnecting" && s.Status.Error != ""
		})
		if len(s.Posts) != 0 {
			t.Errorf("the refused add-on lists %d posts", len(s.Posts))
		}
	})
	// The Chrome extension's own subtests, unchanged: the same behaviour
	// from the same code.
	t.Run("mute words, the pause switch and the notify option list posts without notifying", func(t *testing.T) {
		testExtensionQuiet(t, ff)
	})
	t.Run("reconnects after a server restart and gets the posts it missed once", func(t *testing.T) {
		testExtensionReconnect(t, ff)
	})
	t.Run("without WebSocket the add-on follows the server over long polling", func(t *testing.T) {
		testFirefoxPolling(t, ff)
	})
}

// Firefox suspends an event page that has been idle for a while (30 s;
// here 1 s, through the browser's preference), closing its socket: the
// server's pings every 25 s keep it up only under the real limit. Posts come one every 4 s, so the page sleeps through most of
// them; the alarm wakes it, and it must ask for what it missed with
// `since` (the server's backlog of 2 would not hold them) and notify each
// once.
func TestFirefoxEventPageSuspended(t *testing.T) {
	t.Parallel()
	_, dir := firefoxBuild(t)
	d, _ := startDriver(t, "firefox-check.mjs", "--extension", dir, "--idle-ms", "1000", "--max-ms", "300000")
	ff := &extension{d}
	lines, ids := firefoxPostLines(600, 6)
	srv := startServer(t, "--source", "replay", "--replay-file", replayFile(t, lines), "--replay-rate", "0.25", "--backlog", "2")
	ff.settings(t, map[string]any{"serverUrl": srv.URL}, nil)
	ff.waitFor(t, "the first post", 30*time.Second, func(s extSnapshot) bool {
		return s.from(srv) && len(s.Posts) > 0
	})
	// Asking the page anything keeps it up (it calls extension APIs to
	// answer), so the test waits without asking until it is suspended;
	// the snapshots after that are answered once the alarm woke it.
	ff.call(t, map[string]any{"cmd": "suspended"}, nil)
	snap := ff.waitFor(t, "every post, after the page woke", 150*time.Second, func(s extSnapshot) bool {
		return s.from(srv) && len(s.Posts) == len(ids) && s.notified(ids)
	})
	if snap.Starts < 2 {
		t.Errorf("the event page started %d times, want it suspended and woken at least once", snap.Starts)
	}
	if got := snap.postIDs(); !slices.Equal(got, reversed(ids)) {
		t.Errorf("listed %v, want %v", got, reversed(ids))
	}
	if msg := exactlyOnce(snap.shownFor(ids), ids, ""); msg != "" {
		t.Error(msg)
	}
}

// firefoxBuild builds the Firefox zip and unzips it; it returns the zip
// and the folder.
func firefoxBuild(t *testing.T) (*zip.Reader, string) {
	t.Helper()
	out := packageExtension(t, "firefox", t.TempDir())
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	zipPath := lines[len(lines)-1]
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatalf("no zip at %s: %v", zipPath, err)
	}
	t.Cleanup(func() { zr.Close() })
	dir := t.TempDir()
	unzip(t, &zr.Reader, dir)
	return &zr.Reader, dir
}

// checkFirefoxZip checks the packaged add-on: its manifest at the root
// with the gecko id and an event page instead of Chrome's service worker
// and offscreen document, every file it refers to, and web-ext lint.
func checkFirefoxZip(t *testing.T, zr *zip.Reader, dir string) {
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	checkZipRefs(t, files)
	var m struct {
		Key        *string
		Background struct {
			Scripts       []string
			ServiceWorker string `json:"service_worker"`
		}
		Permissions []string
		BSS         struct {
			Gecko struct{ ID string }
		} `json:"browser_specific_settings"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatalf("no manifest.json at the zip's root: %v", err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.BSS.Gecko.ID != geckoID || m.Key != nil || m.Background.ServiceWorker != "" || slices.Contains(m.Permissions, "offscreen") {
		t.Errorf("manifest: gecko id %q, key %v, service worker %q, permissions %v; want the id %s, no key, no service worker, no offscreen",
			m.BSS.Gecko.ID, m.Key != nil, m.Background.ServiceWorker, m.Permissions, geckoID)
	}
	for _, s := range m.Background.Scripts {
		if files[s] == nil {
			t.Errorf("background script %s is not in the zip", s)
		}
	}
	for _, chromeOnly := range []string{"service-worker.js", "offscreen/offscreen.html", "background/offscreen-document.js"} {
		if files[chromeOnly] != nil {
			t.Errorf("the Firefox zip holds Chrome's %s", chromeOnly)
		}
	}
	lint := exec.Command("node", filepath.Join(nodeModules(t), "node_modules", "web-ext", "bin", "web-ext.js"),
		"lint", "--source-dir", dir, "--output", "json", "--no-input")
	lint.Env = append(os.Environ(), "WEB_EXT_NO_UPDATE_CHECK=1")
	body, _ := lint.Output() // exits 1 on errors; the report says which
	var report struct {
		Summary struct{ Errors, Warnings int }
		Errors  []struct{ Code, Message, File string }
	}
	if err := json.Unmarshal(body[strings.IndexByte(string(body), '{'):], &report); err != nil {
		t.Fatalf("web-ext lint printed %.500s: %v", body, err)
	}
	if report.Summary.Errors != 0 {
		t.Errorf("web-ext lint: %d errors: %+v", report.Summary.Errors, report.Errors)
	}
}

// firefoxPostLines are world-like posts: emoji, accents, Cyrillic, CJK,
// Arabic and Hebrew, and markup that must stay text, by authors with
// such names; the last one hostile.
func firefoxPostLines(first, n int) (lines, ids []string) {
	names := []string{"Zoë 🎉", "山田太郎", "سارة", "<b>Mallory</b>"}
	for i := first; i < first+n; i++ {
		text := worldTexts[i%len(worldTexts)]
		lines = append(lines, statusLine(i, text, fmt.Sprintf("user%d", i%4), names[i%4], redDot))
		ids = append(ids, postID(i))
	}
	return lines, ids
}

func testFirefoxPosts(t *testing.T, ff *extension) {
	lines, ids := firefoxPostLines(300, 24)
	lines = append(lines, statusLine(324, "<img src=x onerror=alert(1)> <b>bold</b>", "mallory", "<b>Mallory</b>", redDot))
	ids = append(ids, postID(324))
	srv := startServer(t, "--source", "replay", "--replay-file", replayFile(t, lines), "--replay-rate", "10", "--backlog", "100")
	ff.settings(t, map[string]any{"serverUrl": srv.URL}, nil)
	snap := ff.waitFor(t, "every post listed and notified", 45*time.Second, func(s extSnapshot) bool {
		return s.from(srv) && len(s.Posts) == len(ids) && s.notified(ids) && s.Badge == strconv.Itoa(s.Unread) && s.Status.Transport == "websocket"
	})

	t.Run("connected over WebSocket from the moz-extension origin", func(t *testing.T) {
		if snap.Status.State != "connected" || snap.Status.Transport != "websocket" || snap.Polling {
			t.Errorf("status %+v (polling only: %v), want connected over websocket", snap.Status, snap.Polling)
		}
	})
	t.Run("localStorage holds the posts, newest first, with their text intact", func(t *testing.T) {
		if got := snap.postIDs(); !slices.Equal(got, reversed(ids)) {
			t.Errorf("localStorage lists %v, want %v", got, reversed(ids))
		}
		for _, p := range snap.Posts {
			i, _ := strconv.Atoi(strings.TrimPrefix(p.ID, "twitter:1000"))
			// The server decodes the entities Twitter escapes.
			if want := html.UnescapeString(worldTexts[i%len(worldTexts)]); i < 324 && p.Text != want {
				t.Errorf("%s stored as %q, want %q", p.ID, p.Text, want)
			}
		}
		if snap.Cursor.ID != postID(324) || snap.Unread != len(ids) || snap.Badge != strconv.Itoa(len(ids)) {
			t.Errorf("cursor %+v, unread %d, badge %q; want the last post and %d unread on the badge", snap.Cursor, snap.Unread, snap.Badge, len(ids))
		}
	})
	t.Run("each post is notified once, at most one a second, the rush in one digest, through notifications.create", func(t *testing.T) {
		shown := snap.shownFor(ids)
		if msg := exactlyOnce(shown, ids, ""); msg != "" {
			t.Error(msg)
		}
		checkPacing(t, shown)
		checkDigest(t, shown, srv.URL)
		// Firefox has no notifications.update: each digest update is a
		// create with the same id, which replaces it.
		created := map[string]int{}
		for _, c := range snap.Created {
			created[c.ID+"\x00"+c.Title]++
		}
		for _, n := range shown {
			if created[n.ID+"\x00"+n.Title] == 0 {
				t.Errorf("notification %s %q recorded but never passed to notifications.create", n.ID, n.Title)
			}
		}
	})
	t.Run("the popup lists them with markup shown as text and clears the badge", func(t *testing.T) {
		pop := ff.popup(t)
		if got := pop.ids(); !slices.Equal(got, reversed(ids)) {
			t.Fatalf("popup lists %v, want %v", got, reversed(ids))
		}
		first := pop.Items[0]
		if first.Text != "<img src=x onerror=alert(1)> <b>bold</b>" || first.Name != "<b>Mallory</b>" || first.Handle != "@mallory" {
			t.Errorf("hostile post shown as %+v, want its text and name literally", first)
		}
		for _, it := range pop.Items[1:] {
			i, _ := strconv.Atoi(strings.TrimPrefix(it.ID, "twitter:1000"))
			if want := html.UnescapeString(worldTexts[i%len(worldTexts)]); !strings.Contains(it.Text, strings.TrimSuffix(want, " #GoConf")) {
				t.Errorf("popup shows %s as %q, want %q", it.ID, it.Text, want)
			}
		}
		if pop.StrayImages != 0 {
			t.Errorf("post content became markup: %d stray elements", pop.StrayImages)
		}
		if pop.State != "connected" || !strings.Contains(pop.StateText, srv.Addr) {
			t.Errorf("popup connection state %q %q, want connected to %s", pop.State, pop.StateText, srv.Addr)
		}
		if pop.BadgeAfter != "" {
			t.Errorf("badge %q after opening the popup, want it cleared", pop.BadgeAfter)
		}
	})
}

func testFirefoxPolling(t *testing.T, ff *extension) {
	var restarted struct{ Origin string }
	ff.call(t, map[string]any{"cmd": "polling"}, &restarted)
	lines, ids := firefoxPostLines(500, 12)
	srv := startServer(t, "--source", "replay", "--replay-file", replayFile(t, lines), "--replay-rate", "5", "--backlog", "100")
	ff.settings(t, map[string]any{"serverUrl": srv.URL}, nil)
	snap := ff.waitFor(t, "every post over long polling", 45*time.Second, func(s extSnapshot) bool {
		return s.from(srv) && len(s.Posts) == len(ids) && s.notified(ids)
	})
	if !snap.Polling || snap.Starts < 2 || snap.Status.State != "connected" || snap.Status.Transport != "polling" {
		t.Errorf("polling only %v after %d starts, status %+v; want connected over polling after a restart", snap.Polling, snap.Starts, snap.Status)
	}
	if !firefoxOrigin.MatchString(restarted.Origin) {
		t.Errorf("the restarted add-on's origin is %q", restarted.Origin)
	}
	if got := snap.postIDs(); !slices.Equal(got, reversed(ids)) {
		t.Errorf("listed %v, want %v", got, reversed(ids))
	}
	shown := snap.shownFor(ids)
	if msg := exactlyOnce(shown, ids, ""); msg != "" {
		t.Error(msg)
	}
	checkPacing(t, shown)
}
