package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
)

type recorder struct{ got []*hub.Message }

func (r *recorder) Publish(_ context.Context, m *hub.Message) error {
	r.got = append(r.got, m)
	return nil
}

func TestEmitDropsDuplicatesAndEncodesOnce(t *testing.T) {
	rec := &recorder{}
	p := New(rec, Config{Remember: 3})
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	events := []tweet.Update{
		tweet.Post(tweet.Tweet{ID: "t:1", User: "ada", CreatedAt: at}),
		tweet.Post(tweet.Tweet{ID: "t:1", User: "ada", CreatedAt: at}), // a reconnect repeats it
		tweet.Post(tweet.Tweet{ID: "t:2"}),
		tweet.Delete("t:1"),
		tweet.Delete("t:1"),
	}
	for _, ev := range events {
		if err := p.Emit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.got) != 3 {
		t.Fatalf("published %d messages, want 3", len(rec.got))
	}
	var first map[string]any
	if err := json.Unmarshal(rec.got[0].Data, &first); err != nil {
		t.Fatal(err)
	}
	if first["created_at"] != "2026-01-02T02:04:05Z" {
		t.Errorf("created_at = %v, want UTC RFC 3339", first["created_at"])
	}
	if tags, ok := first["hashtags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("hashtags = %#v, want []", first["hashtags"])
	}
	if rec.got[2].Kind != hub.KindDelete || string(rec.got[2].Data) != `{"id":"t:1"}` {
		t.Errorf("delete = %s %s", rec.got[2].Kind, rec.got[2].Data)
	}
	h := p.Health()
	if h.Posts != 2 || h.Deletes != 1 || h.Duplicates != 2 {
		t.Errorf("health counters = %+v", h)
	}
}

func TestSeenSetForgetsOldest(t *testing.T) {
	s := newSeenSet(2)
	for _, k := range []string{"a", "b", "c"} {
		if !s.add(k) {
			t.Fatalf("%s reported as seen", k)
		}
	}
	if !s.add("a") {
		t.Fatal("a should have been forgotten after two newer keys")
	}
	if s.add("c") {
		t.Fatal("c should still be remembered")
	}
}

func TestEmitRejectsBadEvents(t *testing.T) {
	p := New(&recorder{}, Config{})
	for _, ev := range []tweet.Update{{Kind: tweet.KindPost}, {Kind: tweet.KindDelete}, {Kind: 99, ID: "x"}} {
		if err := p.Emit(context.Background(), ev); tweet.ErrorCode(err) != tweet.EINVALID {
			t.Errorf("Emit(%+v) = %v, want an invalid-input error", ev, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Emit(ctx, tweet.Post(tweet.Tweet{ID: "x"})); !errors.Is(err, context.Canceled) {
		t.Errorf("Emit on a done context = %v", err)
	}
}

func TestSetState(t *testing.T) {
	now := time.Unix(100, 0)
	p := New(&recorder{}, Config{Now: func() time.Time { return now }})
	now = time.Unix(200, 0)
	p.SetState(tweet.StateFailed, errors.New("401: check TWITTER_ACCESS_TOKEN"))
	h := p.Health()
	if h.State != tweet.StateFailed || h.Error != "401: check TWITTER_ACCESS_TOKEN" || !h.Since.Equal(now) {
		t.Fatalf("health = %+v", h)
	}
	p.SetState(tweet.StateRunning, nil)
	if h := p.Health(); h.Error != "" || h.State != tweet.StateRunning {
		t.Fatalf("health after recovery = %+v", h)
	}
	for _, s := range []tweet.State{tweet.StateReconnecting, tweet.StateReconnecting, tweet.StateRunning, tweet.StateReconnecting} {
		p.SetState(s, nil)
	}
	if h := p.Health(); h.Reconnects != 2 {
		t.Fatalf("reconnects = %d, want 2 (one per drop, not per report)", h.Reconnects)
	}
}

type storeRecorder struct {
	ops []string
	err error
}

func (s *storeRecorder) Save(_ context.Context, event string, t tweet.Tweet) error {
	s.ops = append(s.ops, "save "+event+" "+t.ID)
	return s.err
}

func (s *storeRecorder) Delete(_ context.Context, id string) error {
	s.ops = append(s.ops, "delete "+id)
	return s.err
}

func TestEmitStoresAfterPublishing(t *testing.T) {
	rec, st := &recorder{}, &storeRecorder{}
	var counted []string
	p := New(rec, Config{Store: st, Event: "goconf", OnPost: func(t *tweet.Tweet) { counted = append(counted, t.ID) }})
	p.Remember("t:old")
	ctx := context.Background()
	for _, ev := range []tweet.Update{
		tweet.Post(tweet.Tweet{ID: "t:old"}), // stored before a restart
		tweet.Post(tweet.Tweet{ID: "t:1"}),
		tweet.Post(tweet.Tweet{ID: "t:1"}),
		tweet.Delete("t:1"),
	} {
		if err := p.Emit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(st.ops); got != "[save goconf t:1 delete t:1]" {
		t.Errorf("store got %s", got)
	}
	if len(rec.got) != 2 {
		t.Errorf("published %d, want the post and its delete", len(rec.got))
	}
	if fmt.Sprint(counted) != "[t:1]" {
		t.Errorf("OnPost saw %v, want the one fresh post", counted)
	}
	// A store that cannot take the post does not stop the stream.
	st.err = errors.New("spool full")
	if err := p.Emit(ctx, tweet.Post(tweet.Tweet{ID: "t:2"})); err != nil || len(rec.got) != 3 {
		t.Errorf("Emit with a failing store = %v, published %d", err, len(rec.got))
	}
}

// After a restart every stored post of the event is known, not only the
// ones seeded into the backlog: a source that replays 20,000 posts
// broadcasts none of them again (it did the ~19,000 past the backlog).
func TestSeedRemembersEveryStoredPost(t *testing.T) {
	ctx := context.Background()
	db := tweettest.NewStore()
	t0 := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	var posts []tweet.Tweet
	for i := range 20000 {
		p := tweet.Tweet{ID: fmt.Sprintf("twitter:%d", 1860000000000000000+i), Source: "twitter", User: "zoë",
			Text: "Grüße 🎉 東京 مرحبا", CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
		if err := db.Save(ctx, "GoConf", p); err != nil {
			t.Fatal(err)
		}
		posts = append(posts, p)
	}
	if err := db.Save(ctx, "other", tweet.Tweet{ID: "twitter:1", Source: "twitter", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Backlog: 50})
	rec := &recorder{}
	p := New(rec, Config{})
	if err := Seed(ctx, db, "GoConf", 1000, h, p); err != nil {
		t.Fatal(err)
	}
	if got := len(h.Recent(5000)); got != 1000 {
		t.Errorf("the hub holds %d posts, want the 1000 seeded", got)
	}
	for _, post := range posts {
		if err := p.Emit(ctx, tweet.Post(post)); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.got) != 0 {
		t.Fatalf("%d stored posts were broadcast again after the restart (first %s)", len(rec.got), rec.got[0].ID)
	}
	// Another event's post is not this event's: it is new here.
	if err := p.Emit(ctx, tweet.Post(tweet.Tweet{ID: "twitter:1", Source: "twitter", CreatedAt: t0})); err != nil || len(rec.got) != 1 {
		t.Fatalf("a post of another event was taken for a duplicate: %v, %d published", err, len(rec.got))
	}
}

// A post moderation holds back is stored, and reaches no client; the
// posts it lets through are published as before.
func TestEmitHoldsWhatModerationHolds(t *testing.T) {
	rec := &recorder{}
	db := tweettest.NewStore()
	var seen []string
	p := New(rec, Config{Store: db, Event: "ev", Moderate: func(_ context.Context, t *tweet.Tweet) bool {
		seen = append(seen, t.ID)
		return t.User != "troll"
	}})
	ctx := context.Background()
	for _, ev := range []tweet.Update{
		tweet.Post(tweet.Tweet{ID: "t:1", User: "ada", Text: "Bonjour 👋"}),
		tweet.Post(tweet.Tweet{ID: "t:2", User: "troll", Text: "<b>spam</b>"}),
		tweet.Post(tweet.Tweet{ID: "t:2", User: "troll", Text: "<b>spam</b>"}),
		tweet.Delete("t:1"),
	} {
		if err := p.Emit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.got) != 2 || rec.got[0].ID != "t:1" || rec.got[1].Kind != hub.KindDelete {
		t.Errorf("published %v, want t:1 and its delete", rec.got)
	}
	if fmt.Sprint(seen) != "[t:1 t:2]" {
		t.Errorf("moderation saw %v: each new post once, no deletes", seen)
	}
	if ids, _ := db.IDs(ctx, "ev", 10); fmt.Sprint(ids) != "[t:2]" {
		t.Errorf("stored %v, want the held post kept", ids)
	}
}

// A source that lets a javascript: link or image through (by mistake or
// because its service was fed one) does not get it to clients.
func TestEmitCleansLinksAndMedia(t *testing.T) {
	rec := &recorder{}
	p := New(rec, Config{})
	text := "Klick hier 👉 https://t.co/evil und #GoConf"
	post := tweet.Tweet{ID: "t:1", User: "mallory", Text: text,
		Entities: []tweet.Entity{
			{Kind: "url", Start: 14, End: 31, Href: "javascript:alert(document.cookie)", Display: "harmlos.example"},
			{Kind: "hashtag", Start: 36, End: 43, Href: "https://twitter.com/hashtag/GoConf"},
		},
		Media: []tweet.Media{{Type: "photo", URL: "javascript:alert(1)"}, {Type: "photo", URL: "https://pbs.twimg.com/media/ok.jpg", Alt: "Bühne"}},
	}
	if err := p.Emit(context.Background(), tweet.Post(post)); err != nil {
		t.Fatal(err)
	}
	var got tweet.Tweet
	if err := json.Unmarshal(rec.got[0].Data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Entities) != 1 || got.Entities[0].Kind != "hashtag" {
		t.Errorf("entities published = %+v, want only the hashtag", got.Entities)
	}
	if len(got.Media) != 1 || got.Media[0].URL != "https://pbs.twimg.com/media/ok.jpg" {
		t.Errorf("media published = %+v, want only the https photo", got.Media)
	}
}
