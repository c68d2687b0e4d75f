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
	"syscall"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/ingest"
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
	case "replay":
		return replay.New(replay.Config{Path: cfg.ReplayFile, Rate: cfg.ReplayRate, Loop: cfg.ReplayLoop}, log)
	default:
		return demo.New(demo.Config{Rate: cfg.DemoRate, Track: cfg.Track})
	}
}

// serve runs the product until ctx is done.
func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	src, err := newSource(cfg, log.With("source", cfg.Source))
	if err != nil {
		return err
	}
	backlog := cfg.Backlog
	if backlog == 0 {
		backlog = -1 // the hub reads 0 as "default"
	}
	h := hub.New(hub.Config{Backlog: backlog, QueueSize: cfg.ClientQueue})
	pipeline := ingest.New(h, ingest.Config{})
	sio := socketio.New(socketio.Config{
		Hub:         h,
		CheckOrigin: web.OriginPolicy(cfg.AllowedOrigins),
		Logger:      log.With("component", "socketio"),
	})
	handler := web.Handler(web.Config{
		SocketIO: sio,
		Logger:   log,
		Health: func() (any, bool) {
			src := pipeline.Health()
			return map[string]any{
				"source":  src,
				"clients": sio.Clients(),
				"dropped": h.Dropped(),
				"store":   map[string]any{"state": "none"},
			}, src.State != tweet.StateFailed
		},
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w: pick a free port with --addr", cfg.Addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Info("listening", "addr", ln.Addr().String(), "source", cfg.Source)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{}, 3)
	go func() {
		defer func() { done <- struct{}{} }()
		if err := sio.Run(ctx); err != nil {
			log.Error("socket.io server stopped", "err", err)
			cancel()
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		pipeline.SetState(tweet.StateStarting, nil)
		if err := src.Run(ctx, pipeline); err != nil && ctx.Err() == nil {
			// The page keeps serving what it has; /healthz says why the
			// stream stopped.
			pipeline.SetState(tweet.StateFailed, err)
			log.Error("source stopped", "err", err)
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		<-ctx.Done()
		shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = srv.Shutdown(shutdownCtx)
	}()
	err = srv.Serve(ln)
	cancel()
	for range 3 {
		<-done
	}
	if errors.Is(err, http.ErrServerClosed) {
		log.Info("stopped")
		return nil
	}
	return fmt.Errorf("http server: %w", err)
}
