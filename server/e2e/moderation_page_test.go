package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/source/twitter/twittertest"
)

func (p *pages) admin() (v adminView) { p.t.Helper(); p.read("admin", &v); return v }
func (p *pages) waitAdmin(what string, ok func(adminView) bool) adminView {
	p.t.Helper()
	return waitFor(p, "admin", what, ok)
}

// adminView is what pages-check.mjs reads off the moderation console.
type adminView struct {
	SignedIn   bool
	Notice     string
	NoticeKind string
	Stream     []struct {
		ID      string
		State   string
		Pinned  bool
		Actions []string
	}
	Queue, Pins, Hidden, Blocks, Allow, Audit []string
	Premoderation, HideReposts                bool
	StrayImages                               int
	PageErrors                                []string
	Dialogs                                   int
}

func (v adminView) state(id string) string {
	for _, p := range v.Stream {
		if p.ID == id {
			return p.State
		}
	}
	return ""
}

// consoleButton is the CSS selector of the button for action on the post id
// in one of the console's lists.
func consoleButton(list, id, action string) string {
	return fmt.Sprintf(`#%s > li[data-key=%q] button[data-action=%q]`, list, id, action)
}

var signInURL = regexp.MustCompile(`/admin#token=[A-Za-z0-9_-]+`)

// The organiser moderates in Chromium through /admin, signed in with the
// link the server logged, and the wall open beside it follows: hide and
// unhide (by keyboard), a blocked word and a blocked person never shown,
// the approval queue, a pin; and a restart keeps every decision.
func TestModerationConsoleInChromium(t *testing.T) {
	t.Parallel()
	fake := twittertest.NewServer(twitterCreds)
	t.Cleanup(fake.Close)
	dataDir := t.TempDir()
	args := twitterArgs(fake.URL, "--track", "#GoConf", "--data-dir", dataDir, "--backlog", "100")
	srv := startServer(t, args...)
	conn := accept(t, "the stream", srv, fake.Open)
	stop := keepAlive(conn)
	defer func() { stop() }()

	link := signInURL.FindString(srv.logs.String())
	if link == "" {
		t.Fatalf("the server did not log a sign-in link (/admin#token=...):\n%s", srv.logs)
	}
	if strings.Count(srv.logs.String(), link) != 1 {
		t.Errorf("the sign-in link is logged %d times, want once", strings.Count(srv.logs.String(), link))
	}

	mustSend(t, conn,
		modStatus(1, "marta_codes", "Marta Ñúñez", "Grüße aus Zürich 👋 #GoConf"),
		modStatus(2, "yael", "יעל כהן", "שלום מתל אביב! #GoConf"),
		modStatus(3, "kenji", "健二", "東京から参加しています #GoConf 🎉"),
		modStatus(4, "mallory", "<b>Mallory</b>", `<img src=x onerror=alert(1)> #GoConf`),
	)
	c := startPages(t, srv.URL)
	c.open("wall", "/")
	c.open("admin", "/admin")
	if v := c.admin(); v.SignedIn {
		t.Fatal("the console is signed in without a token")
	}
	c.open("admin", link)
	all := []string{"twitter:4", "twitter:3", "twitter:2", "twitter:1"}
	c.waitAdmin("the four posts", func(v adminView) bool { return v.SignedIn && len(v.Stream) >= 4 })
	c.waitWall("the four posts", func(v wallView) bool { return slices.Equal(v.IDs, all) })

	t.Run("hide, then unhide with the keyboard", func(t *testing.T) {
		c.do("click", "admin", "selector", consoleButton("stream", "twitter:2", "hide"))
		c.waitWall("twitter:2 gone", func(v wallView) bool { return !slices.Contains(v.IDs, "twitter:2") })
		v := c.waitAdmin("twitter:2 among the hidden", func(v adminView) bool { return slices.Contains(v.Hidden, "twitter:2") })
		if s := v.state("twitter:2"); s != "Hidden" {
			t.Errorf("the stream marks twitter:2 %q, want Hidden", s)
		}
		c.do("press", "admin", "selector", consoleButton("hidden", "twitter:2", "unhide"), "key", "Enter")
		c.waitWall("twitter:2 back in its place", func(v wallView) bool { return slices.Equal(v.IDs, all) })
		c.waitAdmin("nothing hidden", func(v adminView) bool { return len(v.Hidden) == 0 })
	})

	t.Run("a blocked word is never shown", func(t *testing.T) {
		c.do("select", "admin", "selector", "#block-kind", "value", "word")
		c.do("fill", "admin", "selector", "#block-value", "value", "Werbung")
		c.do("click", "admin", "selector", "#block-form button[type=submit]")
		c.waitAdmin("the block listed", func(v adminView) bool { return len(v.Blocks) == 1 && strings.Contains(v.Blocks[0], "Werbung") })
		mustSend(t, conn,
			modStatus(5, "spammer", "Spam Bot", "Billige WERBUNG hier! #GoConf"),
			modStatus(6, "marta_codes", "Marta Ñúñez", "Werbungsfrei: the word inside another is fine #GoConf"),
		)
		c.waitWall("twitter:6", func(v wallView) bool { return slices.Contains(v.IDs, "twitter:6") })
		c.waitAdmin("twitter:5 blocked", func(v adminView) bool { return v.state("twitter:5") == "Blocked" })
		if w := c.wall(); slices.Contains(w.IDs, "twitter:5") {
			t.Errorf("the wall shows the blocked post twitter:5: %v", w.IDs)
		}
	})

	t.Run("blocking a person hides what they posted", func(t *testing.T) {
		c.do("click", "admin", "selector", consoleButton("stream", "twitter:4", "block"))
		c.waitWall("mallory's post gone", func(v wallView) bool { return !slices.Contains(v.IDs, "twitter:4") })
		mustSend(t, conn,
			modStatus(7, "Mallory", "Mallory", "new account, same person #GoConf"),
			modStatus(8, "kenji", "健二", "さようなら #GoConf"),
		)
		c.waitWall("twitter:8", func(v wallView) bool { return slices.Contains(v.IDs, "twitter:8") })
		if w := c.wall(); slices.Contains(w.IDs, "twitter:7") {
			t.Errorf("the wall shows twitter:7 by the blocked twitter:mallory: %v", w.IDs)
		}
	})

	t.Run("approval queue", func(t *testing.T) {
		c.do("click", "admin", "selector", "#premoderation")
		c.waitAdmin("the switch saved", func(v adminView) bool {
			return v.Premoderation && v.Notice == "New posts now wait for your approval."
		})
		mustSend(t, conn, modStatus(9, "yael", "יעל כהן", "מחכה לאישור #GoConf"))
		c.waitAdmin("twitter:9 waiting", func(v adminView) bool { return slices.Contains(v.Queue, "twitter:9") })
		if w := c.wall(); slices.Contains(w.IDs, "twitter:9") {
			t.Fatalf("the wall shows twitter:9 before it was approved")
		}
		c.do("click", "admin", "selector", consoleButton("queue", "twitter:9", "approve"))
		c.waitWall("twitter:9 approved", func(v wallView) bool { return len(v.IDs) > 0 && v.IDs[0] == "twitter:9" })
		c.do("click", "admin", "selector", "#premoderation")
		c.waitAdmin("the switch saved off", func(v adminView) bool {
			return !v.Premoderation && v.Notice == "New posts are shown at once again."
		})
	})

	t.Run("pin", func(t *testing.T) {
		c.do("click", "admin", "selector", consoleButton("stream", "twitter:1", "pin"))
		c.waitWall("twitter:1 pinned", func(v wallView) bool { return slices.Equal(v.Pinned, []string{"twitter:1"}) })
		c.waitAdmin("twitter:1 in the pinned list", func(v adminView) bool { return slices.Equal(v.Pins, []string{"twitter:1"}) })
	})

	v := c.waitAdmin("the audit log", func(v adminView) bool { return len(v.Audit) >= 6 })
	if v.StrayImages != 0 || v.Dialogs != 0 || len(v.PageErrors) != 0 {
		t.Errorf("a hostile post became markup, or the page failed: %d images, %d dialogs, errors %v", v.StrayImages, v.Dialogs, v.PageErrors)
	}
	// TWEETWIRE_SCREENSHOTS=DIR keeps a picture of the console (the README's).
	if dir := os.Getenv("TWEETWIRE_SCREENSHOTS"); dir != "" {
		c.screenshot("admin", filepath.Join(dir, "admin-1440x1000.png"), true)
	}

	t.Run("a restart keeps every decision", func(t *testing.T) {
		stop()
		srv.Stop()
		srv2 := startServer(t, args...)
		conn2 := accept(t, "the stream after the restart", srv2, fake.Open)
		stop = keepAlive(conn2)
		c2 := startPages(t, srv2.URL)
		c2.open("wall", "/")
		c2.open("admin", signInURL.FindString(srv2.logs.String()))
		w := c2.waitWall("the stored posts and the pin", func(v wallView) bool {
			return slices.Contains(v.IDs, "twitter:9") && slices.Equal(v.Pinned, []string{"twitter:1"})
		})
		for _, id := range []string{"twitter:4", "twitter:5", "twitter:7"} {
			if slices.Contains(w.IDs, id) {
				t.Errorf("after a restart the wall shows %s, which was hidden or blocked: %v", id, w.IDs)
			}
		}
		c2.waitAdmin("the blocks", func(v adminView) bool { return len(v.Blocks) == 2 })
		mustSend(t, conn2, modStatus(10, "spammer", "Spam Bot", "noch mehr werbung #GoConf"), modStatus(11, "kenji", "健二", "また来ました #GoConf"))
		w = c2.waitWall("twitter:11", func(v wallView) bool { return slices.Contains(v.IDs, "twitter:11") })
		if slices.Contains(w.IDs, "twitter:10") {
			t.Errorf("after a restart the blocked word is shown again: %v", w.IDs)
		}
	})
}
