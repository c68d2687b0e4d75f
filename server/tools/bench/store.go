package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tweetwire/tweetwire/server/app"
	"github.com/tweetwire/tweetwire/server/spool"
	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/store/embedded"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// storeConfig is the store benchmark's command line.
type storeConfig struct {
	sizes      []int
	writers    int
	calls      int
	statsCalls int
	dupSample  int
	maxTime    time.Duration
	cpuprofile string
}

// phaseBudget bounds the repeated calls of one latency measurement: past
// it, the calls made so far are reported (at least one is always made).
const phaseBudget = 2 * time.Minute

const (
	eventName = "gophercon-bench"
	pageSize  = 50
)

// eventStart is when the benchmark event begins; posts spread over
// eventSpan after it.
var (
	eventStart = time.Date(2025, 6, 12, 8, 0, 0, 0, time.UTC)
	eventSpan  = 4 * time.Hour
)

func runStore(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("bench store", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(stderr, "usage: bench store [flags]\n\n"+
			"Inserts realistic posts into a fresh embedded store (FerretDB + SQLite) for\n"+
			"each size, then times Recent, paging, Stats and duplicate saves.\n\nflags:\n")
		fset.PrintDefaults()
	}
	sizes := fset.String("sizes", "10000,100000", "post counts to measure, comma-separated")
	quick := fset.Bool("quick", false, "smoke test: 1,000 posts and at most 2 minutes, unless --sizes or --max-minutes say otherwise")
	maxMinutes := fset.Float64("max-minutes", 30, "stop after this long and report what was measured")
	cfg := storeConfig{}
	fset.IntVar(&cfg.writers, "writers", 8, "concurrent writers for the concurrent insert")
	fset.IntVar(&cfg.calls, "calls", 20, "Recent calls per measurement")
	fset.IntVar(&cfg.statsCalls, "stats-calls", 5, "Stats calls per size (fewer when they take over 2 minutes in all)")
	fset.IntVar(&cfg.dupSample, "dup-sample", 1000, "posts saved a second time to time the duplicate path")
	fset.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write a CPU profile of each measurement into this `directory`")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "bench store: unexpected arguments %q\n", fset.Args())
		fset.Usage()
		return 2
	}
	given := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *quick && !given["sizes"] {
		*sizes = "1000"
	}
	if *quick && !given["max-minutes"] {
		*maxMinutes = 2
	}
	var err error
	if cfg.sizes, err = parseSizes(*sizes); err != nil {
		fmt.Fprintf(stderr, "bench store: %v\n", err)
		return 2
	}
	if cfg.writers < 1 || cfg.calls < 1 || cfg.statsCalls < 1 || cfg.dupSample < 1 || *maxMinutes <= 0 {
		fmt.Fprintln(stderr, "bench store: --writers, --calls, --stats-calls, --dup-sample and --max-minutes must be positive")
		return 2
	}
	cfg.maxTime = time.Duration(*maxMinutes * float64(time.Minute))
	if cfg.cpuprofile != "" {
		if err := os.MkdirAll(cfg.cpuprofile, 0o755); err != nil {
			fmt.Fprintf(stderr, "bench store: %v\n", err)
			return 2
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.maxTime)
	defer cancel()

	begin := time.Now()
	b := &storeBench{cfg: cfg, log: stderr, load: loadAvg()}
	var failed error
	for _, n := range cfg.sizes {
		if err := b.size(ctx, n); err != nil {
			if ctx.Err() == nil {
				failed = fmt.Errorf("%s posts: %w", commas(int64(n)), err)
			}
			break
		}
	}
	b.report(stdout, begin)
	if failed != nil {
		fmt.Fprintf(stderr, "bench store: %v\n", failed)
		return 1
	}
	return 0
}

// storeBench runs the store measurements and collects their rows.
type storeBench struct {
	cfg  storeConfig
	log  io.Writer
	load string // the load average at the start
	rows []row
	// closers close the PostIndexes of a size, before its server.
	closers []func() error
}

// size measures one data set of n posts on a fresh embedded store, then
// the start-up of a server on it, and removes it.
func (b *storeBench) size(ctx context.Context, n int) error {
	dir, err := os.MkdirTemp("", "tweetwire-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := b.measure(ctx, n, dir); err != nil {
		return err
	}
	return b.phase(ctx, n, "server start-up", "startup", func() (row, error) {
		return startup(ctx, dir)
	})
}

// measure inserts n posts into fresh databases of an embedded store in
// dir and times the store's operations on them.
func (b *storeBench) measure(ctx context.Context, n int, dir string) error {
	dbDir := filepath.Join(dir, "db")
	srv, err := embedded.Start(embedded.Config{Dir: dbDir, Logger: slog.New(slog.NewTextHandler(b.log, nil))})
	if err != nil {
		return err
	}
	// FerretDB waits for its clients to hang up: every database opened
	// below is closed before this runs.
	defer srv.Close()
	defer func() {
		for _, c := range b.closers {
			_ = c()
		}
		b.closers = nil
	}()
	posts := corpus{N: n, Seed: 1, Start: eventStart, Span: eventSpan}.posts()

	// Each insert goes into a database of its own, so that each starts
	// empty; the sequential one is then queried.
	// The sequential insert goes into the database the server uses, so
	// that the start-up measured afterwards loads it.
	db, err := b.open(ctx, srv, store.DefaultDatabase)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	err = b.phase(ctx, n, "insert, sequential", "insert-seq", func() (row, error) {
		return saveAll(ctx, db, posts, 1)
	})
	if err != nil {
		return err
	}
	err = b.phase(ctx, n, "data dir after insert", "", func() (row, error) {
		total, wal, err := dirSize(dbDir)
		return row{Note: fmt.Sprintf("%s, of which WAL %s; %s bytes/post without the WAL", mib(total), mib(wal), commas((total-wal)/int64(n)))}, err
	})
	if err != nil {
		return err
	}
	err = b.phase(ctx, n, "Count", "count", func() (row, error) {
		return repeat(ctx, b.cfg.calls, func() (string, error) {
			_, err := db.Count(ctx, eventName)
			return "from the PostIndex (SQLite)", err
		})
	})
	if err != nil {
		return err
	}
	err = b.phase(ctx, n, fmt.Sprintf("Recent(%d)", pageSize), "recent", func() (row, error) {
		return repeat(ctx, b.cfg.calls, func() (string, error) {
			page, err := db.Recent(ctx, eventName, pageSize, "")
			if err == nil && len(page) != min(pageSize, n) {
				err = fmt.Errorf("the store's Recent returned %d posts, want %d", len(page), min(pageSize, n))
			}
			return "", err
		})
	})
	if err != nil {
		return err
	}
	err = b.phase(ctx, n, fmt.Sprintf("Recent(%d, before=)", pageSize), "paging", func() (row, error) {
		// Paging starts from the last post of page 1, as a client
		// scrolling down does, and starts over at the end.
		first, err := db.Recent(ctx, eventName, pageSize, "")
		if err != nil || len(first) == 0 {
			return row{}, cmp.Or(err, errors.New("no posts to page through"))
		}
		before := first[len(first)-1].ID
		r, err := repeat(ctx, b.cfg.calls, func() (string, error) {
			page, err := db.Recent(ctx, eventName, pageSize, before)
			if err != nil {
				return "", err
			}
			before = first[len(first)-1].ID
			if len(page) == pageSize {
				before = page[len(page)-1].ID
			}
			return "", nil
		})
		r.Note = joinNote("pages 2, 3...: before= the last post of the page above", r.Note)
		return r, err
	})
	if err != nil {
		return err
	}
	err = b.phase(ctx, n, fmt.Sprintf("Recent(%d, before=) deep", pageSize), "deep", func() (row, error) {
		// Pages far below the newest posts, where a wall's archive
		// view or a crawler goes: from posts spread over the oldest
		// nine tenths of the event.
		ids, err := db.IDs(ctx, eventName, n)
		if err != nil || len(ids) == 0 {
			return row{}, cmp.Or(err, errors.New("no posts to page through"))
		}
		i := 0
		r, err := repeat(ctx, b.cfg.calls, func() (string, error) {
			before := ids[len(ids)/10+i*(len(ids)*9/10)/b.cfg.calls]
			i++
			page, err := db.Recent(ctx, eventName, pageSize, before)
			if err == nil && len(page) == 0 && len(ids) > pageSize {
				err = fmt.Errorf("the store's Recent returned no posts before %s", before)
			}
			return "", err
		})
		r.Note = joinNote("before= posts from 10% to 100% down the event", r.Note)
		return r, err
	})
	if err != nil {
		return err
	}
	err = b.phase(ctx, n, "Stats", "stats", func() (row, error) {
		return repeat(ctx, b.cfg.statsCalls, func() (string, error) {
			s, err := db.Stats(ctx, eventName)
			if err == nil && s.Total != int64(n) {
				err = fmt.Errorf("the store's Stats counted %d posts, want %d", s.Total, n)
			}
			return fmt.Sprintf("%s authors, %d-minute timeline", commas(s.Authors), len(s.Timeline)), err
		})
	})
	if err != nil {
		return err
	}
	dups := posts[:min(b.cfg.dupSample, n)]
	err = b.phase(ctx, n, "duplicate Save", "dup", func() (row, error) {
		r, err := saveAll(ctx, db, dups, 1)
		r.Note = "already stored: the idempotent path"
		if err == nil {
			err = b.checkCount(ctx, db, n)
		}
		return r, err
	})
	if err != nil {
		return err
	}

	par, err := b.open(ctx, srv, "concurrent")
	if err != nil {
		return err
	}
	defer par.Close(context.WithoutCancel(ctx))
	err = b.phase(ctx, n, fmt.Sprintf("insert, %d writers", b.cfg.writers), "insert-par", func() (row, error) {
		r, err := saveAll(ctx, par, posts, b.cfg.writers)
		if err == nil {
			err = b.checkCount(ctx, par, n)
		}
		return r, err
	})
	if err != nil {
		return err
	}

	spooled, err := b.open(ctx, srv, "spooled")
	if err != nil {
		return err
	}
	defer spooled.Close(context.WithoutCancel(ctx))
	return b.phase(ctx, n, "insert, spool.Writer", "insert-spool", func() (row, error) {
		r, err := saveSpooled(ctx, spooled, filepath.Join(dir, "bench-spool"), posts)
		if err == nil {
			err = b.checkCount(ctx, spooled, n)
		}
		return r, err
	})
}

// open opens a store on a fresh database of the embedded server, with its
// PostIndex as the server opens it, and starts the benchmark event in it.
// The first Count prepares the index while the database is empty, as the
// server's start-up does: the inserts then pay for keeping it current.
func (b *storeBench) open(ctx context.Context, srv *embedded.Server, database string) (*store.DB, error) {
	log := slog.New(slog.NewTextHandler(b.log, nil))
	idx, err := srv.PostIndex(database, store.PostsCollection, log)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, store.Config{URI: srv.URI(), Database: database, Index: idx, Logger: log})
	if err != nil {
		_ = idx.Close()
		return nil, err
	}
	b.closers = append(b.closers, idx.Close)
	if _, err := db.StartEvent(ctx, eventName, []string{"#gophercon"}, eventStart); err != nil {
		_ = db.Close(ctx)
		return nil, err
	}
	if _, err := db.Count(ctx, eventName); err != nil {
		_ = db.Close(ctx)
		return nil, err
	}
	return db, nil
}

// checkCount fails unless the event holds exactly n posts.
func (b *storeBench) checkCount(ctx context.Context, db *store.DB, n int) error {
	got, err := db.Count(ctx, eventName)
	if err == nil && got != int64(n) {
		err = fmt.Errorf("%d posts stored, want %d", got, n)
	}
	return err
}

// phase runs one measurement of n posts: it reports progress, profiles it
// when asked (slug names the profile; "" for none) and records its row,
// even one cut short.
func (b *storeBench) phase(ctx context.Context, n int, name, slug string, measure func() (row, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fmt.Fprintf(b.log, "bench: %s posts: %s...\n", commas(int64(n)), name)
	stop := b.profile(fmt.Sprintf("%d-%s", n, slug), slug != "")
	start := time.Now()
	r, err := measure()
	stop()
	r.Posts, r.Name = n, name
	// The driver may notice the deadline a moment before ctx does.
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		r.Note = joinNote(r.Note, "cut short by --max-minutes or a signal")
		err = cmp.Or(ctx.Err(), err)
	} else if err != nil {
		r.Note = joinNote(r.Note, "failed: "+err.Error())
	}
	b.rows = append(b.rows, r)
	fmt.Fprintf(b.log, "bench: %s posts: %s done in %s (peak RSS %s)\n", commas(int64(n)), name, human(time.Since(start)), peakRSS())
	return err
}

// profile starts a CPU profile into the --cpuprofile directory, if one was
// given, and returns the function that ends it.
func (b *storeBench) profile(name string, enabled bool) (stop func()) {
	if b.cfg.cpuprofile == "" || !enabled {
		return func() {}
	}
	f, err := os.Create(filepath.Join(b.cfg.cpuprofile, name+".pprof"))
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(b.log, "bench: no CPU profile for %s: %v\n", name, err)
		if f != nil {
			_ = f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

func (b *storeBench) report(w io.Writer, begin time.Time) {
	fmt.Fprintf(w, "## Store benchmark\n\n")
	fmt.Fprintf(w, "Embedded FerretDB %s (SQLite), mongo-driver %s, through store.DB.  \n",
		depVersion("github.com/FerretDB/FerretDB"), depVersion("go.mongodb.org/mongo-driver/v2"))
	fmt.Fprintf(w, "Machine: %s; load average %s at the start, %s at the end.  \n", machine(begin), b.load, loadAvg())
	fmt.Fprintf(w, "Ran in %s (limit %s), peak RSS %s.\n\n", human(time.Since(begin)), human(b.cfg.maxTime), peakRSS())
	fmt.Fprint(w, table(b.rows))
	fmt.Fprint(w, "\n"+
		"- rate is operations over wall time; p50/p99/max are per call, percentiles by nearest rank (p99 of 20 calls is the slowest).\n"+
		"- cpu/op is the CPU time the whole process (FerretDB included) used per operation: unlike wall times it does not grow when other work shares the machine.\n"+
		"- Each insert starts from an empty database; Recent, paging, Stats and duplicate saves run on the sequential insert's data.\n"+
		"- server start-up is app.New then Run on that data, the embedded store's database, with a source that emits nothing: wall is from New until /healthz answers 200 and a first /api/tweets page is served.\n")
}

// saveAll saves posts with the given number of concurrent writers, timing
// each save. It stops at the first error or when ctx is done, and reports
// the saves that succeeded.
func saveAll(ctx context.Context, w tweet.Writer, posts []tweet.Tweet, writers int) (row, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	lats := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	start, cpu := time.Now(), cpuTime()
	for g := range writers {
		wg.Go(func() {
			lat := make([]time.Duration, 0, len(posts)/writers+1)
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(posts) {
					break
				}
				t := time.Now()
				if err := w.Save(ctx, eventName, posts[i]); err != nil {
					cancel(err)
					break
				}
				lat = append(lat, time.Since(t))
			}
			lats[g] = lat
		})
	}
	wg.Wait()
	r := row{Wall: time.Since(start), CPU: cpuTime() - cpu, Lat: slices.Concat(lats...)}
	r.Ops = len(r.Lat)
	return r, context.Cause(ctx)
}

// saveSpooled saves posts one by one through a spool.Writer in spoolDir,
// as the server does, and waits until none is left in the spool.
func saveSpooled(ctx context.Context, db tweet.Writer, spoolDir string, posts []tweet.Tweet) (row, error) {
	q, err := spool.Open(spoolDir, spool.Config{})
	if err != nil {
		return row{}, err
	}
	defer q.Close()
	w := spool.NewWriter(db, q, spool.WriterConfig{Logger: slog.New(slog.DiscardHandler)})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(runCtx)
	}()
	defer func() { stop(); <-done }()

	start, cpu := time.Now(), cpuTime()
	r, err := saveAll(ctx, w, posts, 1)
	if err != nil {
		return r, err
	}
	if h := w.Health(); h.State != "ok" || h.Spooled > 0 {
		r.Note = fmt.Sprintf("the database fell behind: %d posts spooled to disk (%s)", h.Spooled, h.LastError)
	}
	for h := w.Health(); h.State != "ok" || h.Spooled > 0; h = w.Health() {
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	r.Wall, r.CPU = time.Since(start), cpuTime()-cpu // including the drain
	return r, nil
}

// repeat calls fn up to n times and times each call. After the first call
// it stops early once phaseBudget is spent, and says so in the row's note,
// or when ctx is done. fn's last note goes into the row's note.
func repeat(ctx context.Context, n int, fn func() (note string, err error)) (row, error) {
	var r row
	start, cpu := time.Now(), cpuTime()
	var err error
	for len(r.Lat) < n && err == nil {
		if err = ctx.Err(); err != nil || len(r.Lat) > 0 && time.Since(start) > phaseBudget {
			break
		}
		t := time.Now()
		var note string
		if note, err = fn(); err == nil {
			r.Lat = append(r.Lat, time.Since(t))
			r.Note = note
		}
	}
	r.Ops, r.Wall, r.CPU = len(r.Lat), time.Since(start), cpuTime()-cpu
	if r.Ops < n && err == nil {
		r.Note = joinNote(r.Note, fmt.Sprintf("%d of %d calls (%s budget)", r.Ops, n, human(phaseBudget)))
	}
	return r, err
}

// dirSize sums the sizes of the regular files under dir, and of those
// among them that are SQLite write-ahead logs.
func dirSize(dir string) (total, wal int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		if strings.HasSuffix(path, "-wal") {
			wal += info.Size()
		}
		return nil
	})
	return total, wal, err
}

// joinNote joins two notes of a row with "; ", either may be empty.
func joinNote(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

// startup starts the server (app.New, then Run) on the data directory dir,
// whose embedded store holds the benchmark event, and times it from New
// to /healthz answering at all (503 while it loads), then to usable:
// /healthz 200 and a first page of /api/tweets.
func startup(ctx context.Context, dir string) (row, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return row{}, err
	}
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: time.Minute}
	get := func(path string) (int, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}
	start, cpu := time.Now(), cpuTime()
	// The first answer is polled for while New runs.
	firstAnswer := make(chan time.Duration, 1)
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go func() {
		for pollCtx.Err() == nil {
			if _, err := get("/healthz"); err == nil {
				firstAnswer <- time.Since(start)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	a, err := app.New(ctx, app.Config{
		Listener: ln, Source: idleSource{}, SourceName: "bench", Event: eventName, DataDir: dir,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		_ = ln.Close()
		return row{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer func() {
		stop()
		_ = a.Close(context.WithoutCancel(ctx))
	}()
	go func() { _ = a.Run(runCtx) }()
	for {
		code, err := get("/healthz")
		if err != nil {
			return row{}, err
		}
		if code == http.StatusOK {
			break
		}
		if err := ctx.Err(); err != nil {
			return row{}, err
		}
		time.Sleep(time.Millisecond)
	}
	if code, err := get(fmt.Sprintf("/api/tweets?limit=%d", pageSize)); err != nil || code != http.StatusOK {
		return row{}, cmp.Or(err, fmt.Errorf("/api/tweets answered %d once the server was up", code))
	}
	usable := time.Since(start)
	r := row{Ops: 1, Wall: usable, CPU: cpuTime() - cpu, Lat: []time.Duration{usable}}
	select {
	case d := <-firstAnswer:
		r.Note = fmt.Sprintf("from New: first /healthz answer %s, then usable (/healthz 200, then /api/tweets) %s", human(d), human(usable))
	default:
		r.Note = "from New to usable (/healthz 200, then /api/tweets)"
	}
	return r, nil
}

// idleSource is a source that emits nothing: start-up is measured alone.
type idleSource struct{}

func (idleSource) Run(ctx context.Context, sink tweet.Sink) error {
	sink.SetState(tweet.StateRunning, nil)
	<-ctx.Done()
	return nil
}
