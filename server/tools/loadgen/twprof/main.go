// Command twprof is Tweetwire's fan-out path on its own, with
// net/http/pprof, for profiling it under the load generator, on either
// Socket.IO library:
//
//	twprof [--addr 127.0.0.1:8127] [--client-queue 1024] [--socketio googollee|zishang520]
//	loadgen --twprof BIN --cpuprofile DIR --scenarios ws-1000x100 --runs 1
//	loadgen --twzs BIN ...  (the same binary, run with --socketio zishang520)
//
// It wires the packages exactly as the server's main does for a bench
// post — bench endpoints -> hub (its own broker on one node) -> per-client
// writers, with the fan-out latency metric on every write — through
// web.Handler, but without the store, the source and the API, which bench
// posts never touch. With --socketio zishang520 the adapter is
// server/zishang, the library comparison of issue #6; the product binary
// has only server/socketio. Tweetwire itself has no pprof endpoint, and
// none should be on a public server; this program never is one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tweetwire/tweetwire/server/benchmode"
	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/metrics"
	"github.com/tweetwire/tweetwire/server/socketio"
	"github.com/tweetwire/tweetwire/server/tools/zishang"
	"github.com/tweetwire/tweetwire/server/web"
)

// socketServer is what server/socketio and server/zishang both offer.
type socketServer interface {
	http.Handler
	Run(ctx context.Context) error
	Clients() map[string]int
}

func main() {
	// Warn: the per-client Info lines (a dropped client) would flood a
	// benchmark.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(logger); err != nil {
		logger.Error("twprof stopped", "err", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger) error {
	addr := flag.String("addr", "127.0.0.1:8127", "address to listen on (keep it on loopback)")
	queue := flag.Int("client-queue", 1024, "messages queued per client before it is dropped as too slow (as the server's flag)")
	library := flag.String("socketio", "googollee", "Socket.IO library: googollee (the server's) or zishang520")
	flag.Parse()
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// As the server's main with --backlog 0 (-1 tells the hub "none").
	h := hub.New(hub.Config{Backlog: -1, QueueSize: *queue})
	var m *metrics.Metrics
	onWrite := func(msg *hub.Message) {
		if msg.Event == hub.EventTweet {
			m.FanOut(msg.Ingested)
		}
	}
	var sio socketServer
	switch *library {
	case "googollee":
		sio = socketio.New(socketio.Config{Hub: h, CheckOrigin: web.OriginPolicy(nil), OnWrite: onWrite, Logger: logger})
	case "zishang520":
		sio = zishang.New(zishang.Config{Hub: h, CheckOrigin: web.OriginPolicy(nil), OnWrite: onWrite, Logger: logger})
	default:
		return fmt.Errorf("--socketio %q: give googollee or zishang520", *library)
	}
	m = metrics.New(metrics.Sources{Clients: sio.Clients, Dropped: h.Dropped})
	handler := web.Handler(web.Config{
		SocketIO: sio,
		Logger:   logger,
		Metrics:  m.Handler(),
		Bench: benchmode.Handler(benchmode.Config{Broker: h, Context: ctx, Clients: func() int {
			n := 0
			for _, c := range sio.Clients() {
				n += c
			}
			return n
		}}),
	})
	mux := http.NewServeMux()
	mux.Handle("/", handler)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on --addr %s: %w; pick a free address", *addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		if err := sio.Run(ctx); err != nil {
			logger.Error("socket.io server stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		<-ran // connections closed first: hijacked WebSockets outlive Shutdown
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(os.Stderr, "twprof: %s on %s\n", *library, ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
