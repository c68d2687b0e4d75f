package store_test

import (
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Moderation's state survives closing the store and opening the database
// again, per event, with the orders LoadModeration promises.
func TestModerationRoundTrip(t *testing.T) {
	ctx := ctxT(t)
	name := "moderation_roundtrip"
	db := openAt(t, shared, name, true)
	rtl := tweet.Tweet{ID: "mastodon:1", Source: "mastodon", User: "Layla", Name: "ليلى", Text: "مرحبا بالعالم #مؤتمر 🎉", CreatedAt: t0, Hashtags: []string{"مؤتمر"}, URL: "https://example.org/1"}
	cjk := tweet.Tweet{ID: "bluesky:2", Source: "bluesky", User: "tanaka.bsky.social", Text: "東京の会場は最高！<script>x</script>", CreatedAt: t0.Add(time.Second), Hashtags: []string{}}
	for _, p := range []tweet.Tweet{rtl, cjk} {
		if err := db.Save(ctx, "ev", p); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(time.Minute)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.PutDecision(ctx, "ev", tweet.Decision{Post: rtl, State: tweet.Hidden, By: "tab-1", At: at, Reason: "spoiler"}))
	must(db.PutDecision(ctx, "ev", tweet.Decision{Post: cjk, State: tweet.Queued, By: "rules", At: at.Add(time.Second)}))
	must(db.PutDecision(ctx, "other", tweet.Decision{Post: cjk, State: tweet.Blocked, By: "rules", At: at}))
	must(db.PutSettings(ctx, "ev", tweet.ModerationSettings{Premoderation: true, Allow: []string{"bluesky:tanaka.bsky.social"}}))
	must(db.AddBlock(ctx, "ev", tweet.Block{ID: "b1", Kind: tweet.BlockWord, Value: "Spoiler ✨", By: "api", At: at}))
	must(db.AddBlock(ctx, "ev", tweet.Block{ID: "b2", Kind: tweet.BlockAuthor, Value: "twitter:troll", By: "api", At: at.Add(time.Second)}))
	must(db.PutPin(ctx, "ev", tweet.Pin{Post: cjk, By: "tab-1", At: at}))
	must(db.PutPin(ctx, "ev", tweet.Pin{Post: rtl, By: "tab-1", At: at.Add(time.Second)}))
	for i, a := range []string{"hide", "block", "pin"} {
		must(db.Audit(ctx, "ev", tweet.AuditEntry{Action: a, Target: "x", By: "tab-1", At: at.Add(time.Duration(i) * time.Millisecond)}))
	}
	must(db.RemoveBlock(ctx, "ev", "b2"))
	if err := db.RemoveBlock(ctx, "ev", "b2"); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("removing a removed block: %v, want not found", err)
	}
	_ = db.Close(ctx)

	db = openAt(t, shared, name, true)
	m, err := db.LoadModeration(ctx, "ev")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Settings.Premoderation || m.Settings.HideReposts || len(m.Settings.Allow) != 1 || m.Settings.Allow[0] != "bluesky:tanaka.bsky.social" {
		t.Errorf("settings = %+v", m.Settings)
	}
	if len(m.Blocks) != 1 || m.Blocks[0].ID != "b1" || m.Blocks[0].Value != "Spoiler ✨" || !m.Blocks[0].At.Equal(at) {
		t.Errorf("blocks = %+v", m.Blocks)
	}
	if len(m.Pins) != 2 || m.Pins[0].Post.ID != rtl.ID || m.Pins[0].Post.Text != rtl.Text {
		t.Errorf("pins (most recent first) = %+v", m.Pins)
	}
	if len(m.Decisions) != 2 || m.Decisions[0].State != tweet.Hidden || m.Decisions[0].Post.Name != "ليلى" || m.Decisions[0].By != "tab-1" || m.Decisions[1].State != tweet.Queued {
		t.Errorf("decisions = %+v", m.Decisions)
	}
	must(db.DeleteDecision(ctx, "ev", rtl.ID))
	if m, _ := db.LoadModeration(ctx, "ev"); len(m.Decisions) != 1 || m.Decisions[0].Post.ID != cjk.ID {
		t.Errorf("after DeleteDecision: %+v", m.Decisions)
	}
	log, err := db.AuditLog(ctx, "ev", 2)
	if err != nil || len(log) != 2 || log[0].Action != "pin" || log[1].Action != "block" {
		t.Errorf("audit log newest first, limited: %+v %v", log, err)
	}
	if p, err := db.Post(ctx, "ev", cjk.ID); err != nil || p.Text != cjk.Text {
		t.Errorf("Post = %+v, %v", p, err)
	}
	if _, err := db.Post(ctx, "other", cjk.ID); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("a post of another event: %v, want not found", err)
	}
	by, err := db.PostsBy(ctx, "ev", "mastodon", "LAYLA")
	if err != nil || len(by) != 1 || by[0].ID != rtl.ID {
		t.Errorf("PostsBy = %+v, %v", by, err)
	}
}

var _ tweet.ModerationStore = (*store.DB)(nil)
