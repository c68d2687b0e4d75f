// Command twprof is Tweetwire's fan-out path on its own, with
// net/http/pprof, for profiling it under the load generator:
//
//	twprof [--addr 127.0.0.1:8127] [--client-queue 1024]
//	loadgen --twprof BIN --cpuprofile DIR --scenarios ws-1000x100 --runs 1
//
// It wires the packages exactly as the server's main does for a bench
// post — bench endpoints -> hub (its own broker on one node) -> socketio
// writers, with the fan-out latency metric on every write — through
// web.Handler, but without the store, the source and the API, which bench
// posts never touch. Tweetwire itself has no pprof endpoint, and none
// should be on a public server; this program never is one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tweetwire/tweetwire/server/bench"
	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/metrics"
	"github.com/tweetwire/tweetwire/server/socketio"
	"github.com/tweetwire/tweetwire/server/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8127", "address to listen on (keep it on loopback)")
	queue := flag.Int("client-queue", 1024, "messages queued per client before it is dropped as too slow (as the server's flag)")
	flag.Parse()
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// As the server's main with --backlog 0 (-1 tells the hub "none").
	h := hub.New(hub.Config{Backlog: -1, QueueSize: *queue})
	var m *metrics.Metrics
	sio := socketio.New(socketio.Config{
		Hub:         h,
		CheckOrigin: web.OriginPolicy(nil),
		OnWrite: func(msg *hub.Message) {
			if msg.Event == hub.EventTweet {
				m.FanOut(msg.Ingested)
			}
		},
		Logger: logger,
	})
	m = metrics.New(metrics.Sources{Clients: sio.Clients, Dropped: h.Dropped})
	handler := web.Handler(web.Config{
		SocketIO: sio,
		Logger:   logger,
		Metrics:  m.Handler(),
		Bench: bench.Handler(bench.Config{Broker: h, Context: ctx, Clients: func() int {
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
		log.Fatalf("twprof: %v", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := sio.Run(ctx); err != nil {
			logger.Error("socket.io server stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(os.Stderr, "twprof: listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("twprof: %v", err)
	}
}
