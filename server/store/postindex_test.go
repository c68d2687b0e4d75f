package store_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
)

// counted is a PostIndex that counts the calls that it answered.
type counted struct {
	store.PostIndex
	pages, counts, failed atomic.Int64
}

func (c *counted) RecentIDs(ctx context.Context, event string, limit int, beforeAt time.Time, beforeID string) ([]string, error) {
	ids, err := c.PostIndex.RecentIDs(ctx, event, limit, beforeAt, beforeID)
	if err != nil {
		c.failed.Add(1)
	} else if beforeID != "" {
		c.pages.Add(1)
	}
	return ids, err
}

func (c *counted) Count(ctx context.Context, event string) (int64, error) {
	n, err := c.PostIndex.Count(ctx, event)
	if err != nil {
		c.failed.Add(1)
	} else {
		c.counts.Add(1)
	}
	return n, err
}

// workload is a mix of posts in which many share a millisecond, so that
// ids decide the order, as on a busy wall.
func workload(n int, seed uint64) []tweet.Tweet {
	r := rand.New(rand.NewPCG(seed, 1))
	posts := tweettest.Posts(n, seed)
	for i := range posts {
		if i > 0 && r.IntN(3) == 0 {
			posts[i].CreatedAt = posts[r.IntN(i)].CreatedAt
		}
	}
	return posts
}

// With the PostIndex, every page, count and id list is what the driver
// alone answers (the reference: the query MongoDB runs), and none of them
// went to the driver: deep pages are index seeks (see embedded's
// TestPostIndexPlans), not scans.
func TestPostIndexMatchesDriver(t *testing.T) {
	ctx := ctxT(t)
	name := freshName(t)
	x := &counted{PostIndex: postIndex(t, shared, name)}
	indexed := openWith(t, store.Config{URI: shared.URI(), Database: name, Index: x, Logger: testLogger(t)})
	driver := openAt(t, shared, name, false)

	const event = "Rencontre Gophers à Montréal 🎉"
	posts := workload(150, 5)
	other := tweettest.Posts(20, 99)
	for i := range other {
		other[i].ID = "other-" + other[i].ID
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(posts); i += 4 {
				if err := indexed.Save(ctx, event, posts[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for _, p := range other {
			if err := indexed.Save(ctx, "東京 Go 会議", p); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	for i := 0; i < len(posts); i += 10 {
		if err := indexed.Delete(ctx, posts[i].ID); err != nil {
			t.Fatal(err)
		}
	}

	want, err := driver.Count(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := indexed.Count(ctx, event); err != nil || n != want || want != 135 {
		t.Errorf("Count = %d, %v; the driver's %d, want 135", n, err, want)
	}
	for _, limit := range []int{1, 9, 1000} {
		before, pages := "", 0
		for {
			w, err := driver.Recent(ctx, event, limit, before)
			if err != nil {
				t.Fatal(err)
			}
			g, err := indexed.Recent(ctx, event, limit, before)
			if err != nil {
				t.Fatalf("Recent(%d, %q): %v", limit, before, err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("Recent(%d, %q):\n got %v\nwant %v", limit, before, idsOf(g), idsOf(w))
			}
			if len(w) < limit {
				break
			}
			before = w[len(w)-1].ID
			pages++
		}
		if pages*limit > int(want) {
			t.Fatalf("%d pages of %d for %d posts", pages, limit, want)
		}
	}
	wIDs, err := driver.IDs(ctx, event, 100)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := indexed.IDs(ctx, event, 100); err != nil || !reflect.DeepEqual(g, wIDs) {
		t.Errorf("IDs = %q, %v; want %q", g, err, wIDs)
	}
	// A post of another event pages by its time; an unknown id is
	// refused alike.
	w, err := driver.Recent(ctx, event, 10, "other-twitter:3")
	if err != nil {
		t.Fatal(err)
	}
	if g, err := indexed.Recent(ctx, event, 10, "other-twitter:3"); err != nil || !reflect.DeepEqual(g, w) {
		t.Errorf("Recent before another event's post = %v, %v; want %v", idsOf(g), err, idsOf(w))
	}
	_, errDriver := driver.Recent(ctx, event, 10, "nope")
	_, errIdx := indexed.Recent(ctx, event, 10, "nope")
	if tweet.ErrorCode(errIdx) != tweet.EINVALID || errIdx.Error() != errDriver.Error() {
		t.Errorf("Recent before an unknown id: %v; want %v", errIdx, errDriver)
	}
	if x.failed.Load() != 0 || x.pages.Load() < 135 || x.counts.Load() != 1 {
		t.Errorf("the index answered %d deep pages and %d counts, failed %d times: some went to the driver",
			x.pages.Load(), x.counts.Load(), x.failed.Load())
	}
}

// records keeps the log records at warn and above.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// A PostIndex that cannot answer (here: one pointed at a database file
// that does not exist) costs speed, never correctness: the store answers
// through the driver, and says so once.
func TestPostIndexFailureFallsBack(t *testing.T) {
	ctx := ctxT(t)
	name := freshName(t)
	logs := &records{}
	broken := openWith(t, store.Config{URI: shared.URI(), Database: name, Index: postIndex(t, shared, name+"_typo"), Logger: slog.New(logs)})
	driver := openAt(t, shared, name, false)
	const event = "مؤتمر Go"
	for _, p := range workload(40, 8) {
		if err := broken.Save(ctx, event, p); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		w, err := driver.Recent(ctx, event, 7, "")
		if err != nil {
			t.Fatal(err)
		}
		if g, err := broken.Recent(ctx, event, 7, ""); err != nil || !reflect.DeepEqual(g, w) {
			t.Errorf("Recent = %v, %v; want %v", idsOf(g), err, idsOf(w))
		}
		if g, err := broken.Recent(ctx, event, 7, w[6].ID); err != nil || len(g) != 7 {
			t.Errorf("Recent(before %s) = %v, %v", w[6].ID, idsOf(g), err)
		}
		if n, err := broken.Count(ctx, event); err != nil || n != 40 {
			t.Errorf("Count = %d, %v; want 40", n, err)
		}
		if ids, err := broken.IDs(ctx, event, 100); err != nil || len(ids) != 40 {
			t.Errorf("IDs: %d, %v; want 40", len(ids), err)
		}
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.msgs) != 1 || !strings.Contains(logs.msgs[0], "post index failed") {
		t.Errorf("logged %q; want one line about the post index", logs.msgs)
	}
}

// deleting is a PostIndex that deletes a post of each page it lists, as a
// moderator or a source's delete would between the ids and the posts.
type deleting struct {
	store.PostIndex
	db   *store.DB
	done bool
}

func (d *deleting) RecentIDs(ctx context.Context, event string, limit int, beforeAt time.Time, beforeID string) ([]string, error) {
	ids, err := d.PostIndex.RecentIDs(ctx, event, limit, beforeAt, beforeID)
	if err == nil && len(ids) > 2 && !d.done {
		d.done = true
		err = d.db.Delete(ctx, ids[1])
	}
	return ids, err
}

// A post deleted while a page is read leaves no gap: the page is still
// full, so that a client pages on, and holds what the store holds.
func TestPageAcrossADelete(t *testing.T) {
	ctx := ctxT(t)
	name := freshName(t)
	x := &deleting{PostIndex: postIndex(t, shared, name)}
	db := openWith(t, store.Config{URI: shared.URI(), Database: name, Index: x, Logger: testLogger(t)})
	driver := openAt(t, shared, name, false)
	x.db = driver
	const event = "Journée Go 🇫🇷"
	for _, p := range workload(30, 11) {
		if err := db.Save(ctx, event, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Recent(ctx, event, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := driver.Recent(ctx, event, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if !x.done || !reflect.DeepEqual(idsOf(got), idsOf(want)) {
		t.Errorf("page across a delete = %v (deleted: %v); want %v", idsOf(got), x.done, idsOf(want))
	}
}
