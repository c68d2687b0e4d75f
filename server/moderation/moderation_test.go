package moderation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/ingest"
	"github.com/tweetwire/tweetwire/server/moderation"
	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/store/embedded"
	"github.com/tweetwire/tweetwire/server/tweet"
)

var shared *embedded.Server

func TestMain(m *testing.M) {
	srv, stop, err := embedded.StartTemp("tweetwire-moderation-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = srv
	code := m.Run()
	stop()
	os.Exit(code)
}

var dbSeq int

func openDB(t *testing.T) *store.DB {
	t.Helper()
	dbSeq++
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, store.Config{URI: shared.URI(), Database: fmt.Sprintf("moderation_%d", dbSeq)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return db
}

// recorder is a broker that keeps what was published.
type recorder struct {
	mu  sync.Mutex
	got []*hub.Message
}

func (r *recorder) Publish(_ context.Context, m *hub.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, m)
	return nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.got {
		out = append(out, m.Kind+" "+m.ID)
	}
	r.got = nil
	return out
}

var t0 = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// world is an event with posts from around the world, stored.
func world(t *testing.T, db *store.DB) []tweet.Tweet {
	posts := []tweet.Tweet{
		{ID: "twitter:1", Source: "twitter", User: "Ada", Name: "Ada 👩‍💻", Text: "Keynote starts now! #GoConf", Hashtags: []string{"goconf"}},
		{ID: "mastodon:2", Source: "mastodon", User: "layla@example.social", Name: "ليلى", Text: "مرحبا من المؤتمر 🎉"},
		{ID: "bluesky:3", Source: "bluesky", User: "tanaka.bsky.social", Name: "田中", Text: "東京から参加しています <b>bold</b>"},
		{ID: "twitter:4", Source: "twitter", User: "Troll", Name: "Troll", Text: "first!!! 🤡"},
		{ID: "twitter:5", Source: "twitter", User: "troll", Name: "Troll", Text: "buy followers → http://spam.example"},
	}
	for i := range posts {
		posts[i].CreatedAt = t0.Add(time.Duration(i) * time.Second)
		posts[i].Hashtags = tweet.NormalizeHashtags(posts[i].Hashtags)
		if err := db.Save(context.Background(), "ev", posts[i]); err != nil {
			t.Fatal(err)
		}
	}
	return posts
}

func newService(db *store.DB, b hub.Broker) *moderation.Service {
	return moderation.New(moderation.Config{Store: db, Posts: db, Event: "ev", Broker: b})
}

func ids(ps []tweet.Tweet) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return fmt.Sprint(out)
}

func TestHideUnhideAndFilteredReads(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	world(t, db)
	rec := &recorder{}
	s := newService(db, rec)
	f := moderation.Filtered{Store: db, Moderation: s}

	if err := s.Hide(ctx, "tab-1", "mastodon:2"); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); fmt.Sprint(got) != "[delete mastodon:2]" {
		t.Errorf("hide published %v", got)
	}
	recent, err := f.Recent(ctx, "ev", 3, "")
	if err != nil || ids(recent) != "[twitter:5 twitter:4 bluesky:3]" {
		t.Errorf("filtered Recent = %v %v", ids(recent), err)
	}
	if page, _ := f.Recent(ctx, "ev", 3, "bluesky:3"); ids(page) != "[twitter:1]" {
		t.Errorf("the next page = %v", ids(page))
	}
	hidden := s.Hidden()
	if len(hidden) != 1 || hidden[0].Post.Name != "ليلى" || hidden[0].By != "tab-1" || hidden[0].At.IsZero() {
		t.Errorf("Hidden = %+v", hidden)
	}
	if err := s.Hide(ctx, "tab-1", "twitter:404"); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("hiding an unknown post: %v", err)
	}

	// Another node (or a restart) loads the same state.
	other := newService(db, &recorder{})
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if other.Visible("mastodon:2") {
		t.Error("a node that loads the state shows the hidden post")
	}

	if err := s.Unhide(ctx, "tab-2", "mastodon:2"); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if fmt.Sprint(got) != "[tweet mastodon:2]" {
		t.Errorf("unhide published %v", got)
	}
	if err := s.Unhide(ctx, "tab-2", "mastodon:2"); tweet.ErrorCode(err) != tweet.EINVALID {
		t.Errorf("unhiding a shown post: %v", err)
	}
	if recent, _ := f.Recent(ctx, "ev", 10, ""); ids(recent) != "[twitter:5 twitter:4 bluesky:3 mastodon:2 twitter:1]" {
		t.Errorf("after unhide Recent = %v", ids(recent))
	}
	log, err := s.AuditLog(ctx, 10)
	if err != nil || len(log) != 2 || log[0].Action != "unhide" || log[0].By != "tab-2" || log[1].Action != "hide" || log[1].Target != "mastodon:2" {
		t.Errorf("audit = %+v %v", log, err)
	}
}

// Blocking an author hides what they posted (any case of the handle),
// keeps what they post next off the walls, and deleting the block brings
// the hidden posts back, oldest first.
func TestAuthorBlock(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	world(t, db)
	rec := &recorder{}
	s := newService(db, rec)
	b, err := s.AddBlock(ctx, "api", tweet.BlockAuthor, "twitter:@TROLL")
	if err != nil {
		t.Fatal(err)
	}
	if b.ID == "" || b.Value != "twitter:troll" {
		t.Errorf("block = %+v", b)
	}
	if got := rec.take(); fmt.Sprint(got) != "[delete twitter:5 delete twitter:4]" && fmt.Sprint(got) != "[delete twitter:4 delete twitter:5]" {
		t.Errorf("blocking published %v", got)
	}
	if s.Decide(ctx, &tweet.Tweet{ID: "twitter:6", Source: "twitter", User: "Troll", Text: "again"}) {
		t.Error("a blocked author's new post is published")
	}
	if !s.Decide(ctx, &tweet.Tweet{ID: "twitter:7", Source: "twitter", User: "ada", Text: "hello"}) {
		t.Error("someone else's post is held")
	}
	if _, err := s.AddBlock(ctx, "api", tweet.BlockAuthor, "twitter:troll"); tweet.ErrorCode(err) != tweet.EINVALID {
		t.Errorf("blocking twice: %v", err)
	}
	for _, bad := range []string{"troll", "Twitter:troll", "twitter:", "twitter:tr oll"} {
		if _, err := s.AddBlock(ctx, "api", tweet.BlockAuthor, bad); tweet.ErrorCode(err) != tweet.EINVALID {
			t.Errorf("author %q: %v, want invalid", bad, err)
		}
	}
	if err := s.RemoveBlock(ctx, "api", b.ID); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); fmt.Sprint(got) != "[tweet twitter:4 tweet twitter:5]" {
		t.Errorf("unblocking published %v", got)
	}
	if s.Visible("twitter:6") {
		t.Error("a post blocked at ingest shows after the block is gone: it was never shown")
	}
	if err := s.RemoveBlock(ctx, "api", b.ID); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("removing twice: %v", err)
	}
}

// With pre-moderation on, posts wait; approving publishes them in the
// order approved; allowed authors skip the queue; rejected posts stay
// off.
func TestPremoderation(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	rec := &recorder{}
	s := newService(db, rec)
	if err := s.SetSettings(ctx, "tab-1", tweet.ModerationSettings{Premoderation: true, Allow: []string{"mastodon:@Speaker@conf.example"}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Settings().Allow; fmt.Sprint(got) != "[mastodon:speaker@conf.example]" {
		t.Errorf("allow = %v", got)
	}
	p := ingest.New(rec, ingest.Config{Store: db, Event: "ev", Moderate: s.Decide})
	posts := []tweet.Tweet{
		{ID: "twitter:10", Source: "twitter", User: "a", Text: "Première question 🇫🇷", CreatedAt: t0},
		{ID: "mastodon:11", Source: "mastodon", User: "speaker@conf.example", Text: "Slides: https://conf.example/s", CreatedAt: t0.Add(time.Second)},
		{ID: "twitter:12", Source: "twitter", User: "b", Text: "第二个问题", CreatedAt: t0.Add(2 * time.Second)},
		{ID: "twitter:13", Source: "twitter", User: "c", Text: "שאלה שלישית", CreatedAt: t0.Add(3 * time.Second)},
	}
	for _, x := range posts {
		if err := p.Emit(ctx, tweet.Post(x)); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.take(); fmt.Sprint(got) != "[tweet mastodon:11]" {
		t.Errorf("published at ingest %v, want only the allowed author's", got)
	}
	q := s.Queue()
	if len(q) != 3 || q[0].Post.ID != "twitter:10" || q[2].Post.ID != "twitter:13" || q[0].State != "queued" {
		t.Fatalf("queue = %+v", q)
	}
	for _, id := range []string{"twitter:13", "twitter:10"} {
		if err := s.Approve(ctx, "tab-1", id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Reject(ctx, "tab-1", "twitter:12"); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); fmt.Sprint(got) != "[tweet twitter:13 tweet twitter:10]" {
		t.Errorf("approving published %v", got)
	}
	if err := s.Approve(ctx, "tab-1", "twitter:12"); tweet.ErrorCode(err) != tweet.EINVALID {
		t.Errorf("approving a rejected post: %v", err)
	}
	if err := s.Approve(ctx, "tab-1", "twitter:999"); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("approving an unknown post: %v", err)
	}
	f := moderation.Filtered{Store: db, Moderation: s}
	if recent, _ := f.Recent(ctx, "ev", 10, ""); ids(recent) != "[twitter:13 mastodon:11 twitter:10]" {
		t.Errorf("Recent = %v", ids(recent))
	}
	items, err := s.Posts(ctx, 10)
	if err != nil || len(items) != 4 || items[1].Post.ID != "twitter:12" || items[1].State != "rejected" || items[0].State != "shown" {
		t.Errorf("Posts = %+v %v", items, err)
	}
}

// Pins: the event lists the pinned posts, most recently pinned first;
// hiding a pinned post unpins it.
func TestPins(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	world(t, db)
	rec := &recorder{}
	s := newService(db, rec)
	for _, id := range []string{"twitter:1", "bluesky:3"} {
		if err := s.Pin(ctx, "tab-1", id); err != nil {
			t.Fatal(err)
		}
	}
	var pinned []tweet.Tweet
	if err := json.Unmarshal(s.PinsMessage().Data, &pinned); err != nil || ids(pinned) != "[bluesky:3 twitter:1]" || pinned[0].Text != "東京から参加しています <b>bold</b>" {
		t.Errorf("pins = %s %v", s.PinsMessage().Data, err)
	}
	if got := rec.take(); fmt.Sprint(got) != "[pins pins pins pins]" {
		t.Errorf("pinning published %v", got)
	}
	if err := s.Hide(ctx, "tab-1", "bluesky:3"); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	last := rec.got[len(rec.got)-1]
	rec.mu.Unlock()
	if last.Kind != hub.KindPins || string(last.Data) != string(s.PinsMessage().Data) {
		t.Errorf("hiding a pinned post published %s %s", last.Kind, last.Data)
	}
	if err := json.Unmarshal(last.Data, &pinned); err != nil || ids(pinned) != "[twitter:1]" {
		t.Errorf("after hiding, pins = %s", last.Data)
	}
	if err := s.Pin(ctx, "tab-1", "bluesky:3"); tweet.ErrorCode(err) != tweet.EINVALID {
		t.Errorf("pinning a hidden post: %v", err)
	}
	if err := s.Unpin(ctx, "tab-1", "twitter:1"); err != nil {
		t.Fatal(err)
	}
	if string(s.PinsMessage().Data) != "[]" {
		t.Errorf("no pins left: %s", s.PinsMessage().Data)
	}
}

// Word blocks and the reposts switch hold new posts back as blocked.
func TestWordBlockAndReposts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	rec := &recorder{}
	s := newService(db, rec)
	if _, err := s.AddBlock(ctx, "api", tweet.BlockWord, "spoiler"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSettings(ctx, "api", tweet.ModerationSettings{HideReposts: true}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		post tweet.Tweet
		show bool
	}{
		{tweet.Tweet{ID: "x:1", Source: "x", User: "a", Text: "SPOILER: he dies"}, false},
		{tweet.Tweet{ID: "x:2", Source: "x", User: "a", Text: "unspoilered talk 🎤"}, true},
		{tweet.Tweet{ID: "x:3", Source: "x", User: "a", Text: "RT great talk", Retweet: true}, false},
	}
	for _, c := range cases {
		if got := s.Decide(ctx, &c.post); got != c.show {
			t.Errorf("%q: show %v, want %v", c.post.Text, got, c.show)
		}
	}
	other := newService(db, &recorder{})
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if other.Visible("x:1") || other.Visible("x:3") || !other.Visible("x:2") {
		t.Error("the decisions made at ingest are not stored")
	}
	for _, bad := range []string{"", "   ", "two\nlines", string(make([]byte, 300))} {
		if _, err := s.AddBlock(ctx, "api", tweet.BlockWord, bad); tweet.ErrorCode(err) != tweet.EINVALID {
			t.Errorf("word %q: %v, want invalid", bad, err)
		}
	}
	if _, err := s.AddBlock(ctx, "api", "regex", ".*"); tweet.ErrorCode(err) != tweet.EINVALID {
		t.Errorf("unknown kind: %v", err)
	}
}

// The most reposted posts leave out a post the organiser hid and posts
// that a block would keep off the wall: by a blocked author, with a
// blocked word; reposts of a hidden post still count as posts.
func TestFilteredTopPosts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if _, err := db.StartEvent(ctx, "ev", []string{"#goconf"}, t0); err != nil {
		t.Fatal(err)
	}
	world(t, db) // twitter:1 is Ada's keynote post
	s := newService(db, &recorder{})
	originals := []tweet.Original{
		{User: "Ada", Name: "Ada 👩‍💻", ID: "twitter:1", Reposts: 90},
		{User: "troll", Name: "Troll", ID: "twitter:5", Reposts: 80},
		{User: "layla", Name: "ليلى", ID: "twitter:6", Reposts: 70},
		{User: "tanaka", Name: "田中", ID: "twitter:7", Reposts: 60},
	}
	texts := []string{"Keynote starts now! #GoConf", "buy followers", "SPOILER: the keynote ends with a demo", "東京から <b>bold</b>"}
	for i, o := range originals {
		p := tweet.Tweet{
			ID: fmt.Sprintf("twitter:%d", 100+i), Source: "twitter", User: "fan", Text: "RT @" + o.User + ": " + texts[i],
			CreatedAt: t0.Add(time.Minute), Retweet: true, RepostOf: &o,
		}
		if err := db.Save(ctx, "ev", p); err != nil {
			t.Fatal(err)
		}
	}
	f := moderation.Filtered{Store: db, Moderation: s}
	top := func() string {
		st, err := f.Stats(ctx, "ev")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range st.TopPosts {
			got = append(got, p.ID)
		}
		return fmt.Sprint(got)
	}
	if got := top(); got != "[twitter:1 twitter:5 twitter:6 twitter:7]" {
		t.Fatalf("TopPosts = %s before any moderation", got)
	}
	if err := s.Hide(ctx, "tab-1", "twitter:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBlock(ctx, "api", tweet.BlockAuthor, "twitter:@Troll"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBlock(ctx, "api", tweet.BlockWord, "spoiler"); err != nil {
		t.Fatal(err)
	}
	if got := top(); got != "[twitter:7]" {
		t.Errorf("TopPosts = %s, want only 田中's post", got)
	}
}
