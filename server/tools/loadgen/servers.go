package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// serverKind is a server under test: how to start one on a port.
type serverKind struct {
	Name string
	// Polling says whether it serves Engine.IO long polling; the polling
	// scenario skips those that do not.
	Polling bool
	// EIO4 says whether it serves Engine.IO v4 (Socket.IO v5) clients;
	// every server here serves v3.
	EIO4 bool
	// PProf says whether it serves /debug/pprof/, for --cpuprofile.
	PProf bool
	// command builds the command line for port, with dir a fresh
	// temporary directory it may use.
	command func(port int, dir string) (*exec.Cmd, error)
	// external is the address of a server someone else started, with
	// pid its process id; command is nil then.
	external *url.URL
	pid      int
	// bin is the Go server's binary, dir the Node.js server's folder:
	// where the library versions for the report come from.
	bin, dir string
}

// warmupLine is the one post Tweetwire replays at start-up: a quiet
// source, so that nothing but the benchmark's posts reaches the clients
// (the demo source would add one post a second to every client).
const warmupLine = `{"created_at":"Thu Apr 25 09:02:13 +0000 2019","id_str":"1","text":"bench warm-up","user":{"screen_name":"bench","name":"Bench"}}` + "\n"

// tweetwireKind runs the Tweetwire binary bin (or twprof, with pprof)
// with --backlog backlog: 0 in a comparison, since the Node.js reference
// sends a new client nothing.
func tweetwireKind(name, bin string, pprof bool, backlog int) serverKind {
	return serverKind{Name: name, Polling: true, EIO4: true, PProf: pprof, bin: bin, command: func(port int, dir string) (*exec.Cmd, error) {
		replay := filepath.Join(dir, "replay.jsonl")
		if err := os.WriteFile(replay, []byte(warmupLine), 0o644); err != nil {
			return nil, err
		}
		data := filepath.Join(dir, "data")
		if err := os.Mkdir(data, 0o755); err != nil {
			return nil, err
		}
		args := []string{"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--bench", "--backlog", strconv.Itoa(backlog),
			"--data-dir", data, "--log-level", "warn",
			"--source", "replay", "--replay-file", replay, "--replay-rate", "1"}
		if pprof {
			// twprof builds the same server, configured as above, and takes fewer flags.
			args = []string{"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--backlog", strconv.Itoa(backlog)}
		}
		return exec.Command(bin, args...), nil
	}}
}

// twzsName is the server built on zishang520/socket.io (issue #6).
const twzsName = "tweetwire-zishang520"

// twzsKind is Tweetwire's fan-out path on zishang520/socket.io v3: the
// twprof binary (server/tools/loadgen/twprof) with --socketio zishang520,
// with /debug/pprof. The library is a port of socket.io 4: v4 is its own
// protocol, v3 it serves through AllowEIO3.
func twzsKind(bin string, backlog int) serverKind {
	return serverKind{Name: twzsName, Polling: true, EIO4: true, PProf: true, bin: bin, command: func(port int, _ string) (*exec.Cmd, error) {
		return exec.Command(bin, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--socketio", "zishang520", "--backlog", strconv.Itoa(backlog)), nil
	}}
}

func nodeKind(dir string) serverKind {
	return serverKind{Name: "node", Polling: true, EIO4: true, dir: dir, command: func(port int, _ string) (*exec.Cmd, error) {
		cmd := exec.Command("node", "server.js", "--port", strconv.Itoa(port))
		cmd.Dir = dir
		return cmd, nil
	}}
}

// wsrefKind is the gorilla limit. It answers only ?EIO=3&transport=websocket:
// no polling, no v4.
func wsrefKind(bin string) serverKind {
	return serverKind{Name: "wsref", PProf: true, bin: bin, command: func(port int, _ string) (*exec.Cmd, error) {
		return exec.Command(bin, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--pprof"), nil
	}}
}

// serves says why k cannot serve sc's clients, or "" when it can.
func (k serverKind) serves(sc scenario) string {
	switch {
	case sc.Polling && !k.Polling:
		return "serves no long polling"
	case sc.EIO == 4 && !k.EIO4:
		return "serves no Engine.IO v4"
	}
	return ""
}

// running is a started server.
type running struct {
	kind serverKind
	base *url.URL
	pid  int
	cmd  *exec.Cmd
	dir  string
	out  *tailBuffer
	done chan struct{} // closed when the process has exited
}

// start launches a fresh server on a free loopback port and waits until
// /bench/stats answers.
func start(ctx context.Context, k serverKind) (*running, error) {
	if k.external != nil {
		r := &running{kind: k, base: k.external, pid: k.pid, done: make(chan struct{})}
		return r, r.waitReady(ctx, 10*time.Second)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadgen-"+k.Name+"-")
	if err != nil {
		return nil, err
	}
	cmd, err := k.command(port, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	out := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", k.Name, err)
	}
	r := &running{kind: k, base: &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)},
		pid: cmd.Process.Pid, cmd: cmd, dir: dir, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	if err := r.waitReady(ctx, 60*time.Second); err != nil {
		r.stop()
		return nil, fmt.Errorf("%s did not start: %w; its output ends with:\n%s", k.Name, err, out.String())
	}
	return r, nil
}

func (r *running) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, err := r.stats(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-r.done:
			return errors.New("it exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from /bench/stats within %v: %w", limit, err)
		}
	}
}

// stop ends a server this program started: SIGTERM, then SIGKILL after
// ten seconds.
func (r *running) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	_ = os.RemoveAll(r.dir)
}

// benchStats is GET /bench/stats.
type benchStats struct {
	Clients   int   `json:"clients"`
	Published int64 `json:"published"`
	RSS       int64 `json:"rss"`
}

var control = &http.Client{Timeout: 10 * time.Second}

func (r *running) stats(ctx context.Context) (benchStats, error) {
	var s benchStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base.String()+"/bench/stats", nil)
	if err != nil {
		return s, err
	}
	resp, err := control.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("/bench/stats: %s", resp.Status)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

func (r *running) publish(ctx context.Context, count int, rate float64) error {
	u := fmt.Sprintf("%s/bench/publish?count=%d&rate=%g", r.base, count, rate)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := control.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("/bench/publish: %s: %s", resp.Status, body)
	}
	return nil
}

// cpuProfile fetches a CPU profile of d from a server with /debug/pprof/.
func (r *running) cpuProfile(ctx context.Context, d time.Duration, path string) error {
	return r.fetch(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, int(d.Seconds()))), path)
}

// fetch saves what GET path answers (a pprof profile) to file.
func (r *running) fetch(ctx context.Context, path, file string) error {
	c := &http.Client{Timeout: 5 * time.Minute}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base.String()+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it: a server's output,
// shown when it fails to start.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
