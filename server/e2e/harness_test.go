// Package e2e runs the real Tweetwire application on loopback and drives
// it with real clients: socket.io-client 2.5.0, 3.1.3 and 4.8.4 under Node,
// and Chromium through Playwright (all installed by scripts/prepare). Each server is
// built in-process from its command line, as server/cmd/tweetwire builds
// it (cli.ParseConfig, then app.New); a test that must kill a server
// without a word runs it in a child process of this test binary instead
// (startProcess), built the same way.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/app"
	"github.com/tweetwire/tweetwire/server/cli"
	"github.com/tweetwire/tweetwire/server/internal/syncbuf"
)

var repoRoot string

// httpc is the tests' HTTP client. Not http.DefaultClient: building a
// Twitter source saves and restores its Timeout (anaconda sets it), which
// the race detector rightly reports against a concurrent request on it.
var httpc = &http.Client{Timeout: 30 * time.Second}

// childEnv marks a child process of this test binary that runs a server
// (startProcess) instead of the tests.
const childEnv = "TWEETWIRE_E2E_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild(os.Args[1:]))
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	repoRoot = root
	os.Exit(m.Run())
}

// syncBuffer collects a server's output while tests read it.
type syncBuffer = syncbuf.Buffer

// server is a running Tweetwire: in this process (app) or in a child
// process (cmd).
type server struct {
	t       *testing.T
	app     *app.App
	stopRun context.CancelFunc
	cmd     *exec.Cmd
	URL     string
	Addr    string
	logs    *syncBuffer
	// exited is closed when the server stopped running: its Run returned
	// or its process exited.
	exited  chan struct{}
	dataDir string
	stop    sync.Once
}

// serverArgs puts the test's defaults before args: a loopback port, and a
// temporary data directory unless args name one.
func serverArgs(t *testing.T, args []string) (full []string, dataDir string) {
	full = append([]string{"--addr", "127.0.0.1:0"}, args...)
	if !contains(args, "--data-dir") {
		dataDir = t.TempDir()
		full = append(full, "--data-dir", dataDir)
	}
	return full, dataDir
}

// startServer builds the application from a command line, in this
// process, listening on a free loopback port unless args give --addr, with
// a temporary data directory unless args name one. Environment variables
// fill flags not given, as for the command.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	full, dataDir := serverArgs(t, args)
	s := &server{t: t, logs: &syncBuffer{}, exited: make(chan struct{}), dataDir: dataDir}
	parsed, err := cli.ParseConfig(full, os.Getenv, io.Discard)
	if err != nil {
		t.Fatalf("server flags %q: %v", full, err)
	}
	cfg, err := parsed.AppConfig(s.logs)
	if err != nil {
		t.Fatalf("server flags %q: %v", full, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatalf("start server: %v\n%s", err, s.logs)
	}
	s.app = a
	s.Addr = a.Addr().String()
	s.URL = "http://" + s.Addr
	runCtx, stopRun := context.WithCancel(context.Background())
	s.stopRun = stopRun
	go func() {
		defer close(s.exited)
		if err := a.Run(runCtx); err != nil {
			fmt.Fprintf(s.logs, "e2e: the server stopped: %v\n", err)
		}
	}()
	t.Cleanup(s.Stop)
	return s
}

// startProcess runs the server in a child process of this test binary,
// for a test that kills it (kill). The test opens the listener and hands
// it over, so the address is known without asking the child.
func startProcess(t *testing.T, args ...string) *server {
	t.Helper()
	full, dataDir := serverArgs(t, args)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close() // the child has its own copy of the socket now
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &server{t: t, logs: &syncBuffer{}, exited: make(chan struct{}), dataDir: dataDir}
	s.Addr = ln.Addr().String()
	s.URL = "http://" + s.Addr
	s.cmd = exec.Command(os.Args[0], full...)
	s.cmd.Env = append(os.Environ(), childEnv+"=1")
	s.cmd.ExtraFiles = []*os.File{f} // fd 3
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start server process: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.Stop)
	// /healthz answers while the server loads the stored posts (503,
	// "loading"): wait until it has loaded and runs.
	s.waitHealth(t, "the server loaded and running", func(h map[string]any) bool { return h["status"] != "loading" })
	return s
}

// runChild is the main of a child process started by startProcess: the
// command's own path from flags to app.New, on the listener at fd 3, until
// SIGINT or SIGTERM.
func runChild(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e child: no listener at fd 3: %v\n", err)
		return 1
	}
	parsed, err := cli.ParseConfig(args, os.Getenv, io.Discard)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e child: %v\n", err)
		return 2
	}
	cfg, err := parsed.AppConfig(os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e child: %v\n", err)
		return 2
	}
	cfg.Listener = ln
	a, err := app.New(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e child: %v\n", err)
		return 1
	}
	runErr := a.Run(ctx)
	if err := a.Close(context.Background()); err != nil || runErr != nil {
		fmt.Fprintf(os.Stderr, "e2e child: %v %v\n", runErr, err)
		return 1
	}
	return 0
}

// kill ends a child process's server without a word (SIGKILL).
func (s *server) kill() {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("kill needs a server started with startProcess")
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// Stop stops the server cleanly: Close in process, SIGINT for a child.
func (s *server) Stop() {
	s.stop.Do(func() {
		if s.app != nil {
			s.stopRun()
			<-s.exited
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- s.app.Close(ctx) }()
			select {
			case err := <-done:
				if err != nil {
					s.t.Errorf("server did not close cleanly: %v\n%s", err, s.logs)
				}
			case <-time.After(20 * time.Second):
				s.t.Errorf("server did not close within 20 s:\n%s", s.logs)
			}
			return
		}
		select {
		case <-s.exited:
			return
		default:
		}
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.t.Errorf("server did not stop within 15 s of SIGINT:\n%s", s.logs)
		}
	})
}

// runCommand runs the tweetwire command in-process (cli.Main, as
// server/cmd/tweetwire does) and returns its exit code and output. A
// command that would serve is stopped after timeout, and then exits 0.
func runCommand(t *testing.T, timeout time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out, errOut syncBuffer
	code = cli.Main(ctx, args, os.Getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

// health fetches /healthz.
func (s *server) health(t *testing.T) map[string]any {
	t.Helper()
	resp, err := httpc.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	defer resp.Body.Close()
	var h map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("decode /healthz: %v", err)
	}
	return h
}

// waitHealth polls /healthz until ok returns true.
func (s *server) waitHealth(t *testing.T, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h := s.health(t)
		if ok(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never showed %s; last: %v\nserver log:\n%s", what, h, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sourceState(h map[string]any) string {
	src, _ := h["source"].(map[string]any)
	s, _ := src["state"].(string)
	return s
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// nodeModules fails the test when scripts/prepare has not run: these tests
// must run, in CI and everywhere, with real clients.
func nodeModules(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot, "scripts", "js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client")); err != nil {
		t.Fatalf("scripts/js/node_modules is missing: run scripts/prepare first (%v)", err)
	}
	return dir
}

// clientEvent is one line from sioclient.mjs.
type clientEvent struct {
	Client    int             `json:"client"`
	Event     string          `json:"event"`
	Transport string          `json:"transport"`
	Data      json.RawMessage `json:"data"`
	Error     string          `json:"error"`
	Reason    string          `json:"reason"`
}

// clients is a running sioclient.mjs process.
type clients struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	mu     sync.Mutex
	events []clientEvent
	stderr *syncBuffer
	done   chan struct{}
}

// startClients runs sioclient.mjs with the given flags against url.
func startClients(t *testing.T, url string, flags ...string) *clients {
	t.Helper()
	dir := nodeModules(t)
	c := &clients{t: t, stderr: &syncBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command("node", append([]string{filepath.Join(dir, "sioclient.mjs"), "--url", url, "--max-ms", "90000"}, flags...)...)
	c.cmd.Stderr = c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var ev clientEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				continue
			}
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
		}
		_ = c.cmd.Wait()
	}()
	t.Cleanup(c.Stop)
	return c
}

// Stop closes stdin, which makes the harness disconnect and exit.
func (c *clients) Stop() {
	_ = c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func (c *clients) snapshot() []clientEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]clientEvent(nil), c.events...)
}

// waitUntil polls the events seen so far until ok is true.
func (c *clients) waitUntil(what string, timeout time.Duration, ok func([]clientEvent) bool) []clientEvent {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := c.snapshot()
		if ok(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("clients never saw %s within %v; %d events, last: %s\nnode stderr:\n%s", what, timeout, len(evs), tail(evs, 5), c.stderr)
		}
		select {
		case <-c.done:
			if !ok(c.snapshot()) {
				c.t.Fatalf("client harness exited before %s; events: %s\nnode stderr:\n%s", what, tail(c.snapshot(), 10), c.stderr)
			}
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func tail(evs []clientEvent, n int) string {
	if len(evs) > n {
		evs = evs[len(evs)-n:]
	}
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  %d %s %s %s %s %.120s", e.Client, e.Event, e.Transport, e.Error, e.Reason, e.Data)
	}
	return b.String()
}

// post is the wire form of a tweet as clients see it.
type post struct {
	ID        string   `json:"id"`
	User      string   `json:"user"`
	Name      string   `json:"name"`
	Text      string   `json:"text"`
	Picture   string   `json:"picture"`
	CreatedAt string   `json:"created_at"`
	URL       string   `json:"url"`
	Source    string   `json:"source"`
	Hashtags  []string `json:"hashtags"`
}

// received lists, per client, the ids of posts seen in backlogs and tweet
// events, in arrival order, minus those a later delete retracted when
// withDeletes is false.
func received(evs []clientEvent) map[int][]string {
	out := map[int][]string{}
	for _, e := range evs {
		switch e.Event {
		case "backlog":
			var ps []post
			_ = json.Unmarshal(e.Data, &ps)
			for _, p := range ps {
				out[e.Client] = append(out[e.Client], p.ID)
			}
		case "tweet":
			var p post
			_ = json.Unmarshal(e.Data, &p)
			out[e.Client] = append(out[e.Client], p.ID)
		}
	}
	return out
}

func countEvents(evs []clientEvent, name string) int {
	n := 0
	for _, e := range evs {
		if e.Event == name {
			n++
		}
	}
	return n
}

// writeReplay writes n v1.1 status lines with ids from first, and returns
// the file and the ids clients should see.
func writeReplay(t *testing.T, first, n int, extra ...string) (string, []string) {
	t.Helper()
	var b strings.Builder
	var ids []string
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for i := first; i < first+n; i++ {
		line, _ := json.Marshal(map[string]any{
			"id_str":     fmt.Sprint(1000000 + i),
			"id":         1000000 + i,
			"text":       fmt.Sprintf("post %d about #GoConf", i),
			"created_at": base.Add(time.Duration(i) * time.Second).Format(time.RubyDate),
			"lang":       "en",
			"user":       map[string]any{"screen_name": fmt.Sprintf("user%d", i%7), "name": fmt.Sprintf("User %d", i%7), "profile_image_url_https": "https://example.invalid/a.png"},
			"entities":   map[string]any{"hashtags": []map[string]any{{"text": "GoConf"}}},
		})
		b.Write(line)
		b.WriteByte('\n')
		ids = append(ids, fmt.Sprintf("twitter:%d", 1000000+i))
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	path := filepath.Join(t.TempDir(), "replay.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, ids
}

func waitCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitUntil polls ok until it holds, for at most 30 s, and fails the test
// saying what never happened, with the logs of the servers given.
func waitUntil(t *testing.T, what string, ok func() bool, logsOf ...*server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, s := range logsOf {
				fmt.Fprintf(&logs, "\nserver log:\n%s", s.logs)
			}
			t.Fatalf("%s: not within 30 s%s", what, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startReplayed starts a server with the flags given that replays lines
// (replayFile) at once, and returns it when the replay has finished and
// its store holds stored posts.
func startReplayed(t *testing.T, lines []string, stored int, flags ...string) *server {
	t.Helper()
	srv := startServer(t, append([]string{"--source", "replay", "--replay-file", replayFile(t, lines), "--replay-rate", "0"}, flags...)...)
	srv.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	srv.waitStored(t, stored)
	return srv
}

// waitStored waits until the server's statistics count n posts: a source
// that finished has read its posts, not necessarily stored them.
func (s *server) waitStored(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("the store holding %d posts", n), func() bool { return storedPosts(t, s) == n }, s)
}
