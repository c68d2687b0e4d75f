// Command tweetwire follows posts about an event and pushes each one live
// to every browser and extension watching.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/tweetwire/tweetwire/server/benchmode"
	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/ingest"
	"github.com/tweetwire/tweetwire/server/metrics"
	"github.com/tweetwire/tweetwire/server/socketio"
	"github.com/tweetwire/tweetwire/server/source/demo"
	"github.com/tweetwire/tweetwire/server/source/replay"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "stats":
			return runStats(ctx, args[1:], getenv, stdout, stderr)
		case "db":
			return runDB(ctx, args[1:], stdout, stderr)
		case "healthcheck":
			return runHealthcheck(ctx, args[1:], stdout, stderr)
		}
	}
	cfg, err := parseConfig(args, getenv, stdout)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "tweetwire: %v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	if err := serve(ctx, cfg, log); err != nil {
		fmt.Fprintf(stderr, "tweetwire: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated with the config
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func newSource(cfg Config, log *slog.Logger) (tweet.Source, error) {
	switch cfg.Source {
	case "demo":
		return demo.New(demo.Config{Rate: cfg.DemoRate, Track: cfg.Track})
	case "replay":
		return replay.New(replay.Config{Path: cfg.ReplayFile, Rate: cfg.ReplayRate, Loop: cfg.ReplayLoop}, log)
	default:
		return cfg.buildLive(cfg, log)
	}
}

// serve runs the product until ctx is done.
func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	src, err := newSource(cfg, log.With("source", cfg.Source))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w: pick a free port with --addr", cfg.Addr, err)
	}
	defer ln.Close()

	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = db.Close(closeCtx)
	}()
	event, err := db.StartEvent(ctx, cfg.Event, cfg.Track, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("cannot record the event %q: %w", cfg.Event, err)
	}
	// The metrics read the hub, the clients and the spool, all made below;
	// until then (a spool drained at start-up) stored posts go uncounted.
	var m *metrics.Metrics
	stored := storedCounter{Writer: db, count: func() {
		if m != nil {
			m.Stored()
		}
	}}
	wp, err := openWritePath(ctx, cfg, stored, log)
	if err != nil {
		return err
	}
	defer wp.queue.Close()

	backlog := cfg.Backlog
	if backlog == 0 {
		backlog = -1 // the hub reads 0 as "default"
	}
	h := hub.New(hub.Config{Backlog: backlog, QueueSize: cfg.ClientQueue})
	cluster, err := joinCluster(cfg, event.Name, h, log)
	if err != nil {
		return err
	}
	defer cluster.Close()
	pipeline := ingest.New(cluster.broker, ingest.Config{
		Store:  wp.writer,
		Event:  event.Name,
		OnPost: func(t *tweet.Tweet) { m.Ingested(t.Source) },
		Logger: log.With("component", "ingest"),
	})
	cluster.subscribe(ctx, log)
	if err := seed(ctx, db, event.Name, seedPosts, h, pipeline); err != nil {
		return fmt.Errorf("cannot read the store: %w", err)
	}
	cluster.seedRecent(ctx, h, pipeline, log)

	// The source runs under a context of its own so that the end of the
	// event stops it while the wall goes on serving.
	srcCtx, stopSource := context.WithCancelCause(ctx)
	defer stopSource(nil)
	endEvent := func(at time.Time) {
		if _, err := db.EndEvent(context.WithoutCancel(ctx), event.Name, at); err != nil {
			log.Error("cannot record the end of the event", "event", event.Name, "err", err)
		}
		stopSource(errEventEnded)
	}
	if !cfg.EventEnd.IsZero() {
		t := time.AfterFunc(time.Until(cfg.EventEnd), func() {
			log.Info("the event ends now (--event-end)", "event", event.Name)
			endEvent(cfg.EventEnd)
		})
		defer t.Stop()
	}

	sio := socketio.New(socketio.Config{
		Hub:         h,
		CheckOrigin: web.OriginPolicy(cfg.AllowedOrigins),
		OnWrite: func(msg *hub.Message) {
			if msg.Event == hub.EventTweet {
				m.FanOut(msg.Ingested)
			}
		},
		Logger: log.With("component", "socketio"),
	})
	m = metrics.New(metrics.Sources{
		Clients:     sio.Clients,
		Dropped:     h.Dropped,
		SpoolDepth:  func() int { return wp.writer.Health().Spooled },
		Reconnects:  func() uint64 { return pipeline.Health().Reconnects },
		LeaseHolder: cluster.holding,
	})
	var benchmark http.Handler
	if cfg.Bench {
		log.Warn("benchmark mode: anyone who reaches this server can make it publish posts")
		benchmark = benchmode.Handler(benchmode.Config{
			Broker:  cluster.broker,
			Context: ctx,
			Clients: func() int {
				n := 0
				for _, c := range sio.Clients() {
					n += c
				}
				return n
			},
		})
	}
	handler := web.Handler(web.Config{
		SocketIO: sio,
		Logger:   log,
		Metrics:  m.Handler(),
		Bench:    benchmark,
		API: &web.APIConfig{
			Store:      db,
			Event:      event.Name,
			AdminToken: cfg.AdminToken,
			OnEnd:      func(ev tweet.EventInfo) { stopSource(errEventEnded) },
			Logger:     log.With("component", "api"),
		},
		Health: func() (any, bool) {
			src, st := pipeline.Health(), wp.writer.Health()
			body := map[string]any{
				"source":  src,
				"clients": sio.Clients(),
				"dropped": h.Dropped(),
				"event":   event.Name,
				"store":   map[string]any{"database": db.kind, "writes": st},
			}
			if cluster.lease != nil {
				body["cluster"] = map[string]any{"node": cfg.NodeID, "lease_holder": cluster.holding()}
			}
			return body, src.State != tweet.StateFailed && st.State != "full"
		},
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Info("listening", "addr", ln.Addr().String(), "source", cfg.Source, "event", event.Name, "store", db.kind)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := sio.Run(ctx); err != nil {
			log.Error("socket.io server stopped", "err", err)
			cancel()
		}
	})
	if cluster.broker != hub.Broker(h) {
		wg.Go(func() { _ = cluster.runBroker(ctx) })
	}
	wg.Go(func() {
		pipeline.SetState(tweet.StateStarting, nil)
		cluster.runSource(srcCtx, src, pipeline, func(ctx context.Context) {
			err := src.Run(ctx, pipeline)
			switch {
			case errors.Is(context.Cause(srcCtx), errEventEnded):
				pipeline.SetState(tweet.StateFinished, errEventEnded)
			case err != nil && ctx.Err() == nil:
				// The page keeps serving what it has; /healthz says
				// why the stream stopped.
				pipeline.SetState(tweet.StateFailed, err)
				log.Error("source stopped", "err", err)
			}
		})
	})
	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	var writerDone sync.WaitGroup
	writerDone.Go(func() { wp.writer.Run(writerCtx) })
	wg.Go(func() {
		<-ctx.Done()
		shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = srv.Shutdown(shutdownCtx)
	})
	err = srv.Serve(ln)
	cancel()
	stopSource(nil)
	wg.Wait()

	// Every post the source emitted is in the database or the spool now;
	// write back what the database can take before closing it.
	stopWriter()
	writerDone.Wait()
	drainCtx, stopDrain := context.WithTimeout(context.Background(), 5*time.Second)
	_ = wp.writer.Drain(drainCtx)
	stopDrain()
	endEvent(time.Now().UTC())

	if errors.Is(err, http.ErrServerClosed) {
		log.Info("stopped")
		return nil
	}
	return fmt.Errorf("http server: %w", err)
}

// seedPosts is how many stored posts are loaded at start-up for backlog,
// since and duplicate detection.
const seedPosts = 1000
