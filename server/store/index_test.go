package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
)

// openPair opens one fresh database twice: indexed as the sole writer,
// which the test writes through, and plain, whose scans are the reference.
func openPair(t *testing.T) (indexed, scanned *store.DB) {
	t.Helper()
	name := fmt.Sprintf("t%d_index", dbSeq.Add(1))
	open := func(sole bool) *store.DB {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := store.Open(ctx, store.Config{URI: shared.URI(), Database: name, SoleWriter: sole, Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { _ = db.Close(context.Background()) })
		return db
	}
	return open(true), open(false)
}

// indexWorkload is a random mix of posts for the index tests: many share
// a millisecond, so that ids decide the order.
func indexWorkload(n int, seed uint64) []tweet.Tweet {
	r := rand.New(rand.NewPCG(seed, 1))
	posts := tweettest.Posts(n, seed)
	for i := range posts {
		if i > 0 && r.IntN(4) == 0 {
			posts[i].CreatedAt = posts[r.IntN(i)].CreatedAt
		}
	}
	return posts
}

func TestIndexMatchesScan(t *testing.T) {
	tests := []struct {
		name string
		seed uint64
		// window is how many newest posts the index keeps in full; 0
		// for the default, more than the test stores.
		window int
	}{
		{name: "posts in memory", seed: 1},
		{name: "posts in memory, another mix", seed: 2},
		// Most pages then read posts from the database: by _id for a
		// page of 9, with a scan for a page of 1,000.
		{name: "window of 5 posts", seed: 3, window: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			seed := tt.seed
			idx, scan := openPair(t)
			if tt.window > 0 {
				store.SetIndexWindow(idx, tt.window)
			}
			r := rand.New(rand.NewPCG(seed, 2))
			if _, err := idx.StartEvent(ctx, "conf", []string{"go"}, t0); err != nil {
				t.Fatal(err)
			}
			posts := indexWorkload(120, seed)
			other := tweettest.Posts(20, seed+100)
			for i := range other {
				other[i].ID = "other-" + other[i].ID
			}
			save := func(event string, p tweet.Tweet) {
				if err := idx.Save(ctx, event, p); err != nil {
					t.Errorf("Save(%s): %v", p.ID, err)
				}
			}
			del := func(id string) {
				if err := idx.Delete(ctx, id); err != nil {
					t.Errorf("Delete(%s): %v", id, err)
				}
			}

			// Before any read: nothing indexed yet.
			for _, p := range posts[:40] {
				save("conf", p)
			}
			for _, p := range other {
				save("other", p)
			}
			del(posts[3].ID)

			// The first read builds the index while writers race it:
			// new posts, duplicates, deletes of present and absent
			// posts, and a save and a delete of the same post at once.
			var wg sync.WaitGroup
			var first tweet.Stats
			var firstErr error
			wg.Go(func() { first, firstErr = idx.Stats(ctx, "conf") })
			for w := range 4 {
				wg.Go(func() {
					for i := 40 + w; i < 100; i += 4 {
						save("conf", posts[i])
						save("conf", posts[i-20]) // a duplicate
						if i%3 == 0 {
							del(posts[i-30].ID)
						}
						if i%7 == 0 {
							del("absent-" + posts[i].ID)
						}
					}
				})
			}
			for i := 100; i < 110; i++ {
				wg.Go(func() { save("conf", posts[i]) })
				wg.Go(func() { del(posts[i].ID) })
			}
			// Another reader waits for the same build.
			wg.Go(func() {
				if _, err := idx.Recent(ctx, "conf", 5, ""); err != nil {
					t.Errorf("Recent during the build: %v", err)
				}
			})
			wg.Wait()
			if firstErr != nil {
				t.Fatalf("first Stats: %v", firstErr)
			}
			if first.Event.Name != "conf" {
				t.Errorf("first Stats: event %q", first.Event.Name)
			}
			assertSame(t, idx, scan, "after the racing build")

			// Then a random sequence on the built index.
			for range 120 {
				p := posts[r.IntN(len(posts))]
				switch r.IntN(5) {
				case 0, 1, 2:
					save("conf", p)
				case 3:
					del(p.ID)
				default:
					del("absent-" + p.ID)
				}
			}
			assertSame(t, idx, scan, "after the random sequence")

			// A failed write may have happened or not: the index is
			// built again.
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if err := idx.Save(cancelled, "conf", posts[1]); err == nil {
				t.Error("Save with a cancelled context succeeded")
			}
			if err := idx.Delete(cancelled, posts[2].ID); err == nil {
				t.Error("Delete with a cancelled context succeeded")
			}
			assertSame(t, idx, scan, "after failed writes")

			// Deleting everything leaves an empty event on both sides.
			for _, p := range posts {
				del(p.ID)
			}
			assertSame(t, idx, scan, "after deleting every post")
		})
	}
}

// assertSame checks that Stats, Count and every page of Recent agree
// between the indexed store and the scanning one.
func assertSame(t *testing.T, idx, scan *store.DB, when string) {
	t.Helper()
	ctx := ctxT(t)
	// The other store sees idx's counts once written (counters.go).
	store.Flush(idx)
	want, err := scan.Stats(ctx, "conf")
	if err != nil {
		t.Fatal(err)
	}
	got, err := idx.Stats(ctx, "conf")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: Stats differ", when)
		tweettest.CompareStats(t, got, want)
	}
	nWant, err := scan.Count(ctx, "conf")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := idx.Count(ctx, "conf"); err != nil || n != nWant {
		t.Errorf("%s: Count = %d, %v; want %d", when, n, err, nWant)
	}

	for _, limit := range []int{9, 1000} {
		before, pages := "", 0
		for {
			w, err := scan.Recent(ctx, "conf", limit, before)
			if err != nil {
				t.Fatal(err)
			}
			g, err := idx.Recent(ctx, "conf", limit, before)
			if err != nil {
				t.Fatalf("%s: Recent(%d, %q): %v", when, limit, before, err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: Recent(%d, %q):\n got %v\nwant %v", when, limit, before, idsOf(g), idsOf(w))
			}
			if len(w) < limit {
				break
			}
			before = w[len(w)-1].ID
			pages++
		}
		if pages*limit > int(nWant) {
			t.Fatalf("%s: %d pages of %d for %d posts", when, pages, limit, nWant)
		}
	}

	// A post of another event pages by its time, as the scan does; an
	// unknown id is refused alike.
	w, err := scan.Recent(ctx, "conf", 10, "other-twitter:3")
	if err != nil {
		t.Fatal(err)
	}
	if g, err := idx.Recent(ctx, "conf", 10, "other-twitter:3"); err != nil || !reflect.DeepEqual(g, w) {
		t.Errorf("%s: Recent before another event's post = %v, %v; want %v", when, idsOf(g), err, idsOf(w))
	}
	_, errScan := scan.Recent(ctx, "conf", 10, "nope")
	_, errIdx := idx.Recent(ctx, "conf", 10, "nope")
	if tweet.ErrorCode(errIdx) != tweet.EINVALID || errIdx.Error() != errScan.Error() {
		t.Errorf("%s: Recent before an unknown id: %v; want %v", when, errIdx, errScan)
	}
	if !strings.Contains(errIdx.Error(), "nope") {
		t.Errorf("the error does not name the id: %v", errIdx)
	}
}

// A name nobody started and with no posts is answered but not indexed: a
// client asking for made-up events must not make the server hold an
// index for each. A started event is indexed even while empty.
func TestIndexOnlyForEvents(t *testing.T) {
	db, _ := openPair(t)
	ctx := context.Background()
	got, err := db.Recent(ctx, "no-such-event", 10, "")
	if err != nil || len(got) != 0 {
		t.Fatalf("Recent of an unknown event = %v, %v; want nothing", got, err)
	}
	if store.Indexed(db, "no-such-event") {
		t.Fatal("an unknown event was indexed")
	}
	if _, err := db.StartEvent(ctx, "started", []string{"x"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Recent(ctx, "started", 10, ""); err != nil {
		t.Fatal(err)
	}
	if !store.Indexed(db, "started") {
		t.Fatal("a started event was not indexed")
	}
}
