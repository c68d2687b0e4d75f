package store_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/spool"
	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/store/embedded"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// recorder passes writes to the store and notes each one that succeeded,
// in the order they did.
type recorder struct {
	tweet.Writer
	mu  sync.Mutex
	ops []string
}

func (r *recorder) Save(ctx context.Context, event string, t tweet.Tweet) error {
	err := r.Writer.Save(ctx, event, t)
	if err == nil {
		r.note("save " + t.ID)
	}
	return err
}

func (r *recorder) Delete(ctx context.Context, id string) error {
	err := r.Writer.Delete(ctx, id)
	if err == nil {
		r.note("delete " + id)
	}
	return err
}

func (r *recorder) note(op string) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

func (r *recorder) done() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// op is one step of the stream: a save, or the delete of an earlier post.
type op struct {
	del bool
	p   tweet.Tweet
}

func (o op) String() string {
	if o.del {
		return "delete " + o.p.ID
	}
	return "save " + o.p.ID
}

// stream returns n operations from index from: mostly saves, with every
// seventh deleting the post saved three steps before, so that applying
// them out of order would leave a deleted post behind.
func stream(from, n int) []op {
	var out []op
	for i := from; i < from+n; i++ {
		p := post(fmt.Sprintf("demo:%04d", i), t0.Add(time.Duration(i)*time.Second))
		out = append(out, op{p: p})
		if i%7 == 6 {
			out = append(out, op{del: true, p: post(fmt.Sprintf("demo:%04d", i-3), time.Time{})})
		}
	}
	return out
}

// expected returns the ids that must be stored after ops, newest first.
func expected(ops []op) []string {
	var ids []string
	for _, o := range ops {
		if o.del {
			ids = slices.DeleteFunc(ids, func(id string) bool { return id == o.p.ID })
		} else if !slices.Contains(ids, o.p.ID) {
			ids = append(ids, o.p.ID)
		}
	}
	slices.Reverse(ids) // created in id order
	return ids
}

func apply(t *testing.T, w *spool.Writer, ops []op, maxWait time.Duration) {
	t.Helper()
	ctx := context.Background()
	for _, o := range ops {
		start := time.Now()
		var err error
		if o.del {
			err = w.Delete(ctx, o.p.ID)
		} else {
			err = w.Save(ctx, "conf", o.p)
		}
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		if d := time.Since(start); d > maxWait {
			t.Errorf("%s took %v; ingestion must not wait for the database longer than %v", o, d, maxWait)
		}
	}
}

func waitDrained(t *testing.T, w *spool.Writer) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		h := w.Health()
		if h.State == "ok" && h.Spooled == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("spool not drained: %+v", h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outageRig is a store on an embedded FerretDB that can be stopped and
// started again on the same directory and port.
type outageRig struct {
	t    *testing.T
	dir  string
	addr string
	srv  *embedded.Server
	db   *store.DB
}

func newOutageRig(t *testing.T) *outageRig {
	r := &outageRig{t: t, dir: filepath.Join(t.TempDir(), "db")}
	r.start()
	u, err := url.Parse(r.srv.URI())
	if err != nil {
		t.Fatal(err)
	}
	r.addr = u.Host
	ctx := ctxT(t)
	db, err := store.Open(ctx, store.Config{URI: r.srv.URI(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.db = db
	t.Cleanup(func() {
		_ = r.db.Close(context.Background())
		r.stop()
	})
	return r
}

func (r *outageRig) start() {
	r.t.Helper()
	var err error
	// The port was just freed: retry briefly in case the kernel is slow
	// to let go of it.
	for i := 0; ; i++ {
		r.srv, err = embedded.Start(embedded.Config{Dir: r.dir, Addr: r.addr})
		if err == nil || i == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("start the database: %v", err)
	}
}

func (r *outageRig) stop() {
	if r.srv != nil {
		_ = r.srv.Close()
		r.srv = nil
	}
}

func TestOutageLosesNothing(t *testing.T) {
	rig := newOutageRig(t)
	rec := &recorder{Writer: rig.db}
	q, err := spool.Open(filepath.Join(t.TempDir(), "spool"), spool.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	w := spool.NewWriter(rec, q, spool.WriterConfig{Timeout: 300 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	running.Go(func() { w.Run(ctx) })
	defer func() { cancel(); running.Wait() }()

	before, during, after := stream(0, 60), stream(60, 60), stream(120, 60)

	apply(t, w, before, 5*time.Second)
	if h := w.Health(); h.State != "ok" || h.Spooled != 0 {
		t.Fatalf("with the database up: %+v, want ok and nothing spooled", h)
	}

	rig.stop()
	// The first write waits for the timeout; after that the writer
	// knows and spools at once.
	apply(t, w, during, 2*time.Second)
	h := w.Health()
	if h.State != "spooling" || h.Spooled == 0 || h.LastError == "" {
		t.Fatalf("with the database down: %+v, want spooling with a depth and a reason", h)
	}
	t.Logf("spooled while down: %d records, %d bytes", h.Spooled, h.SpoolBytes)

	rig.start()
	apply(t, w, after, 2*time.Second) // while the spool drains
	waitDrained(t, w)

	all := slices.Concat(before, during, after)
	var want []string
	for _, o := range all {
		want = append(want, o.String())
	}
	if got := rec.done(); !slices.Equal(got, want) {
		t.Errorf("operations reached the database in this order:\n %v\nwant\n %v", got, want)
	}
	stored, err := rig.db.Recent(ctxT(t), "", 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := idsOf(stored), expected(all); !slices.Equal(got, want) {
		t.Errorf("stored\n %v\nwant\n %v", got, want)
	}
	if n, _ := rig.db.Count(ctxT(t), ""); n != int64(len(expected(all))) {
		t.Errorf("%d documents stored, want %d", n, len(expected(all)))
	}
}

func TestRestartDrainsTheSpool(t *testing.T) {
	rig := newOutageRig(t)
	spoolDir := filepath.Join(t.TempDir(), "spool")
	cfg := spool.WriterConfig{Timeout: 300 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}

	// First life: the database goes down and the process stops with
	// posts still spooled.
	q, err := spool.Open(spoolDir, spool.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := spool.NewWriter(rig.db, q, cfg)
	first := stream(0, 20)
	apply(t, w, first, 5*time.Second)
	rig.stop()
	second := stream(20, 40)
	apply(t, w, second, 2*time.Second)
	spooled := w.Health().Spooled
	if spooled == 0 {
		t.Fatal("nothing spooled while the database was down")
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	// Second life: the database is back; a new writer finds the spool.
	rig.start()
	q, err = spool.Open(spoolDir, spool.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if q.Len() != spooled {
		t.Fatalf("reopened spool holds %d records, want %d", q.Len(), spooled)
	}
	rec := &recorder{Writer: rig.db}
	w = spool.NewWriter(rec, q, cfg)
	if h := w.Health(); h.State != "spooling" {
		t.Errorf("a writer on a non-empty spool reports %q, want spooling", h.State)
	}
	// New posts queue behind the spooled ones until they are written.
	third := stream(60, 10)
	apply(t, w, third, 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for w.Health().Spooled > 0 {
		if err := w.Drain(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("drain: %v", err)
			}
			time.Sleep(100 * time.Millisecond) // the driver is still reconnecting
		}
	}
	if h := w.Health(); h.State != "ok" || h.Spooled != 0 {
		t.Fatalf("after draining: %+v", h)
	}
	var want []string
	for _, o := range slices.Concat(second, third) {
		want = append(want, o.String())
	}
	if got := rec.done(); !slices.Equal(got, want) {
		t.Errorf("drained in this order:\n %v\nwant\n %v", got, want)
	}
	all := slices.Concat(first, second, third)
	stored, err := rig.db.Recent(ctxT(t), "", 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := idsOf(stored), expected(all); !slices.Equal(got, want) {
		t.Errorf("stored\n %v\nwant\n %v", got, want)
	}
}
