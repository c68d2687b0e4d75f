package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/source/twitter/twittertest"
)

// The display (/display) in Chromium on a projector's 1280x720 and a 4K
// TV's 3840x2160: the event and how to appear on it in the header, the
// newest post in a spotlight whose type grows with the screen, nothing
// scrolling, a burst paced with the skipped posts said, a deleted post
// gone, and the options page.
func TestDisplayInChromium(t *testing.T) {
	t.Parallel()
	fake := twittertest.NewServer(twitterCreds)
	t.Cleanup(fake.Close)
	srv := startServer(t, twitterArgs(fake.URL, "--track", "#GoConf,go conf", "--event", "GoConf 2026 · Zürich",
		"--backlog", "100", "--admin-token", e2eToken)...)
	conn := accept(t, "the stream", srv, fake.Open)
	stop := keepAlive(conn)
	t.Cleanup(stop)

	p := startPages(t, srv.URL)
	// A pace of 20 s: the queue holds three posts (a minute's worth).
	p.open("display", "/display?pace=20&qr=1", 1280, 720)
	v := waitFor(p, "display", "the header and the connection", func(v displayView) bool {
		return v.EventName == "GoConf 2026 · Zürich" && (v.State == "websocket" || v.State == "long polling")
	})
	if v.CTA != "Post with #GoConf to appear here" {
		t.Errorf("call to action %q", v.CTA)
	}
	if v.QR != srv.URL+"/" {
		t.Errorf("the QR code encodes %q, want the wall %q", v.QR, srv.URL+"/")
	}
	if v.Theme != "dark" {
		t.Errorf("theme %q, want dark by default", v.Theme)
	}

	long := "مرحبا بالجميع في \u200e#GoConf\u200e — " + strings.Repeat("هذا منشور طويل جداً مع نص عربي وكلمات English مختلطة 🎉 ", 12)
	mustSend(t, conn, modStatus(1, "layla", "ليلى", long))
	v = waitFor(p, "display", "the first post in the spotlight", func(v displayView) bool { return v.Spotlight == "twitter:1" })
	if v.Overflow {
		t.Errorf("at 1280x720 a long post makes the display scroll or stick out: %v", v)
	}
	small := v.FontPx
	if dir := os.Getenv("TWEETWIRE_SCREENSHOTS"); dir != "" {
		p.screenshot("display", filepath.Join(dir, "display-1280x720.png"), false)
	}

	burst := make([]string, 0, 24)
	for i := 2; i <= 25; i++ {
		burst = append(burst, modStatus(i, fmt.Sprintf("guest%d", i), "Gäste 👋", fmt.Sprintf("Beitrag %d aus Zürich, 東京 and <b>%d</b> #GoConf", i, i)))
	}
	// The last has links and photos: the 4K spotlight shows it below.
	burst[len(burst)-1] = richStatusLine(25)
	mustSend(t, conn, burst...)
	v = waitFor(p, "display", "the skipped posts counted", func(v displayView) bool { return v.More == "+21 more" })
	if v.Spotlight != "twitter:1" {
		t.Errorf("a burst replaced the spotlight before its 20 s: %v", v)
	}

	t.Log("deleting the post in the spotlight brings the next waiting one up at once")
	mustSend(t, conn, `{"delete":{"status":{"id":1,"id_str":"1","user_id":7}}}`)
	v = waitFor(p, "display", "twitter:1 gone", func(v displayView) bool { return v.Spotlight != "twitter:1" && v.Spotlight != "" })
	if v.Spotlight != "twitter:23" {
		t.Errorf("after the delete the spotlight shows %q, want twitter:23, the oldest of the three kept", v.Spotlight)
	}

	t.Log("on a 4K screen, with a full grid from the backlog")
	p.open("display", "/display?theme=light&columns=3", 3840, 2160)
	v = waitFor(p, "display", "the backlog, the spotlight's photo loaded and the broken one gone", func(v displayView) bool {
		img := v.SpotRich.Images
		return v.Spotlight == "twitter:25" && len(v.Recent) >= 6 && len(img) == 1 && img[0].Loaded
	})
	if slices.Contains(v.Recent, "twitter:1") {
		t.Errorf("the deleted post is back in the grid: %v", v.Recent)
	}
	if v.Overflow {
		t.Errorf("at 3840x2160 the display scrolls or sticks out: %v", v)
	}
	if v.Theme != "light" {
		t.Errorf("theme=light gave %q", v.Theme)
	}
	checkRich(t, v.SpotRich)
	if v.QR != "" {
		t.Errorf("a QR code without qr=1: %q", v.QR)
	}
	if v.FontPx < 2.5*small {
		t.Errorf("spotlight text is %.0f px at 3840x2160 and %.0f px at 1280x720: it does not grow with the screen", v.FontPx, small)
	}
	if dir := os.Getenv("TWEETWIRE_SCREENSHOTS"); dir != "" {
		p.screenshot("display", filepath.Join(dir, "display-3840x2160.png"), false)
	}

	t.Log("the organiser's pin takes the spotlight until it is unpinned")
	if code := admin(t, srv.URL, "POST", "/api/admin/posts/"+url.PathEscape("twitter:24")+"/pin", "", nil); code != 200 {
		t.Fatalf("pin: %d", code)
	}
	v = waitFor(p, "display", "the pinned post in the spotlight", func(v displayView) bool { return v.Spotlight == "twitter:24" && v.Pinned })
	if !slices.Contains(v.Recent, "twitter:25") {
		t.Errorf("with a pin in the spotlight the newest post leads the grid: %v", v.Recent)
	}
	if code := admin(t, srv.URL, "POST", "/api/admin/posts/"+url.PathEscape("twitter:24")+"/unpin", "", nil); code != 200 {
		t.Fatalf("unpin: %d", code)
	}
	waitFor(p, "display", "the newest post back in the spotlight", func(v displayView) bool { return v.Spotlight == "twitter:25" && !v.Pinned })

	t.Log("on a 1920x1080 projector")
	p.open("display", "/display?qr=1", 1920, 1080)
	v = waitFor(p, "display", "the backlog", func(v displayView) bool { return v.Spotlight == "twitter:25" })
	if v.Overflow || v.FontPx <= small {
		t.Errorf("at 1920x1080 the display scrolls or sticks out, or its text (%.0f px) is no larger than at 1280x720 (%.0f px): %v", v.FontPx, small, v)
	}
	if dir := os.Getenv("TWEETWIRE_SCREENSHOTS"); dir != "" {
		p.screenshot("display", filepath.Join(dir, "display-1920x1080.png"), false)
	}

	p.open("display", "/display?help", 1280, 720)
	v = waitFor(p, "display", "the help", func(v displayView) bool { return v.Help })
	if v.Spotlight != "" {
		t.Errorf("the help page also shows posts: %v", v)
	}
	if len(v.PageErrors) != 0 || v.Dialogs != 0 {
		t.Errorf("page errors %v, dialogs %d", v.PageErrors, v.Dialogs)
	}
}
