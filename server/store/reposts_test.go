package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// The most reposted posts: ranked by the source's count where it gives
// one (the highest it gave), else by the reposts the event holds; a
// repost without its original's id is not ranked; a post leaves the list
// when every repost of it is hidden or deleted, and comes back with an
// unhide; the text is the original's, without "RT @author: ".
func TestTopPosts(t *testing.T) {
	ctx := ctxT(t)
	db := openDB(t)
	t0 := time.Date(2026, 5, 14, 9, 0, 0, 0, time.UTC)
	ev, err := db.StartEvent(ctx, "GopherCon 🎉", []string{"#gophercon"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	repost := func(source string, o tweet.Original, text string) tweet.Tweet {
		n++
		p := tweet.Tweet{
			ID: fmt.Sprintf("%s:%d", source, n), Source: source, User: fmt.Sprintf("fan%d", n), Name: "Fan 🐹",
			Text: text, CreatedAt: t0.Add(time.Duration(n) * time.Minute), Hashtags: []string{"gophercon"},
			Retweet: true, RepostOf: &o,
		}
		if err := db.Save(ctx, ev.Name, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	marta := tweet.Original{User: "marta_codes", Name: "Marta <b>Kowalska</b>", ID: "twitter:100", URL: "https://twitter.com/marta_codes/status/100"}
	long := strings.Repeat("ゴーファー ", 200)
	// Three reposts of Marta's post, read as its count grew on Twitter.
	for _, count := range []int64{12, 340, 0} {
		marta.Reposts = count
		repost("twitter", marta, "RT @marta_codes: Slides: <script>x</script> 🎉 #GopherCon")
	}
	// Layla's post, reposted four times on Mastodon, which said nothing
	// of its count; the text is long.
	layla := tweet.Original{User: "layla@hachyderm.io", Name: "ليلى", ID: "mastodon:hachyderm.io/7", URL: "https://hachyderm.io/@layla/7"}
	var laylas []tweet.Tweet
	for range 4 {
		laylas = append(laylas, repost("mastodon", layla, "مرحبا "+long))
	}
	// A Bluesky repost names no original id: not ranked.
	repost("bluesky", tweet.Original{User: "noa.bsky.social"}, "שלום")

	top := func() []tweet.PostCount {
		t.Helper()
		s, err := db.Stats(ctx, ev.Name)
		if err != nil {
			t.Fatal(err)
		}
		return s.TopPosts
	}
	got := top()
	if len(got) != 2 {
		t.Fatalf("TopPosts = %+v, want Marta's and Layla's posts", got)
	}
	m, l := got[0], got[1]
	if m.ID != "twitter:100" || m.Reposts != 340 || m.Seen != 3 || m.Reported != 340 || m.Source != "twitter" ||
		m.User != "marta_codes" || m.Name != marta.Name || m.URL != marta.URL || m.Text != "Slides: <script>x</script> 🎉 #GopherCon" {
		t.Errorf("first = %+v, want Marta's post with 340 reposts (Twitter's highest count), 3 seen, text without RT", m)
	}
	if l.ID != layla.ID || l.Reposts != 4 || l.Seen != 4 || l.Reported != 0 || l.Name != "ليلى" {
		t.Errorf("second = %+v, want Layla's post with the 4 reposts seen", l)
	}
	if r := []rune(l.Text); len(r) != 560 || !strings.HasPrefix(l.Text, "مرحبا ゴーファー") || r[len(r)-1] != '…' {
		t.Errorf("long text kept as %d runes ending %q, want 560 ending with …", len(r), string(r[len(r)-3:]))
	}

	// Hiding three of Layla's reposts and deleting the fourth takes her
	// post off the list; unhiding one brings it back, with one seen.
	for _, p := range laylas[:3] {
		if err := db.Hide(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Delete(ctx, laylas[3].ID); err != nil {
		t.Fatal(err)
	}
	if got := top(); len(got) != 1 || got[0].ID != marta.ID {
		t.Errorf("with every repost of Layla's post hidden or deleted, TopPosts = %+v, want only Marta's", got)
	}
	if err := db.Unhide(ctx, laylas[1].ID); err != nil {
		t.Fatal(err)
	}
	if got := top(); len(got) != 2 || got[1].ID != layla.ID || got[1].Seen != 1 || got[1].Reposts != 1 {
		t.Errorf("after an unhide, TopPosts = %+v, want Layla's post back with 1 seen", got)
	}
	// A recount agrees.
	if _, err := db.Recount(ctx, ev.Name); err != nil {
		t.Fatal(err)
	}
	if got := top(); len(got) != 2 || got[0].Reposts != 340 || got[1].Seen != 1 {
		t.Errorf("after a recount, TopPosts = %+v", got)
	}
}
