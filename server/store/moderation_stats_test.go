package store_test

import (
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
)

// A post an organiser hides leaves the public statistics (total, top
// authors) and counts as hidden; unhidden, it counts again.
func TestHiddenPostsCountApart(t *testing.T) {
	db := openDB(t)
	ctx := ctxT(t)
	ev, err := db.StartEvent(ctx, "GoConf 2026 · Zürich", []string{"#GoConf"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	posts := tweettest.Posts(12, 7)
	for _, p := range posts {
		if err := db.Save(ctx, ev.Name, p); err != nil {
			t.Fatal(err)
		}
	}
	before, err := db.Stats(ctx, ev.Name)
	if err != nil {
		t.Fatal(err)
	}
	troll := posts[3]
	d := tweet.Decision{Post: troll, State: tweet.Hidden, By: "console-1a2b", At: time.Now()}
	if err := db.PutDecision(ctx, ev.Name, d); err != nil {
		t.Fatal(err)
	}
	hidden, err := db.Stats(ctx, ev.Name)
	if err != nil {
		t.Fatal(err)
	}
	if hidden.Total != before.Total-1 || hidden.Hidden != 1 {
		t.Errorf("after a hide: total %d hidden %d, want %d and 1", hidden.Total, hidden.Hidden, before.Total-1)
	}
	if err := db.DeleteDecision(ctx, ev.Name, troll.ID); err != nil {
		t.Fatal(err)
	}
	back, err := db.Stats(ctx, ev.Name)
	if err != nil {
		t.Fatal(err)
	}
	if back.Total != before.Total || back.Hidden != 0 {
		t.Errorf("after the unhide: total %d hidden %d, want %d and 0", back.Total, back.Hidden, before.Total)
	}
	tweettest.CompareStats(t, back, before)
}
