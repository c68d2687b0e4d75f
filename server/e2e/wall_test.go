package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/twitter/twittertest"
)

// The wall in Chromium as an attendee reads it: the event's name, terms and
// true total in the header; "Load older" pages back through the store; a
// reader scrolled down or paused is not moved, new posts wait behind a
// button; a hidden tab counts unread posts in its title.
func TestWallInChromium(t *testing.T) {
	t.Parallel()
	fake := twittertest.NewServer(twitterCreds)
	t.Cleanup(fake.Close)
	srv := startServer(t, twitterArgs(fake.URL, "--track", "#GoConf,go conf", "--event", "GoConf 2026 · Zürich",
		"--backlog", "20")...)
	conn := accept(t, "the stream", srv, fake.Open)
	stop := keepAlive(conn)
	t.Cleanup(stop)

	// 80 posts: the backlog brings the newest 20, the store holds all.
	lines := make([]string, 0, 80)
	for i := 1; i <= 80; i++ {
		lines = append(lines, modStatus(i, fmt.Sprintf("gast%d", i%9), "Zoë «Gast»", fmt.Sprintf("Beitrag %d · مرحبا · 你好 · <i>%d</i> #GoConf", i, i)))
	}
	mustSend(t, conn, lines...)
	// The page reads the total once, then every 20 s: let the store have
	// them all first.
	srv.waitStored(t, 80)

	p := startPages(t, srv.URL)
	p.open("wall", "/", 1024, 800)
	v := p.waitWall("the backlog and the true total", func(v wallView) bool { return len(v.IDs) == 20 && v.Count == "80 posts" })
	if v.EventName != "GoConf 2026 · Zürich" || v.Terms != "#GoConf · go conf" {
		t.Errorf("header %q / %q", v.EventName, v.Terms)
	}
	if v.CountHref != "/stats?event=GoConf%202026%20%C2%B7%20Z%C3%BCrich" {
		t.Errorf("the total links to %q, want the event's statistics", v.CountHref)
	}
	if v.Title != "GoConf 2026 · Zürich · Tweetwire" {
		t.Errorf("title %q", v.Title)
	}

	t.Log("Load older pages back through /api/tweets, newest first, without gaps")
	p.do("click", "wall", "selector", "#older")
	v = p.waitWall("every post", func(v wallView) bool { return len(v.IDs) == 70 })
	p.do("click", "wall", "selector", "#older")
	v = p.waitWall("every post", func(v wallView) bool { return len(v.IDs) == 80 && v.Older == "" })
	want := make([]string, 0, 80)
	for i := 80; i >= 1; i-- {
		want = append(want, fmt.Sprintf("twitter:%d", i))
	}
	if !slices.Equal(v.IDs, want) {
		t.Errorf("after loading older posts the wall shows %v", v.IDs)
	}

	t.Log("scrolled down, new posts wait behind a button")
	p.call(t, map[string]any{"cmd": "scroll", "page": "wall", "y": 3000}, nil)
	mustSend(t, conn, modStatus(81, "kenji", "健二", "東京から #GoConf"), modStatus(82, "yael", "יעל", "שלום #GoConf"))
	v = p.waitWall("the button", func(v wallView) bool { return v.NewPosts == "2 new posts" })
	if v.IDs[0] != "twitter:80" {
		t.Errorf("a new post moved the page of a reader scrolled down: first is %s", v.IDs[0])
	}
	if v.Count != "82 posts" {
		t.Errorf("count %q while posts wait, want 82 posts", v.Count)
	}
	p.do("click", "wall", "selector", "#new-posts")
	p.waitWall("the new posts on top", func(v wallView) bool {
		return len(v.IDs) > 2 && v.IDs[0] == "twitter:82" && v.IDs[1] == "twitter:81" && v.NewPosts == ""
	})

	t.Log("paused, nothing moves until resumed")
	p.call(t, map[string]any{"cmd": "scroll", "page": "wall", "y": 0}, nil)
	p.do("click", "wall", "selector", "#pause")
	mustSend(t, conn, modStatus(83, "ana", "Ana Løvås", "pausa ⏸ #GoConf"))
	p.waitWall("the held post", func(v wallView) bool { return v.Paused && v.NewPosts == "1 new post" })
	if v = p.wall(); v.IDs[0] != "twitter:82" {
		t.Errorf("a paused wall took a new post: first is %s", v.IDs[0])
	}
	p.do("click", "wall", "selector", "#pause")
	p.waitWall("the post after resuming", func(v wallView) bool { return !v.Paused && v.IDs[0] == "twitter:83" })

	t.Log("a hidden tab counts unread posts in its title")
	p.call(t, map[string]any{"cmd": "visibility", "page": "wall", "hidden": true}, nil)
	mustSend(t, conn, modStatus(84, "a", "A", "eins #GoConf"), modStatus(85, "b", "B", "zwei #GoConf"), modStatus(86, "c", "C", "drei #GoConf"))
	p.waitWall("(3) in the title", func(v wallView) bool { return v.Title == "(3) GoConf 2026 · Zürich · Tweetwire" })
	p.call(t, map[string]any{"cmd": "visibility", "page": "wall", "hidden": false}, nil)
	v = p.waitWall("the title reset", func(v wallView) bool { return v.Title == "GoConf 2026 · Zürich · Tweetwire" })

	testWallNotifications(t, p, conn)
	v = p.wall()
	if len(v.PageErrors) != 0 || v.Dialogs != 0 {
		t.Errorf("page errors %v, dialogs %d", v.PageErrors, v.Dialogs)
	}

	t.Log("retweets rank their originals on /stats, by Twitter's count")
	keynote := "Slides of the #GoConf keynote 🎤 — generics, iterators & more"
	mustSend(t, conn, // ids after the notifications' posts
		modRetweet(120, "lena", "Lena Müller", 9001, "marta_codes", "Marta Kowalska", keynote, 212),
		modRetweet(121, "omar", "عمر", 9001, "marta_codes", "Marta Kowalska", keynote, 240),
		modRetweet(122, "yuki", "佐藤 由紀", 9002, "kenji", "健二", "東京から #GoConf: ゴーファー最高！", 31))
	var top []string
	waitUntil(t, "the most reposted posts in /api/stats", func() bool {
		var s struct {
			TopPosts []struct {
				ID      string `json:"id"`
				Reposts int    `json:"reposts"`
				Seen    int    `json:"seen"`
			} `json:"top_posts"`
		}
		getJSON(t, srv.URL+"/api/stats", &s)
		top = top[:0]
		for _, p := range s.TopPosts {
			top = append(top, fmt.Sprintf("%s %d/%d", p.ID, p.Reposts, p.Seen))
		}
		return len(top) == 2
	})
	if want := []string{"twitter:9001 240/2", "twitter:9002 31/1"}; !slices.Equal(top, want) {
		t.Errorf("top posts %q, want %q", top, want)
	}

	// On a phone and on a desktop screen: nothing wider than the screen,
	// post text at a readable size.
	shots := os.Getenv("TWEETWIRE_SCREENSHOTS")
	for _, size := range [][2]int{{390, 844}, {1920, 1080}} {
		p.open("wall", "/", size[0], size[1])
		v = p.waitWall("the posts", func(v wallView) bool { return len(v.IDs) >= 20 })
		if v.OverflowX || v.TextPx < 14 {
			t.Errorf("at %dx%d the wall is wider than the screen (%v) or its text is %.1f px", size[0], size[1], v.OverflowX, v.TextPx)
		}
		if shots != "" {
			p.screenshot("wall", filepath.Join(shots, fmt.Sprintf("wall-%dx%d.png", size[0], size[1])), false)
		}
	}
	if shots != "" {
		p.open("stats", "/stats", 1280, 900)
		time.Sleep(time.Second) // the page's first /api/stats
		p.screenshot("stats", filepath.Join(shots, "stats-1280x900.png"), true)
	}
}

// testWallNotifications opts in to the wall's desktop notifications (the
// driver granted the permission and records each Notification): posts
// notify only while the tab is hidden, only those the "only about" list
// names, and a rush becomes one digest updated under one tag.
func testWallNotifications(t *testing.T, p *pages, conn interface{ Send(...string) error }) {
	t.Helper()
	v := p.wall()
	if v.NotifyButton != "🔔 Notify me" || v.NotifyState != "off" {
		t.Errorf("notification button %q (%s), want an opt-in", v.NotifyButton, v.NotifyState)
	}
	p.do("click", "wall", "selector", "#notify-rules summary") // opens the filters
	p.do("fill", "wall", "selector", "#notify-only", "value", "Keynote, @yael")
	p.do("click", "wall", "selector", "#notify")
	p.waitWall("notifications on", func(v wallView) bool { return v.NotifyState == "on" && v.NotifyButton == "🔔 Notifying" })

	t.Log("a visible wall does not notify")
	mustSend(t, conn, modStatus(87, "kenji", "健二", "keynote now #GoConf"))
	p.waitWall("the post", func(v wallView) bool { return v.IDs[0] == "twitter:87" })

	t.Log("hidden: only the posts the alert list names")
	p.call(t, map[string]any{"cmd": "visibility", "page": "wall", "hidden": true}, nil)
	mustSend(t, conn, modStatus(88, "ana", "Ana Løvås", "nothing about it #GoConf"), modStatus(89, "yael", "יעל", "שלום 👋 #GoConf"))
	v = p.waitWall("a notification", func(v wallView) bool { return len(v.Notifications) > 0 })
	if n := v.Notifications; len(n) != 1 || n[0].Tag != "post:twitter:89" || n[0].Title != "יעל @yael" || n[0].Body != "שלום 👋 #GoConf" {
		t.Errorf("notifications %+v, want only yael's post (twitter:89), as itself", n)
	}

	t.Log("a rush, with the list cleared and a mute word: one digest updated in place")
	p.do("fill", "wall", "selector", "#notify-only", "value", "")
	p.do("fill", "wall", "selector", "#notify-never", "value", "spoiler")
	mustSend(t, conn,
		modStatus(90, "zoe", "Zoë", "eins #GoConf"), modStatus(91, "mariam", "مريم", "اثنان #GoConf"),
		modStatus(92, "chen", "陈静", "三 #GoConf"), modStatus(93, "mallory", "<b>M</b>", "a SPOILER <img src=x> #GoConf"),
		modStatus(94, "jose", "José 🎉", "cuatro #GoConf"), modStatus(95, "ada", "Ada", "five #GoConf"))
	want := "5 new posts about #GoConf"
	v = p.waitWall(want, func(v wallView) bool {
		return len(v.Notifications) > 1 && v.Notifications[len(v.Notifications)-1].Title == want
	})
	for _, n := range v.Notifications[1:] {
		if n.Tag != "digest" || !strings.HasSuffix(n.Title, " new posts about #GoConf") {
			t.Errorf("notification %+v during the rush, want the digest", n)
		}
	}
	if last := v.Notifications[len(v.Notifications)-1]; last.Body != "\u2068@ada\u2069, \u2068@jose\u2069, \u2068@chen\u2069 and 2 others" {
		t.Errorf("digest body %q, want the newest authors, the muted one left out", last.Body)
	}
	p.call(t, map[string]any{"cmd": "visibility", "page": "wall", "hidden": false}, nil)
}

// storedPosts is the event's total in /api/stats.
func storedPosts(t *testing.T, srv *server) int {
	t.Helper()
	resp, err := httpc.Get(srv.URL + "/api/stats")
	if err != nil {
		t.Fatalf("GET /api/stats: %v", err)
	}
	defer resp.Body.Close()
	var s struct{ Total int }
	_ = json.NewDecoder(resp.Body).Decode(&s)
	return s.Total
}

// The wall and the display say what the stream does when it is not
// running, and a wall opened after the event ended says so at once.
func TestPagesSayWhatTheStreamDoes(t *testing.T) {
	t.Parallel()
	fake := twittertest.NewServer(twitterCreds)
	t.Cleanup(fake.Close)
	srv := startServer(t, twitterArgs(fake.URL, "--track", "#GoConf", "--admin-token", e2eToken,
		"--twitter-stall-timeout", "1s")...)
	conn := accept(t, "the stream", srv, fake.Open)
	stop := keepAlive(conn)
	mustSend(t, conn, modStatus(1, "ana", "Ana Løvås", "Olá 👋 #GoConf"))

	p := startPages(t, srv.URL)
	p.open("wall", "/")
	p.open("display", "/display", 1280, 720)
	p.waitWall("the post, and no word about the stream", func(v wallView) bool { return len(v.IDs) == 1 && v.SourceState == "" })

	t.Log("the stream stalls: the source reconnects")
	stop()
	p.waitWall("reconnecting", func(v wallView) bool { return strings.Contains(v.SourceState, "reconnecting") })
	waitFor(p, "display", "reconnecting", func(v displayView) bool { return strings.Contains(v.SourceState, "reconnecting") })
	conn = accept(t, "the stream again", srv, fake.Open)
	stop = keepAlive(conn)
	t.Cleanup(stop)
	p.waitWall("running again", func(v wallView) bool { return v.SourceState == "" })

	t.Log("the organiser ends the event")
	req, _ := http.NewRequest("POST", srv.URL+"/api/event/end", nil)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	res, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST /api/event/end: %d", res.StatusCode)
	}
	ended := "The event has ended. Thank you for following it!"
	p.waitWall("the end", func(v wallView) bool { return v.SourceState == ended })
	waitFor(p, "display", "the end", func(v displayView) bool { return v.SourceState == ended })
	p.open("wall", "/")
	p.waitWall("the end, for a wall opened after it", func(v wallView) bool { return v.SourceState == ended && len(v.IDs) == 1 })
}
