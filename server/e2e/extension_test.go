package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// extensionID follows from the `key` in extension/manifest.json; the server
// allows it by name (web.ExtensionOrigin).
const extensionID = "fjamhnalbnojmognfhnilhlakmampnfa"

// The Chrome extension, loaded unpacked into Debian's headless Chromium,
// against the real server. The subtests share one browser (starting it is
// the slow part) and each points the extension at a server of its own
// through chrome.storage, as the options page does; a new server URL
// starts a new list, so they do not see each other's posts. Each sets up
// its server and waits for the extension once, then checks what it shows
// in subtests of its own.
func TestExtension(t *testing.T) {
	t.Parallel()
	ext := startExtension(t)
	t.Run("posts become paced notifications and the popup lists the newest 50 as text", func(t *testing.T) {
		testExtensionPosts(t, ext)
	})
	t.Run("mute words, the pause switch and the notify option list posts without notifying", func(t *testing.T) {
		testExtensionQuiet(t, ext)
	})
	t.Run("reconnects after a server restart and gets the posts it missed once", func(t *testing.T) {
		testExtensionReconnect(t, ext)
	})
	t.Run("a stopped service worker wakes without a second offscreen document", func(t *testing.T) {
		testExtensionWorkerStop(t, ext)
	})
}

// testExtensionPosts replays 71 posts at 10 a second, one of them deleted
// after it was shown and the last one hostile, and checks the list, the
// notifications, the badge and then the popup, which marks them read.
func testExtensionPosts(t *testing.T, ext *extension) {
	var lines []string
	var ids []string // every post, in replay order
	for i := range 70 {
		lines = append(lines, statusLine(i, fmt.Sprintf("post %d about #GoConf", i), fmt.Sprintf("user%d", i%7), fmt.Sprintf("User %d", i%7), "https://example.invalid/a.png"))
		ids = append(ids, postID(i))
		if i == 59 {
			lines = append(lines, deleteLine(30)) // long after post 30 was shown
		}
	}
	lines = append(lines, richStatusLine(1000089), statusLine(90, "<img src=x onerror=alert(1)>", "mallory", "<b>Mallory</b>", redDot))
	ids = append(ids, postID(89), postID(90))
	deleted := postID(30)
	kept := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == deleted })
	want := reversed(kept[len(kept)-50:]) // the newest 50 without the deleted one, newest first
	srv := startServer(t, "--source", "replay", "--replay-file", replayFile(t, lines), "--replay-rate", "10", "--backlog", "100", "--admin-token", e2eToken)
	ext.settings(t, map[string]any{"serverUrl": srv.URL}, nil)

	maxActive := 0
	snap := ext.waitFor(t, "every post listed and notified", 30*time.Second, func(s extSnapshot) bool {
		maxActive = max(maxActive, len(s.Active))
		return s.from(srv) && len(s.Posts) > 0 && s.Posts[0].ID == postID(90) && s.notified(kept) && s.Badge == strconv.Itoa(s.Unread)
	})

	t.Run("localStorage keeps the newest 50 and the cursor", func(t *testing.T) {
		if got := snap.postIDs(); !slices.Equal(got, want) {
			t.Errorf("localStorage lists %d posts %v\nwant the newest 50 without the deleted one, newest first: %v", len(got), got, want)
		}
		if snap.Cursor.ID != postID(90) || snap.Cursor.Server != srv.URL {
			t.Errorf("cursor = %+v, want the last post from %s", snap.Cursor, srv.URL)
		}
	})

	t.Run("each post is notified once, at most one notification a second, the rush in one digest", func(t *testing.T) {
		shown := snap.shownFor(ids)
		if msg := exactlyOnce(shown, kept, deleted); msg != "" {
			t.Error(msg)
		}
		checkPacing(t, shown)
		checkDigest(t, shown, srv.URL)
		if maxActive == 0 {
			t.Error("chrome.notifications.getAll() never showed a notification")
		}
	})

	t.Run("the badge counts the unread posts", func(t *testing.T) {
		if snap.Unread != len(kept) || snap.Badge != strconv.Itoa(len(kept)) {
			t.Errorf("unread %d, badge %q; want %d unread on the badge", snap.Unread, snap.Badge, len(kept))
		}
	})

	// Last: opening the popup marks every post read.
	t.Run("the popup lists the posts as text and clears the badge", func(t *testing.T) {
		pop := ext.popup(t)
		if got := pop.ids(); !slices.Equal(got, want) {
			t.Errorf("popup lists %v, want %v", got, want)
		}
		if len(pop.Items) > 0 {
			first := pop.Items[0]
			if first.Text != "<img src=x onerror=alert(1)>" || first.Name != "<b>Mallory</b>" || first.Handle != "@mallory" {
				t.Errorf("hostile post shown as %+v, want its text and name literally", first)
			}
			if first.Avatar != redDot {
				t.Errorf("data: avatar became %q", first.Avatar)
			}
			if len(first.Rich.Links) != 0 || len(first.Rich.Images) != 0 {
				t.Errorf("a post without entities or media shows links %+v and images %+v", first.Rich.Links, first.Rich.Images)
			}
		}
		if len(pop.Items) > 1 {
			// The post before it: links, a photo, right-to-left text.
			checkRich(t, pop.Items[1].Rich)
			for _, it := range pop.Items {
				if it.Time == "" || !strings.HasPrefix(it.Link, "https://twitter.com/") || it.Avatar == "" && it.Initial == "" {
					t.Errorf("popup item without time, permalink or avatar: %+v", it)
					break
				}
			}
		}
		if len(pop.Items) > 2 {
			// Its avatar, at example.invalid, cannot load.
			if it := pop.Items[2]; it.Initial != "U" || it.Avatar != "" {
				t.Errorf("a post whose avatar does not load shows avatar %q, initial %q; want the initial U of \"User …\", like the wall", it.Avatar, it.Initial)
			}
			it := pop.Items[2]
			created, err := time.Parse(time.RFC3339, it.TimeAttr)
			if err != nil || it.TimeTitle == "" || rfc3339.MatchString(it.TimeTitle) || !strings.Contains(it.TimeTitle, strconv.Itoa(created.Year())) {
				t.Errorf("time tooltip %q for %q, want a readable local date and time", it.TimeTitle, it.TimeAttr)
			}
		}
		if pop.StrayImages != 0 || pop.Dialogs != 0 || len(pop.PageErrors) != 0 {
			t.Errorf("post content became markup or ran: %d stray elements, %d dialogs, page errors %v", pop.StrayImages, pop.Dialogs, pop.PageErrors)
		}
		if pop.State != "connected" || !strings.Contains(pop.StateText, srv.Addr) {
			t.Errorf("popup connection state %q %q, want connected to %s", pop.State, pop.StateText, srv.Addr)
		}
		wantLinks := []popupLink{{"Wall", srv.URL + "/", "_blank"}, {"Display", srv.URL + "/display", "_blank"}, {"Stats", srv.URL + "/stats", "_blank"}}
		if !slices.Equal(pop.Links, wantLinks) {
			t.Errorf("popup links %+v, want %+v", pop.Links, wantLinks)
		}
		if pop.Help != "" {
			t.Errorf("popup explains %q while connected", pop.Help)
		}
		if pop.MinContrast < 4.5 {
			t.Errorf("grey or link text at %.2f:1 in the light popup, want at least 4.5:1", pop.MinContrast)
		}
		if dark := ext.popupWith(t, "", true); dark.MinContrast < 4.5 {
			t.Errorf("grey or link text at %.2f:1 in the dark popup, want at least 4.5:1", dark.MinContrast)
		}
		if pop.BadgeAfter != "" {
			t.Errorf("badge %q after opening the popup, want it cleared", pop.BadgeAfter)
		}
		if s := ext.snapshot(t); s.Unread != 0 {
			t.Errorf("unread = %d after opening the popup, want 0", s.Unread)
		}
		if n := ext.dialogs(); n != 0 {
			t.Errorf("%d dialogs opened in extension pages", n)
		}
	})

	t.Run("a post the organiser hides leaves the list and the popup, and comes back in its place", func(t *testing.T) {
		target := postID(65)
		before := ext.snapshot(t)
		at := slices.Index(before.postIDs(), target)
		if at < 0 {
			t.Fatalf("%s is not listed: %v", target, before.postIDs())
		}
		notified := len(before.Shown)
		if code := admin(t, srv.URL, "POST", "/api/admin/posts/"+url.PathEscape(target)+"/hide", "", nil); code != 200 {
			t.Fatalf("hide: %d", code)
		}
		ext.waitFor(t, target+" gone", 10*time.Second, func(s extSnapshot) bool { return !slices.Contains(s.postIDs(), target) })
		if slices.Contains(ext.popup(t).ids(), target) {
			t.Errorf("the popup still lists the hidden %s", target)
		}
		if code := admin(t, srv.URL, "POST", "/api/admin/posts/"+url.PathEscape(target)+"/unhide", "", nil); code != 200 {
			t.Fatalf("unhide: %d", code)
		}
		after := ext.waitFor(t, target+" back", 10*time.Second, func(s extSnapshot) bool { return slices.Contains(s.postIDs(), target) })
		if got := slices.Index(after.postIDs(), target); got != at {
			t.Errorf("%s came back at %d, want its old place %d: %v", target, got, at, after.postIDs())
		}
		if len(after.Shown) != notified {
			t.Errorf("unhiding raised %d new notifications, want none", len(after.Shown)-notified)
		}
	})
}

// quietPosts are the posts of testExtensionQuiet. Avatars: a data: SVG
// (redrawn as the icon) and one the server cannot serve (the bundled icon
// instead).
var quietPosts = []struct {
	text, picture string
	hashtag       string
	muted         bool // by the mute words of the "mute words" case
	alert         bool // by the alert lists of the "alert words and authors" case
}{
	{"first, with a drawn avatar", redDot, "", false, false},
	{"a SPOILER about the keynote", redDot, "", true, true},
	{"second, with a missing avatar", "/avatars/missing.png", "", false, false},
	{"nothing to see", redDot, "hidden", true, false},
	{"third", redDot, "", false, true}, // by author4
}

// testExtensionQuiet runs quietPosts once per way of keeping notifications
// quiet: every post is listed, and only the ones that should be are
// notified.
func testExtensionQuiet(t *testing.T, ext *extension) {
	tests := []struct {
		name      string
		sync      map[string]any
		pause     bool // click the popup's notifications switch
		notifyAny bool
	}{
		{"mute words", map[string]any{"muteWords": []string{"spoiler", "#hidden"}}, false, true},
		{"alert words and authors", map[string]any{"alertWords": []string{"KEYNOTE"}, "alertAuthors": []string{"@Author4"}}, false, true},
		{"pause switch", nil, true, false},
		{"notify option off", map[string]any{"notify": false}, false, false},
	}
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines, ids, wanted []string
			for i, p := range quietPosts {
				n := 100 + 10*ti + i
				line := statusLine(n, p.text, "author"+strconv.Itoa(i), "Author "+strconv.Itoa(i), p.picture)
				if p.hashtag != "" {
					line = withHashtag(line, p.hashtag)
				}
				lines = append(lines, line)
				ids = append(ids, postID(n))
				if tt.notifyAny && (tt.name == "mute words" && !p.muted || tt.name != "mute words" && p.alert) {
					wanted = append(wanted, postID(n))
				}
			}
			// Slower than the pacing, and with the digest's threshold
			// raised, so that each notification shows one post.
			srv := startServer(t, "--source", "replay", "--replay-file", replayFile(t, lines), "--replay-rate", "0.8", "--backlog", "100")
			defer ext.settings(t, map[string]any{"muteWords": []string{}, "alertWords": []string{}, "alertAuthors": []string{}, "digestPosts": 1, "notify": true}, map[string]any{"paused": false})
			// Pause first: the server URL, set last, must find the
			// rest in place when it connects.
			if tt.pause {
				if pop := ext.popupClick(t, "#notifications"); pop.NotificationsOn {
					t.Fatal("the popup's notifications switch is still on after a click")
				}
			}
			sync := map[string]any{"serverUrl": srv.URL, "digestPosts": 100}
			for k, v := range tt.sync {
				sync[k] = v
			}
			ext.settings(t, sync, nil)

			ext.waitFor(t, "every post listed", 30*time.Second, func(s extSnapshot) bool {
				return s.from(srv) && slices.Equal(s.postIDs(), reversed(ids)) && s.notified(wanted)
			})
			time.Sleep(2 * time.Second) // a muted post's notification would come now
			snap := ext.snapshot(t)

			t.Run("every post is listed", func(t *testing.T) {
				if got := snap.postIDs(); !slices.Equal(got, reversed(ids)) {
					t.Errorf("listed %v, want every post %v", got, reversed(ids))
				}
			})

			t.Run("only the wanted posts are notified, each with its author, text, icon and permalink", func(t *testing.T) {
				shown := snap.shownFor(ids)
				if msg := exactlyOnce(shown, wanted, ""); msg != "" {
					t.Error(msg)
				}
				checkPacing(t, shown)
				for _, n := range shown {
					if len(n.PostIDs) != 1 {
						continue
					}
					i := slices.Index(ids, n.PostIDs[0])
					p := quietPosts[i]
					wantIcon := map[bool]string{true: "avatar", false: "bundled"}[p.picture == redDot]
					if n.Title != fmt.Sprintf("Author %d @author%d", i, i) || n.Message != p.text || n.Icon != wantIcon {
						t.Errorf("notification %+v, want title \"Author %d @author%d\", the text and the %s icon", n, i, i, wantIcon)
					}
					if n.URL != "https://twitter.com/author"+strconv.Itoa(i)+"/status/"+strings.TrimPrefix(ids[i], "twitter:") {
						t.Errorf("notification opens %q, not the permalink", n.URL)
					}
				}
			})

			if tt.name == "alert words and authors" {
				t.Run("the options page shows the alert lists", func(t *testing.T) {
					opts := ext.options(t)
					if opts.AlertWords != "keynote" || opts.AlertAuthors != "@author4" {
						t.Errorf("options page shows %+v, want the alert lists, normalized", opts)
					}
				})
			}
			if tt.name == "mute words" {
				t.Run("the options page shows the stored settings", func(t *testing.T) {
					opts := ext.options(t)
					if opts.ServerURL != srv.URL || opts.MuteWords != "spoiler\n#hidden" || !opts.Notify || opts.DigestPosts != "100" {
						t.Errorf("options page shows %+v, want the stored settings", opts)
					}
					if opts.ConnectionState != "connected" || !strings.Contains(opts.Connection, "Connected to "+srv.URL) {
						t.Errorf("options page says %q (%s), want connected to %s", opts.Connection, opts.ConnectionState, srv.URL)
					}
				})
			}
		})
	}
}

// testExtensionReconnect stops the server after 20 posts and starts another
// on the same address with 20 more: the extension asks it for what it
// missed (`since`) and shows each post once.
func testExtensionReconnect(t *testing.T, ext *extension) {
	var before, after []string
	var beforeIDs, allIDs []string
	for i := 200; i < 240; i++ {
		line := statusLine(i, fmt.Sprintf("post %d", i), "user", "User", redDot)
		if i < 220 {
			before = append(before, line)
			beforeIDs = append(beforeIDs, postID(i))
		}
		after = append(after, line)
		allIDs = append(allIDs, postID(i))
	}
	srv := startServer(t, "--source", "replay", "--replay-file", replayFile(t, before), "--replay-rate", "0", "--backlog", "100")
	ext.settings(t, map[string]any{"serverUrl": srv.URL}, nil)
	ext.waitFor(t, "the first 20 posts", 30*time.Second, func(s extSnapshot) bool {
		return s.from(srv) && len(s.Posts) == 20 && s.notified(beforeIDs)
	})

	srv.Stop()
	ext.waitFor(t, "the extension noticing the server went away", 30*time.Second, func(s extSnapshot) bool {
		return s.Status.State == "reconnecting"
	})
	t.Run("the popup says what to check while the server is down", func(t *testing.T) {
		pop := ext.popup(t)
		if !strings.Contains(pop.Help, srv.URL) || !strings.Contains(pop.Help, "server runs") || !strings.Contains(pop.Help, "server URL in Settings") ||
			!slices.Contains(pop.HelpLinks, "../options/options.html") {
			t.Errorf("popup explains %q (links %v) while %s is down, want the URL, the server and the settings to check", pop.Help, pop.HelpLinks, srv.URL)
		}
		if opts := ext.options(t); opts.ConnectionState != "reconnecting" || !strings.Contains(opts.Connection, "Cannot reach "+srv.URL) {
			t.Errorf("options page says %q (%s) while %s is down", opts.Connection, opts.ConnectionState, srv.URL)
		}
	})
	// The server keeps no posts across restarts yet, so the new one
	// replays the old posts too. With --backlog 5, a client without
	// `since` would get only the last 5.
	srv2 := startServer(t, "--addr", srv.Addr, "--source", "replay", "--replay-file", replayFile(t, after), "--replay-rate", "0", "--backlog", "5")
	ext.waitFor(t, "the 20 posts sent while it was away", 45*time.Second, func(s extSnapshot) bool {
		return s.from(srv2) && len(s.Posts) > 0 && s.Posts[0].ID == postID(239) && s.notified(allIDs)
	})
	time.Sleep(1500 * time.Millisecond) // a duplicate would arrive now
	snap := ext.snapshot(t)

	t.Run("each post is listed once", func(t *testing.T) {
		if got := snap.postIDs(); !slices.Equal(got, reversed(allIDs)) {
			t.Errorf("listed %v, want each of the 40 posts once, newest first", got)
		}
	})
	t.Run("each post is notified once", func(t *testing.T) {
		if msg := exactlyOnce(snap.shownFor(allIDs), allIDs, ""); msg != "" {
			t.Error(msg)
		}
	})
	t.Run("connected, with the last post as cursor", func(t *testing.T) {
		if snap.Status.State != "connected" || snap.Cursor.ID != postID(239) {
			t.Errorf("status %+v cursor %+v, want connected with the last post as cursor", snap.Status, snap.Cursor)
		}
	})
}

// testExtensionWorkerStop stops the service worker, as Chrome does after
// 30 s idle, while posts still arrive at 2 a second: the next one wakes
// it, and the offscreen document stays the only one. The rush is summed
// up in one digest, which outlives the worker.
func testExtensionWorkerStop(t *testing.T, ext *extension) {
	var lines, ids []string
	for i := 300; i < 312; i++ {
		lines = append(lines, statusLine(i, fmt.Sprintf("post %d", i), "user", "User", redDot))
		ids = append(ids, postID(i))
	}
	srv := startServer(t, "--source", "replay", "--replay-file", replayFile(t, lines), "--replay-rate", "2", "--backlog", "100")
	ext.settings(t, map[string]any{"serverUrl": srv.URL}, nil)
	first := ext.waitFor(t, "the first notifications", 30*time.Second, func(s extSnapshot) bool {
		return s.from(srv) && len(s.shownFor(ids)) >= 1
	})
	stopped := ext.stopWorkers(t)
	before := len(first.shownFor(ids))
	if first.notified(ids) {
		t.Fatal("every post was notified before the worker stopped: the replay is too fast for this test")
	}
	snap := ext.waitFor(t, "notifications after the worker was stopped", 30*time.Second, func(s extSnapshot) bool {
		if s.Offscreen != 1 || s.OffscreenTargets != 1 {
			t.Fatalf("%d offscreen contexts, %d offscreen targets: want exactly one", s.Offscreen, s.OffscreenTargets)
		}
		return s.notified(ids) && len(s.Posts) == len(ids)
	})
	t.Logf("%d notifications before the stop; worker %+v", before, snap.Worker)

	t.Run("the next post starts the worker again", func(t *testing.T) {
		if snap.Worker.Starts <= stopped.Starts || snap.Worker.Status != "running" {
			t.Errorf("worker %+v after stop %+v: want it started again by the next post", snap.Worker, stopped)
		}
	})
	t.Run("each post is notified once", func(t *testing.T) {
		if msg := exactlyOnce(snap.shownFor(ids), ids, ""); msg != "" {
			t.Error(msg)
		}
	})
	t.Run("2 posts a second: the first alone, then one digest updated in place", func(t *testing.T) {
		checkDigest(t, snap.shownFor(ids), srv.URL)
	})
}

// redDot is an avatar as a data:image/svg+xml URI, as some sources send.
const redDot = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'%3E%3Ccircle cx='5' cy='5' r='5' fill='red'/%3E%3C/svg%3E"

func postID(i int) string { return fmt.Sprintf("twitter:%d", 1000000+i) }

// statusLine is a Twitter v1.1 status with id 1000000+i.
func statusLine(i int, text, screenName, name, picture string) string {
	b, _ := json.Marshal(map[string]any{
		"id_str":     fmt.Sprint(1000000 + i),
		"id":         1000000 + i,
		"text":       text,
		"created_at": time.Now().Add(-time.Duration(i) * time.Second).UTC().Format(time.RubyDate),
		"lang":       "en",
		"user":       map[string]any{"screen_name": screenName, "name": name, "profile_image_url_https": picture},
	})
	return string(b)
}

func withHashtag(line, tag string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(line), &m)
	m["entities"] = map[string]any{"hashtags": []map[string]any{{"text": tag}}}
	b, _ := json.Marshal(m)
	return string(b)
}

func deleteLine(i int) string {
	return fmt.Sprintf(`{"delete":{"status":{"id":%d,"id_str":"%d","user_id":1}}}`, 1000000+i, 1000000+i)
}

func replayFile(t *testing.T, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "replay.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func reversed(xs []string) []string {
	out := slices.Clone(xs)
	slices.Reverse(out)
	return out
}

// extSnapshot is what extension-check.mjs reports for "snapshot".
type extSnapshot struct {
	Posts  []post
	Unread int
	Status struct {
		State, Server, Transport, Error string
	}
	Cursor struct {
		Server, ID string
	}
	Shown            []shownNotification
	Active           []string
	Offscreen        int
	OffscreenTargets int
	Badge            string
	Worker           struct {
		Status        string
		Starts, Stops int
	}
	// Firefox's test build only (firefox-hook.mjs): every
	// notifications.create call that succeeded, how many times the event
	// page started, and whether it runs without WebSocket.
	Created []struct{ ID, Title, Message, Icon string }
	Starts  int
	Polling bool
}

// shownNotification is one entry of the extension's record of the
// notifications it created (chrome.storage.session).
type shownNotification struct {
	ID, Title, Message, Icon, URL string
	PostIDs                       []string
	Count                         int // posts a digest sums up
	SentAt                        int64
}

// from reports whether the extension's list and connection are srv's.
func (s extSnapshot) from(srv *server) bool {
	return s.Cursor.Server == srv.URL && s.Status.Server == srv.URL
}

func (s extSnapshot) postIDs() []string {
	ids := make([]string, len(s.Posts))
	for i, p := range s.Posts {
		ids[i] = p.ID
	}
	return ids
}

// shownFor returns the notifications that name any of ids.
func (s extSnapshot) shownFor(ids []string) []shownNotification {
	var out []shownNotification
	for _, n := range s.Shown {
		if slices.ContainsFunc(n.PostIDs, func(id string) bool { return slices.Contains(ids, id) }) {
			out = append(out, n)
		}
	}
	return out
}

// notified reports whether every one of ids is in some notification.
func (s extSnapshot) notified(ids []string) bool {
	seen := map[string]bool{}
	for _, n := range s.Shown {
		for _, id := range n.PostIDs {
			seen[id] = true
		}
	}
	for _, id := range ids {
		if !seen[id] {
			return false
		}
	}
	return true
}

// exactlyOnce checks that the notifications name each of want once and
// nothing else, except maybe (a post deleted after it was shown, or before
// the extension saw it).
func exactlyOnce(shown []shownNotification, want []string, maybe string) string {
	count := map[string]int{}
	for _, n := range shown {
		for _, id := range n.PostIDs {
			count[id]++
		}
	}
	var problems []string
	for _, id := range want {
		if count[id] != 1 {
			problems = append(problems, fmt.Sprintf("%s notified %d times", id, count[id]))
		}
		delete(count, id)
	}
	for id, n := range count {
		if id != maybe || n > 1 {
			problems = append(problems, fmt.Sprintf("%s notified %d times, want never", id, n))
		}
	}
	if len(problems) == 0 {
		return ""
	}
	slices.Sort(problems)
	return fmt.Sprintf("notifications (%d) do not name each expected post once: %s", len(shown), strings.Join(problems, "; "))
}

// checkDigest checks that a rush of posts became one notification updated
// in place: the first post may come alone (unless it arrived in one batch
// with the next, as a backlog does), then every notification is the
// digest, titled with how many posts it sums up so far.
func checkDigest(t *testing.T, shown []shownNotification, wall string) {
	t.Helper()
	if len(shown) > 0 && strings.HasPrefix(shown[0].ID, "post:") {
		shown = shown[1:]
	}
	if len(shown) < 2 {
		t.Fatalf("a rush gave %d digest notifications, want one updated at least once", len(shown))
	}
	title := regexp.MustCompile(`^(\d+) new posts( about #\S+)?$`)
	sum := 0
	for _, n := range shown {
		sum += len(n.PostIDs)
		m := title.FindStringSubmatch(n.Title)
		if n.ID != "digest" || m == nil || n.URL != wall || n.Icon != "bundled" {
			t.Errorf("notification %+v during the rush, want the digest titled \"N new posts\" opening the wall %s", n, wall)
			continue
		}
		if got, _ := strconv.Atoi(m[1]); got != n.Count {
			t.Errorf("digest titled %q sums up %d posts", n.Title, n.Count)
		}
	}
	if last := shown[len(shown)-1]; last.Count < sum-1 { // one may have been deleted
		t.Errorf("the last digest sums up %d posts, want the %d of the rush", last.Count, sum)
	}
}

// checkPacing checks the at-most-one-per-second rule, measured where the
// offscreen document sends them.
func checkPacing(t *testing.T, shown []shownNotification) {
	t.Helper()
	for i := 1; i < len(shown); i++ {
		if gap := shown[i].SentAt - shown[i-1].SentAt; gap < 995 {
			t.Errorf("notifications %s and %s only %d ms apart, want at most one a second", shown[i-1].ID, shown[i].ID, gap)
		}
	}
}

type popupView struct {
	Items []struct {
		ID, Name, Handle, Text, Time, Link, Avatar string
		Initial, TimeTitle, TimeAttr               string
		Rich                                       richView
	}
	State, StateText, Transport string
	NotificationsOn             bool
	Help                        string
	HelpLinks                   []string
	Links                       []popupLink
	MinContrast                 float64
	StrayImages                 int
	Dialogs                     int
	PageErrors                  []string
	BadgeAfter                  string
}

type popupLink struct{ Text, Href, Target string }

// rfc3339 is how a time looks before it is made readable.
var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d`)

func (p popupView) ids() []string {
	ids := make([]string, len(p.Items))
	for i, it := range p.Items {
		ids[i] = it.ID
	}
	return ids
}

// extension is a running extension-check.mjs: a browser with the extension.
// extension drives extension-check.mjs.
type extension struct{ *driver }

// startExtension starts the browser and waits until the extension's
// service worker and offscreen document run.
func startExtension(t *testing.T) *extension {
	t.Helper()
	if _, err := os.Stat(filepath.Join(repoRoot, "extension", "vendor", "socket.io.js")); err != nil {
		t.Fatalf("extension/vendor/socket.io.js is missing: run scripts/prepare (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "extension", "vendor", "rich-text.js")); err != nil {
		t.Fatalf("extension/vendor/rich-text.js is missing: run scripts/prepare (%v)", err)
	}
	d, ready := startDriver(t, "extension-check.mjs", "--extension", filepath.Join(repoRoot, "extension"), "--max-ms", "300000")
	if ready.ID != extensionID {
		t.Fatalf("the extension loaded as %s, want %s: check the key in extension/manifest.json", ready.ID, extensionID)
	}
	return &extension{d}
}

// settings writes chrome.storage.sync and chrome.storage.local.
func (e *extension) settings(t *testing.T, sync, local map[string]any) {
	t.Helper()
	e.call(t, map[string]any{"cmd": "settings", "sync": sync, "local": local}, nil)
}

func (e *extension) snapshot(t *testing.T) extSnapshot {
	t.Helper()
	var s extSnapshot
	e.call(t, map[string]any{"cmd": "snapshot"}, &s)
	return s
}

// waitFor takes snapshots until ok accepts one.
func (e *extension) waitFor(t *testing.T, what string, timeout time.Duration, ok func(extSnapshot) bool) extSnapshot {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := e.snapshot(t)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the extension never showed %s within %v; last snapshot: %d posts (newest %v), status %+v, cursor %+v, %d notifications recorded, worker %+v\n%s",
				what, timeout, len(s.Posts), firstN(s.postIDs(), 3), s.Status, s.Cursor, len(s.Shown), s.Worker, e.tail())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func firstN(xs []string, n int) []string { return xs[:min(n, len(xs))] }

func (e *extension) popup(t *testing.T) popupView {
	t.Helper()
	return e.popupClick(t, "")
}

// popupClick opens the popup, clicks what selector names (if not empty)
// and reports what the popup shows.
func (e *extension) popupClick(t *testing.T, selector string) popupView {
	t.Helper()
	return e.popupWith(t, selector, false)
}

// popupWith is popupClick, in the dark colour scheme if dark.
func (e *extension) popupWith(t *testing.T, selector string, dark bool) popupView {
	t.Helper()
	var p popupView
	e.call(t, map[string]any{"cmd": "popup", "click": selector, "dark": dark}, &p)
	return p
}

type optionsView struct {
	ServerURL string `json:"serverUrl"`
	MuteWords string `json:"muteWords"`
	Notify    bool   `json:"notify"`

	AlertWords   string `json:"alertWords"`
	AlertAuthors string `json:"alertAuthors"`
	DigestPosts  string `json:"digestPosts"`

	Connection, ConnectionState string
}

func (e *extension) options(t *testing.T) optionsView {
	t.Helper()
	var o optionsView
	e.call(t, map[string]any{"cmd": "options"}, &o)
	return o
}

type workerCounts struct{ Starts, Stops int }

// stopWorkers stops the service worker through CDP, as Chrome does after
// 30 s idle, and returns the counts once it has stopped.
func (e *extension) stopWorkers(t *testing.T) workerCounts {
	t.Helper()
	var w workerCounts
	e.call(t, map[string]any{"cmd": "stop-workers"}, &w)
	return w
}
