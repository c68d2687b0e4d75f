package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/store/embedded"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
)

var t0 = time.Date(2024, 5, 17, 9, 0, 0, 0, time.UTC)

func post(id string, at time.Time) tweet.Tweet {
	return tweet.Tweet{
		ID: id, Source: "demo", User: "gopher", Name: "Gopher", Text: "hello " + id,
		CreatedAt: at, Hashtags: []string{"go"}, Lang: "en", URL: "https://example.org/" + id,
	}
}

// The store keeps the contract of tweet.Store, checked by the suite that
// the in-memory fake (tweettest.Store) passes too: with the PostIndex, as
// the server opens its embedded store, and without, as it reads MongoDB.
func TestContract(t *testing.T) {
	t.Run("PostIndex", func(t *testing.T) {
		tweettest.TestStore(t, func(t *testing.T) tweet.Store { return openDB(t) })
	})
	t.Run("driver only", func(t *testing.T) {
		tweettest.TestStore(t, func(t *testing.T) tweet.Store { return openAt(t, shared, freshName(t), false) })
	})
}

// BSON dates hold milliseconds: the real store keeps no more, and paging
// compares what it returned.
func TestSaveRoundTrip(t *testing.T) {
	ctx := ctxT(t)
	db := openDB(t)
	in := tweet.Tweet{
		ID: "twitter:42", Source: "twitter", User: "Ada", Name: "Ada L.", Picture: "https://example.org/a.png",
		Text: "<b>not html</b> 🎉", CreatedAt: t0.Add(1234567 * time.Microsecond), Hashtags: []string{"go", "gophercon"},
		Lang: "fr", URL: "https://x.example/42", Retweet: true,
	}
	if err := db.Save(ctx, "ev", in); err != nil {
		t.Fatal(err)
	}
	got, err := db.Recent(ctx, "ev", 1, "")
	if err != nil || len(got) != 1 {
		t.Fatalf("Recent: %v %v", got, err)
	}
	want := in
	want.CreatedAt = in.CreatedAt.Truncate(time.Millisecond) // BSON dates hold milliseconds
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got[0], want)
	}
}

func msTruncated(posts []tweet.Tweet) []tweet.Tweet {
	out := make([]tweet.Tweet, len(posts))
	for i, p := range posts {
		p.CreatedAt = p.CreatedAt.Truncate(time.Millisecond)
		if p.Hashtags == nil {
			p.Hashtags = []string{}
		}
		out[i] = p
	}
	return out
}

func TestTimeline(t *testing.T) {
	m := func(min int64) time.Time { return time.Unix(min*60, 0).UTC() }
	tests := []struct {
		name      string
		in        map[int64]int64
		wantLen   int
		wantFirst time.Time
		wantPeak  tweet.MinuteCount
	}{
		{name: "empty", in: nil, wantLen: 0},
		{name: "one minute", in: map[int64]int64{100: 3}, wantLen: 1, wantFirst: m(100), wantPeak: tweet.MinuteCount{Minute: m(100), Count: 3}},
		{name: "gap is zero-filled", in: map[int64]int64{100: 1, 104: 1}, wantLen: 5, wantFirst: m(100), wantPeak: tweet.MinuteCount{Minute: m(100), Count: 1}},
		{name: "earliest of equal peaks", in: map[int64]int64{100: 1, 101: 5, 103: 5}, wantLen: 4, wantFirst: m(100), wantPeak: tweet.MinuteCount{Minute: m(101), Count: 5}},
		{
			name:      "a wild date is cut off, the peak is kept",
			in:        map[int64]int64{0: 9, 28_000_000: 1},
			wantLen:   store.MaxTimeline,
			wantFirst: m(28_000_000 - store.MaxTimeline + 1),
			wantPeak:  tweet.MinuteCount{Minute: m(0), Count: 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, peak := store.Timeline(tt.in)
			if tl == nil || len(tl) != tt.wantLen {
				t.Fatalf("timeline of %d minutes, want %d", len(tl), tt.wantLen)
			}
			if tt.wantLen > 0 && !tl[0].Minute.Equal(tt.wantFirst) {
				t.Errorf("first minute %v, want %v", tl[0].Minute, tt.wantFirst)
			}
			if peak != tt.wantPeak {
				t.Errorf("peak %+v, want %+v", peak, tt.wantPeak)
			}
		})
	}
}

func TestRestartKeepsPostsAndStats(t *testing.T) {
	dir := t.TempDir()
	srv, err := embedded.Start(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	db := openAt(t, srv, "tweetwire", true)
	if _, err := db.StartEvent(ctx, "conf", []string{"go"}, t0); err != nil {
		t.Fatal(err)
	}
	posts := tweettest.Posts(60, 3)
	for _, p := range posts {
		if err := db.Save(ctx, "conf", p); err != nil {
			t.Fatal(err)
		}
	}
	before, err := db.Stats(ctx, "conf")
	if err != nil {
		t.Fatal(err)
	}
	recent, err := db.Recent(ctx, "conf", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv, err = embedded.Start(embedded.Config{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("restart on the same directory: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() }) // after the db's cleanup: LIFO
	db = openAt(t, srv, "tweetwire", true)
	after, err := db.Stats(ctx, "conf")
	if err != nil {
		t.Fatal(err)
	}
	tweettest.CompareStats(t, after, before)
	recentAfter, err := db.Recent(ctx, "conf", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recentAfter, recent) {
		t.Errorf("recent posts changed across the restart")
	}
	want := tweettest.WantStats(before.Event, msTruncated(posts))
	tweettest.CompareStats(t, after, want)
}

func idsOf(ps []tweet.Tweet) []string {
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

// A read that runs out of time says what took too long, and does not send
// the operator to --mongo-uri (the database answered; it was slow).
func TestTimeoutSaysWhatTookTooLong(t *testing.T) {
	db := openDB(t)
	for _, p := range tweettest.Posts(20, 7) {
		if err := db.Save(ctxT(t), "Café 🎉", p); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	_, err := db.Recent(ctx, "Café 🎉", 50, "")
	if tweet.ErrorCode(err) != tweet.EUNAVAILABLE {
		t.Fatalf("Recent past its deadline: %v, want EUNAVAILABLE", err)
	}
	msg := tweet.ErrorMessage(err)
	if !strings.Contains(msg, "took too long to read recent posts") || strings.Contains(msg, "--mongo-uri") {
		t.Errorf("message %q, want what took too long, and no --mongo-uri", msg)
	}
}
