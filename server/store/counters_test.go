package store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
)

// worldPosts returns n posts whose counter keys hold what field names
// cannot: dots, dollars and percent signs, besides emoji, CJK, right-to-left
// scripts and markup; spread over three hours across midnight of New
// Year 1970, so that days, minutes and times are negative for some.
func worldPosts(r *rand.Rand, n int) []tweet.Tweet {
	sources := []string{"twitter", "mastodon", "bluesky", "demo.v2", "$feed"}
	users := []string{"bob.smith", "Bob.Smith", "$money", "100%", "%2E", "Zoë", "田中", "ليلى", "עברית", "<b>ivan</b>", "🎉party", "ada"}
	langs := []string{"en", "fr", "ja", "", "zh.Hant", "$und", "ar"}
	tags := []string{"go.dev", "$tsla", "日本", "🎉", "עברית", "Café", "a%b", "crème.brûlée", "جو", "x"}
	texts := []string{"🎉 gophers", "Crème brûlée à midi", "ゴーファー最高！", "مرحبا", "<script>alert(1)</script>", "a &amp; b"}
	t0 := time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)
	out := make([]tweet.Tweet, n)
	for i := range out {
		at := t0.Add(time.Duration(r.IntN(3*60*60)) * time.Second)
		var ht []string
		for range r.IntN(4) {
			ht = append(ht, tags[r.IntN(len(tags))])
		}
		src := sources[r.IntN(len(sources))]
		// The text writes its tags mostly as listed ("Café"), else in
		// upper case, and sometimes leaves one out: the statistics show
		// each as most posts write it ("Café" for "café", "x" for "x").
		text := texts[r.IntN(len(texts))]
		for _, h := range ht {
			switch r.IntN(6) {
			case 0, 1, 2, 3:
				text += " #" + h
			case 4:
				text += " #" + strings.ToUpper(h)
			}
		}
		out[i] = tweet.Tweet{
			ID: fmt.Sprintf("%s:%d", src, i), Source: src, User: users[r.IntN(len(users))], Name: "名前 ✨",
			Text: text, CreatedAt: at, Hashtags: tweet.NormalizeHashtags(ht),
			Lang: langs[r.IntN(len(langs))],
		}
		if r.IntN(3) == 0 {
			tweettest.Repost(&out[i], i)
		}
	}
	return out
}

// The counters that Save, Delete, Hide and Unhide keep give the same
// statistics as a recount of the posts, field by field, and as a model
// computed from the posts with plain loops, after a random mix of saves,
// duplicate saves, deletes (of present, absent and hidden posts), hides
// and unhides, including deleting and hiding the first and last posts.
func TestCountersMatchRecount(t *testing.T) {
	for _, seed := range []uint64{1} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			ctx := ctxT(t)
			db := openDB(t)
			r := rand.New(rand.NewPCG(seed, 13))
			ev, err := db.StartEvent(ctx, "Café Gophers 🎉", []string{"#go"}, time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]tweet.Tweet{}
			hidden := map[string]bool{}
			posts := worldPosts(r, 160)
			save := func(p tweet.Tweet) {
				if err := db.Save(ctx, ev.Name, p); err != nil {
					t.Fatal(err)
				}
				if _, ok := stored[p.ID]; !ok {
					stored[p.ID] = p
				}
			}
			del := func(id string) {
				if err := db.Delete(ctx, id); err != nil {
					t.Fatal(err)
				}
				delete(stored, id)
				delete(hidden, id)
			}
			hide := func(id string, on bool) {
				f := db.Hide
				if !on {
					f = db.Unhide
				}
				if err := f(ctx, id); err != nil {
					t.Fatal(err)
				}
				if _, ok := stored[id]; ok {
					hidden[id] = on
				}
			}
			for i, p := range posts {
				save(p)
				switch k := r.IntN(10); {
				case k == 0: // the same post again, as a replay brings it
					dup := p
					dup.Text = "edited ✏️"
					save(dup)
				case k == 1:
					del(posts[r.IntN(i+1)].ID)
				case k == 2:
					del("nobody:404")
				case k <= 4:
					hide(posts[r.IntN(i+1)].ID, true)
				case k == 5:
					hide(posts[r.IntN(i+1)].ID, false)
				}
			}
			// The edges: hide the newest visible post, delete the
			// oldest, and delete a hidden one.
			visible := func() []tweet.Tweet {
				var out []tweet.Tweet
				for id, p := range stored {
					if !hidden[id] {
						out = append(out, p)
					}
				}
				slices.SortFunc(out, func(a, b tweet.Tweet) int {
					if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
						return c
					}
					return compareStrings(a.ID, b.ID)
				})
				return out
			}
			v := visible()
			hide(v[len(v)-1].ID, true)
			del(v[0].ID)
			for id, h := range hidden {
				if h {
					del(id)
					break
				}
			}
			// Another event's posts count in neither.
			for _, p := range worldPosts(rand.New(rand.NewPCG(99, 99)), 20) {
				p.ID = "other-" + p.ID
				if err := db.Save(ctx, "other", p); err != nil {
					t.Fatal(err)
				}
			}

			got, err := db.Stats(ctx, ev.Name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Recount(ctx, ev.Name); err != nil {
				t.Fatal(err)
			}
			recounted, err := db.Stats(ctx, ev.Name)
			if err != nil {
				t.Fatal(err)
			}
			t.Run("counters against recount", func(t *testing.T) {
				tweettest.CompareStats(t, got, recounted)
				if got.Hidden != recounted.Hidden {
					t.Errorf("Hidden = %d, recount %d", got.Hidden, recounted.Hidden)
				}
			})
			want := tweettest.WantStats(ev, visible())
			var nHidden int64
			for _, h := range hidden {
				if h {
					nHidden++
				}
			}
			t.Run("counters against the posts", func(t *testing.T) {
				tweettest.CompareStats(t, got, want)
				if got.Hidden != nHidden || nHidden == 0 {
					t.Errorf("Hidden = %d, want %d (and more than none)", got.Hidden, nHidden)
				}
			})
			t.Run("recount against the posts", func(t *testing.T) {
				tweettest.CompareStats(t, recounted, want)
				if recounted.Hidden != nHidden {
					t.Errorf("Hidden = %d, want %d", recounted.Hidden, nHidden)
				}
			})
		})
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// A store written before there were counters, or whose counters were
// lost, gets them built by one recount on its first Stats, even when a
// Save has since begun new ones from nothing; Stats never shows the
// partial counts.
func TestStatsBuildsMissingCounters(t *testing.T) {
	ctx := ctxT(t)
	db := openDB(t)
	ev, err := db.StartEvent(ctx, "東京 GoConf", nil, tweettest.T0)
	if err != nil {
		t.Fatal(err)
	}
	posts := tweettest.Posts(60, 3)
	for _, p := range posts[:59] {
		if err := db.Save(ctx, ev.Name, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.DropCounters(db); err != nil {
		t.Fatal(err)
	}
	if err := db.Save(ctx, ev.Name, posts[59]); err != nil {
		t.Fatal(err)
	}
	got, err := db.Stats(ctx, ev.Name)
	if err != nil {
		t.Fatal(err)
	}
	tweettest.CompareStats(t, got, tweettest.WantStats(ev, posts))
	// Built, they are kept: a delete now counts down from the full
	// figures.
	if err := db.Delete(ctx, posts[0].ID); err != nil {
		t.Fatal(err)
	}
	got, err = db.Stats(ctx, ev.Name)
	if err != nil {
		t.Fatal(err)
	}
	tweettest.CompareStats(t, got, tweettest.WantStats(ev, posts[1:]))
}

// A counter update that fails does not fail the post's Save (the post is
// stored, and a retry would be a duplicate that counts nothing): it is
// counted for /metrics and logged once, and a recount repairs the
// statistics.
func TestFailedCounterUpdateKeepsThePost(t *testing.T) {
	ctx := ctxT(t)
	var logged syncBuffer
	db := openWithLog(t, &logged)
	ev, err := db.StartEvent(ctx, "שלום 👋", nil, tweettest.T0)
	if err != nil {
		t.Fatal(err)
	}
	posts := tweettest.Posts(6, 5)
	if err := db.Save(ctx, ev.Name, posts[0]); err != nil {
		t.Fatal(err)
	}
	if err := store.BreakCounters(db, ev.Name); err != nil {
		t.Fatal(err)
	}
	for _, p := range posts[1:] {
		if err := db.Save(ctx, ev.Name, p); err != nil {
			t.Fatalf("Save with failing counters: %v; want the post stored and nil", err)
		}
	}
	if n, err := db.Count(ctx, ev.Name); err != nil || n != 6 {
		t.Errorf("Count = %d, %v; want all 6 posts stored", n, err)
	}
	// Recount writes the pending counts first, which fail.
	if _, err := db.Recount(ctx, ev.Name); err != nil {
		t.Fatal(err)
	}
	if got := db.CounterFailures(); got != 5 {
		t.Errorf("CounterFailures = %d, want 5", got)
	}
	if n := strings.Count(logged.String(), "tweetwire stats --recount"); n != 1 {
		t.Errorf("the recount advice was logged %d times, want once:\n%s", n, logged.String())
	}
	got, err := db.Stats(ctx, ev.Name)
	if err != nil {
		t.Fatal(err)
	}
	tweettest.CompareStats(t, got, tweettest.WantStats(ev, posts))
}

// openWithLog opens a fresh database on the shared server whose store logs
// to w.
func openWithLog(t *testing.T, w io.Writer) *store.DB {
	t.Helper()
	ctx := ctxT(t)
	db, err := store.Open(ctx, store.Config{URI: shared.URI(), Database: fmt.Sprintf("t%d_logged", dbSeq.Add(1)), Logger: slog.New(slog.NewTextHandler(w, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return db
}

// syncBuffer is a bytes.Buffer for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// When the newest or oldest post goes (deleted or hidden), the next one
// takes its place, and a post saved meanwhile on the other side of the
// event does not jump ahead of it.
func TestFirstAndLastAfterTheEdgeGoes(t *testing.T) {
	ctx := ctxT(t)
	db := openDB(t)
	ev, err := db.StartEvent(ctx, "GopherCon 🇪🇺", nil, tweettest.T0)
	if err != nil {
		t.Fatal(err)
	}
	at := func(min int) time.Time { return tweettest.T0.Add(time.Duration(min) * time.Minute) }
	post := func(id string, min int) tweet.Tweet {
		return tweet.Tweet{ID: id, Source: "mastodon", User: "zoë", Text: "«" + id + "» 🎉", CreatedAt: at(min), Lang: "fr"}
	}
	edges := func(step, first, last string) {
		t.Helper()
		s, err := db.Stats(ctx, ev.Name)
		if err != nil {
			t.Fatal(err)
		}
		if s.First == nil || s.First.ID != first || s.Last == nil || s.Last.ID != last {
			t.Errorf("%s: First %v, Last %v; want %s and %s", step, s.First, s.Last, first, last)
		}
	}
	for _, p := range []tweet.Tweet{post("m:b", 20), post("m:c", 30), post("m:a", 10), post("m:d", 40)} {
		if err := db.Save(ctx, ev.Name, p); err != nil {
			t.Fatal(err)
		}
	}
	edges("saved", "m:a", "m:d")
	// The newest goes, then an older post comes: m:c is the newest.
	if err := db.Delete(ctx, "m:d"); err != nil {
		t.Fatal(err)
	}
	if err := db.Save(ctx, ev.Name, post("m:x", 15)); err != nil {
		t.Fatal(err)
	}
	edges("newest deleted, an older post saved", "m:a", "m:c")
	// The oldest is hidden, then a newer post comes: m:x is the oldest.
	if err := db.Hide(ctx, "m:a"); err != nil {
		t.Fatal(err)
	}
	if err := db.Save(ctx, ev.Name, post("m:y", 35)); err != nil {
		t.Fatal(err)
	}
	edges("oldest hidden, a newer post saved", "m:x", "m:y")
	if err := db.Unhide(ctx, "m:a"); err != nil {
		t.Fatal(err)
	}
	edges("oldest shown again", "m:a", "m:y")
}

// The counts that Save batches in memory are written when the store
// closes: another process (here a second store on the same database)
// sees every post.
func TestCloseWritesPendingCounts(t *testing.T) {
	ctx := ctxT(t)
	name := fmt.Sprintf("t%d_close", dbSeq.Add(1))
	first, err := store.Open(ctx, store.Config{URI: shared.URI(), Database: name, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := first.StartEvent(ctx, "Ünïcode ☃", nil, tweettest.T0)
	if err != nil {
		t.Fatal(err)
	}
	posts := tweettest.Posts(30, 11)
	for _, p := range posts {
		if err := first.Save(ctx, ev.Name, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	second := openAt(t, shared, name, true)
	got, err := second.Stats(ctx, ev.Name)
	if err != nil {
		t.Fatal(err)
	}
	tweettest.CompareStats(t, got, tweettest.WantStats(ev, posts))
}
