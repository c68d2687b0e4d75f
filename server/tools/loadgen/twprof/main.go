// Command twprof is the Tweetwire server with net/http/pprof, for
// profiling it under the load generator, on either Socket.IO library:
//
//	twprof [--addr 127.0.0.1:8127] [--client-queue 1024] [--backlog 0] [--socketio googollee|zishang520]
//	loadgen --twprof BIN --cpuprofile DIR --scenarios ws-1000x100 --runs 1
//	loadgen --twzs BIN ...  (the same binary, run with --socketio zishang520)
//
// It builds the very application the tweetwire command builds (server/cli
// and server/app), configured as the load generator runs the server: bench
// mode, no backlog unless --backlog, a replay source that plays one warm-up post, and a
// temporary data directory. Only two things differ: /debug/pprof/ is
// served, and with --socketio zishang520 the Socket.IO server is
// server/tools/zishang, the library comparison of issue #6, behind the
// application's own seam. Tweetwire itself has no pprof endpoint, and none
// should be on a public server; this program never is one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/tweetwire/tweetwire/server/app"
	"github.com/tweetwire/tweetwire/server/cli"
	"github.com/tweetwire/tweetwire/server/socketio"
	"github.com/tweetwire/tweetwire/server/tools/zishang"
)

// warmupLine is the one post the server replays at start-up: a quiet
// source, as the load generator gives the tweetwire binary.
const warmupLine = `{"created_at":"Thu Apr 25 09:02:13 +0000 2019","id_str":"1","text":"bench warm-up","user":{"screen_name":"bench","name":"Bench"}}` + "\n"

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "twprof: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8127", "address to listen on (keep it on loopback)")
	queue := flag.Int("client-queue", 1024, "messages queued per client before it is dropped as too slow (as the server's flag)")
	library := flag.String("socketio", "googollee", "Socket.IO library: googollee (the server's) or zishang520")
	backlog := flag.Int("backlog", 0, "posts a new client receives on connect (as the server's flag; the load generator passes its own --backlog)")
	flag.Parse()
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "twprof-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	replay := filepath.Join(dir, "replay.jsonl")
	if err := os.WriteFile(replay, []byte(warmupLine), 0o644); err != nil {
		return err
	}
	// Warn: the per-client Info lines (a dropped client) would flood a
	// benchmark.
	parsed, err := cli.ParseConfig([]string{"--addr", *addr, "--bench", "--backlog", strconv.Itoa(*backlog), "--client-queue", strconv.Itoa(*queue),
		"--data-dir", filepath.Join(dir, "data"), "--log-level", "warn",
		"--source", "replay", "--replay-file", replay, "--replay-rate", "1"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		return err
	}
	cfg, err := parsed.AppConfig(os.Stderr)
	if err != nil {
		return err
	}
	switch *library {
	case "googollee":
	case "zishang520":
		cfg.SocketIO = func(c socketio.Config) app.SocketServer {
			return zishang.New(zishang.Config{Hub: c.Hub, CheckOrigin: c.CheckOrigin, OnWrite: c.OnWrite, Logger: c.Logger})
		}
	default:
		return fmt.Errorf("--socketio %q: give googollee or zishang520", *library)
	}
	cfg.Wrap = func(product http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/", product)
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		return mux
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	slog.Warn("twprof: serving", "library", *library, "addr", a.Addr().String())
	runErr := a.Run(ctx)
	return errors.Join(runErr, a.Close(context.WithoutCancel(ctx)))
}
