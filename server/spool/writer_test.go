package spool_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/spool"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// fakeDB is a tweet.Writer whose availability the test controls. The
// store package's outage test does the same against a real database;
// this one pins down the writer's own rules quickly.
type fakeDB struct {
	mu      sync.Mutex
	down    bool
	slow    bool              // block until the context is done
	refuse  map[string]bool   // ids refused as invalid
	applied []string          // "save id" / "delete id", in order
	stored  map[string]string // id -> event
}

func newFakeDB() *fakeDB { return &fakeDB{refuse: map[string]bool{}, stored: map[string]string{}} }

func (f *fakeDB) fail(ctx context.Context, id string) error {
	f.mu.Lock()
	down, slow, refuse := f.down, f.slow, f.refuse[id]
	f.mu.Unlock()
	switch {
	case slow:
		<-ctx.Done()
		return ctx.Err()
	case down:
		return tweet.Errorf(tweet.EUNAVAILABLE, "down")
	case refuse:
		return tweet.Errorf(tweet.EINVALID, "refused %s", id)
	}
	return nil
}

func (f *fakeDB) Save(ctx context.Context, event string, t tweet.Tweet) error {
	if err := f.fail(ctx, t.ID); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.stored[t.ID]; !ok {
		f.stored[t.ID] = event
	}
	f.applied = append(f.applied, "save "+t.ID)
	return nil
}

func (f *fakeDB) Delete(ctx context.Context, id string) error {
	if err := f.fail(ctx, id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.stored, id)
	f.applied = append(f.applied, "delete "+id)
	return nil
}

func (f *fakeDB) set(fn func(f *fakeDB)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeDB) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applied)
}

var quick = spool.WriterConfig{
	Timeout:    100 * time.Millisecond,
	MinBackoff: 10 * time.Millisecond,
	MaxBackoff: 50 * time.Millisecond,
	Logger:     slog.New(slog.DiscardHandler),
}

func newWriter(t *testing.T, db *fakeDB, cfg spool.Config) (*spool.Writer, *spool.Spool) {
	t.Helper()
	q := open(t, t.TempDir(), cfg)
	return spool.NewWriter(db, q, quick), q
}

func run(t *testing.T, w *spool.Writer) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func save(t *testing.T, w *spool.Writer, id string) {
	t.Helper()
	if err := w.Save(context.Background(), "ev", tweet.Tweet{ID: id}); err != nil {
		t.Fatalf("Save(%s): %v", id, err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWriterDirect(t *testing.T) {
	db := newFakeDB()
	w, q := newWriter(t, db, spool.Config{})
	save(t, w, "a")
	if err := w.Delete(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if got := db.log(); !slices.Equal(got, []string{"save a", "delete a"}) {
		t.Fatalf("applied %v", got)
	}
	if q.Len() != 0 || w.Health().State != "ok" {
		t.Fatalf("with the database up something was spooled: %+v", w.Health())
	}
}

func TestWriterOutage(t *testing.T) {
	tests := []struct {
		name string
		brk  func(f *fakeDB)
	}{
		{name: "database down", brk: func(f *fakeDB) { f.down = true }},
		{name: "database slow", brk: func(f *fakeDB) { f.slow = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newFakeDB()
			w, _ := newWriter(t, db, spool.Config{})
			save(t, w, "1")
			db.set(tt.brk)
			start := time.Now()
			save(t, w, "2")
			if err := w.Delete(context.Background(), "1"); err != nil {
				t.Fatal(err)
			}
			save(t, w, "3")
			if d := time.Since(start); d > time.Second {
				t.Errorf("three writes during an outage took %v", d)
			}
			h := w.Health()
			if h.State != "spooling" || h.Spooled != 3 || h.LastError == "" {
				t.Fatalf("during the outage: %+v", h)
			}
			run(t, w)
			// While it is down the drainer retries without losing
			// anything or getting ahead.
			time.Sleep(100 * time.Millisecond)
			if got := w.Health().Spooled; got != 3 {
				t.Fatalf("spool holds %d during the outage, want 3", got)
			}
			db.set(func(f *fakeDB) { f.down, f.slow = false, false })
			save(t, w, "4") // queues behind the spool
			eventually(t, "the spool to drain", func() bool { h := w.Health(); return h.State == "ok" && h.Spooled == 0 })
			want := []string{"save 1", "save 2", "delete 1", "save 3", "save 4"}
			if got := db.log(); !slices.Equal(got, want) {
				t.Fatalf("applied %v, want %v", got, want)
			}
			save(t, w, "5") // direct again
			if got := db.log(); got[len(got)-1] != "save 5" {
				t.Fatalf("after draining, a save is not direct: %v", got)
			}
		})
	}
}

func TestWriterCancelledContextSpools(t *testing.T) {
	db := newFakeDB()
	w, q := newWriter(t, db, spool.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Save(ctx, "ev", tweet.Tweet{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 1 {
		t.Fatalf("a save during shutdown was not spooled: Len %d", q.Len())
	}
}

func TestWriterInvalid(t *testing.T) {
	t.Run("refused directly: error, not spooled", func(t *testing.T) {
		db := newFakeDB()
		db.refuse["bad"] = true
		w, q := newWriter(t, db, spool.Config{})
		err := w.Save(context.Background(), "ev", tweet.Tweet{ID: "bad"})
		if tweet.ErrorCode(err) != tweet.EINVALID {
			t.Fatalf("Save: %v, want EINVALID", err)
		}
		if q.Len() != 0 || w.Health().State != "ok" || w.Health().Lost != 1 {
			t.Fatalf("an invalid post changed the writer: %+v", w.Health())
		}
	})
	t.Run("refused while draining: dropped, the rest goes on", func(t *testing.T) {
		db := newFakeDB()
		w, _ := newWriter(t, db, spool.Config{})
		db.set(func(f *fakeDB) { f.down = true })
		for _, id := range []string{"a", "bad", "b"} {
			save(t, w, id)
		}
		db.set(func(f *fakeDB) { f.down = false; f.refuse["bad"] = true })
		run(t, w)
		eventually(t, "the spool to drain", func() bool { return w.Health().Spooled == 0 })
		if got := db.log(); !slices.Equal(got, []string{"save a", "save b"}) {
			t.Fatalf("applied %v", got)
		}
		if w.Health().Lost != 1 {
			t.Errorf("Lost = %d, want 1", w.Health().Lost)
		}
	})
}

func TestWriterSpoolFull(t *testing.T) {
	db := newFakeDB()
	w, _ := newWriter(t, db, spool.Config{MaxRecords: 2})
	db.set(func(f *fakeDB) { f.down = true })
	save(t, w, "a")
	save(t, w, "b")
	err := w.Save(context.Background(), "ev", tweet.Tweet{ID: "c"})
	if tweet.ErrorCode(err) != tweet.EUNAVAILABLE || !strings.Contains(err.Error(), "spool is full") {
		t.Fatalf("Save into a full spool: %v", err)
	}
	if h := w.Health(); h.State != "full" || h.Lost != 1 {
		t.Fatalf("health: %+v", h)
	}
	db.set(func(f *fakeDB) { f.down = false })
	run(t, w)
	eventually(t, "recovery", func() bool { return w.Health().State == "ok" })
	if got := db.log(); !slices.Equal(got, []string{"save a", "save b"}) {
		t.Fatalf("applied %v", got)
	}
}

func TestWriterConcurrent(t *testing.T) {
	db := newFakeDB()
	w, _ := newWriter(t, db, spool.Config{})
	run(t, w)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if i == 20 && g == 0 {
					db.set(func(f *fakeDB) { f.down = true })
				}
				if i == 35 && g == 0 {
					db.set(func(f *fakeDB) { f.down = false })
				}
				if err := w.Save(context.Background(), "ev", tweet.Tweet{ID: fmt.Sprintf("%d-%d", g, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	eventually(t, "the spool to drain", func() bool { h := w.Health(); return h.State == "ok" && h.Spooled == 0 })
	db.mu.Lock()
	defer db.mu.Unlock()
	if len(db.stored) != 400 {
		t.Fatalf("%d posts stored, want 400", len(db.stored))
	}
	// Each goroutine's own posts arrive in its order.
	last := map[string]int{}
	for _, op := range db.applied {
		var g, i int
		fmt.Sscanf(strings.TrimPrefix(op, "save "), "%d-%d", &g, &i)
		if prev, ok := last[fmt.Sprint(g)]; ok && i <= prev {
			t.Fatalf("goroutine %d's post %d applied after %d", g, i, prev)
		}
		last[fmt.Sprint(g)] = i
	}
}

func TestWriterHealthDoesNotWaitForTheDatabase(t *testing.T) {
	db := newFakeDB()
	db.set(func(f *fakeDB) { f.slow = true })
	cfg := quick
	cfg.Timeout = time.Second
	w := spool.NewWriter(db, open(t, t.TempDir(), spool.Config{}), cfg)
	var wg sync.WaitGroup
	wg.Go(func() { save(t, w, "a") }) // blocks for the timeout
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	_ = w.Health()
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("Health took %v while a write waited on the database", d)
	}
	wg.Wait()
}

// A spool whose disk refuses to write (full, gone, read-only) is "full" at
// once, not "spooling": the posts are lost, counted, and said once in the
// log; once it writes again that is said with how many were lost.
func TestWriterSpoolThatCannotWrite(t *testing.T) {
	db := newFakeDB()
	dir := t.TempDir() + "/spool"
	// Every record in a segment of its own, so each append creates a file.
	q := open(t, dir, spool.Config{SegmentBytes: 1})
	var logs strings.Builder
	var logMu sync.Mutex
	cfg := quick
	cfg.Logger = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	w := spool.NewWriter(db, q, cfg)
	db.set(func(f *fakeDB) { f.down = true })

	// The disk goes: no segment can be created any more.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		err := w.Save(context.Background(), "ev", tweet.Tweet{ID: fmt.Sprintf("lost-%d", i), Text: "Grüße 🎉 مرحبا"})
		if tweet.ErrorCode(err) != tweet.EUNAVAILABLE || !strings.Contains(err.Error(), "cannot write") {
			t.Fatalf("Save %d onto a dead disk: %v", i, err)
		}
	}
	if h := w.Health(); h.State != "full" || h.Lost != 50 || !strings.Contains(h.LastError, "spool") {
		t.Fatalf("health on a dead disk: %+v, want full with 50 lost", h)
	}
	logMu.Lock()
	said := strings.Count(logs.String(), "spool cannot write")
	logMu.Unlock()
	if said != 1 {
		t.Errorf("the log says the spool cannot write %d times, want once:\n%s", said, logs.String())
	}

	// The disk is back: the next post is spooled, and the log says how
	// many were lost meanwhile.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	save(t, w, "ok-after")
	if h := w.Health(); h.State != "spooling" || h.Lost != 50 {
		t.Fatalf("health once the disk writes again: %+v", h)
	}
	logMu.Lock()
	recovered := strings.Contains(logs.String(), "spool writes again") && strings.Contains(logs.String(), "lost_while_full=50")
	logMu.Unlock()
	if !recovered {
		t.Errorf("the log does not say the spool recovered and what it lost:\n%s", logs.String())
	}
	db.set(func(f *fakeDB) { f.down = false })
	run(t, w)
	eventually(t, "the spool to drain", func() bool { return w.Health().State == "ok" })
	if got := db.log(); !slices.Contains(got, "save ok-after") {
		t.Errorf("the post spooled after the recovery was not stored: %v", got)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
