package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/internal/syncbuf"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// burst is a source that emits its posts at once, then waits for the end.
type burst struct{ posts []tweet.Tweet }

func (b burst) Run(ctx context.Context, sink tweet.Sink) error {
	sink.SetState(tweet.StateRunning, nil)
	for _, p := range b.posts {
		if err := sink.Emit(ctx, tweet.Post(p)); err != nil {
			return nil
		}
	}
	<-ctx.Done()
	return nil
}

// worldPosts are n posts with the text people write: emoji, accents, CJK,
// right-to-left scripts and markup.
func worldPosts(n int) []tweet.Tweet {
	texts := []string{"Keynote 🎉🚀 #GoConf", "Café crème à Zürich — ça marche", "東京からこんにちは、ゴーファー", "مرحبا بالعالم #GoConf", "<b>bold</b> &amp; <script>alert(1)</script>"}
	t0 := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	out := make([]tweet.Tweet, n)
	for i := range out {
		out[i] = tweet.Tweet{ID: fmt.Sprintf("demo:%d", i), Source: "demo", User: fmt.Sprintf("zoë%d", i%3), Name: "Zoë 👩‍💻",
			Text: texts[i%len(texts)], CreatedAt: t0.Add(time.Duration(i) * time.Second), Hashtags: []string{"goconf"}}
	}
	return out
}

func testConfig(t *testing.T, dir string, src tweet.Source) Config {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return Config{Listener: ln, Source: src, SourceName: "demo", Event: "GoConf 2026", DataDir: dir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// Every post the source emitted is stored once Close returns, and the
// parts close in order: a second application can open the same data
// directory at once.
func TestCloseLeavesEveryPostStored(t *testing.T) {
	dir := t.TempDir()
	posts := worldPosts(40)
	ctx := context.Background()
	a, err := New(ctx, testConfig(t, dir, burst{posts}))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- a.Run(runCtx) }()
	deadline := time.Now().Add(30 * time.Second)
	for a.Health().Source.Posts < uint64(len(posts)) {
		if time.Now().After(deadline) {
			t.Fatalf("the source's posts never went through: %+v", a.Health())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}

	again, err := New(ctx, testConfig(t, dir, burst{}))
	if err != nil {
		t.Fatalf("reopening the data directory after Close: %v", err)
	}
	defer again.Close(ctx)
	stored, err := again.db.Recent(ctx, "GoConf 2026", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(posts) {
		t.Fatalf("stored %d posts, want %d", len(stored), len(posts))
	}
	byID := map[string]tweet.Tweet{}
	for _, p := range stored {
		byID[p.ID] = p
	}
	for _, p := range posts {
		if got := byID[p.ID]; got.Text != p.Text || got.Name != p.Name {
			t.Errorf("post %s stored as %q by %q, want %q by %q", p.ID, got.Text, got.Name, p.Text, p.Name)
		}
	}
	// The restarted server seeds its hub from the store.
	if got := len(again.hub.Recent(100)); got != len(posts) {
		t.Errorf("the restarted hub holds %d posts, want %d", got, len(posts))
	}
}

// New closes what it opened when a later part cannot open: nothing of the
// embedded store, the driver or the spool is left running, and the data
// directory is free for the next try.
func TestNewClosesWhatItOpenedOnError(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := testConfig(t, dir, burst{})
	before := goleak.IgnoreCurrent()
	cfg.RedisURL = "redis://user:s3cret@[::1" // opens after the database, and is not a URL
	if _, err := New(ctx, cfg); err == nil || !strings.Contains(err.Error(), "--redis-url") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("New with a bad Redis URL: %v; want an error about --redis-url without the password", err)
	}
	goleak.VerifyNone(t, before)
	a, err := New(ctx, testConfig(t, dir, burst{}))
	if err != nil {
		t.Fatalf("the data directory is still held after a failed New: %v", err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// /healthz says the same, typed, as it did untyped: the fields the
// operators' checks and the tests read.
func TestHealthOverHTTP(t *testing.T) {
	ctx := context.Background()
	a, err := New(ctx, testConfig(t, t.TempDir(), burst{worldPosts(3)}))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); _ = a.Close(ctx) }()
	go func() { _ = a.Run(runCtx) }()
	var body map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + a.Addr().String() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body = nil
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/healthz = %d %v", resp.StatusCode, body)
		}
		if src, _ := body["source"].(map[string]any); src["posts"] == float64(3) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	store, _ := body["store"].(map[string]any)
	writes, _ := store["writes"].(map[string]any)
	clients, _ := body["clients"].(map[string]any)
	src, _ := body["source"].(map[string]any)
	if body["status"] != "ok" || body["event"] != "GoConf 2026" || store["database"] != "embedded" || writes["state"] != "ok" ||
		src["state"] != "running" || src["posts"] != float64(3) || clients["websocket"] != float64(0) || body["cluster"] != nil {
		t.Errorf("/healthz = %v", body)
	}
}

// Stopping a server leaves its event running (another node, or the next
// start, goes on with it); EventEnd ends it, and the source with it.
func TestOnlyTheEndEndsTheEvent(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		end   time.Time
		ended bool
	}{
		{"a stop", time.Time{}, false},
		{"EventEnd", time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dir, burst{worldPosts(2)})
			cfg.EventEnd = tt.end
			a, err := New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			runCtx, stop := context.WithCancel(ctx)
			go func() { _ = a.Run(runCtx) }()
			want := tweet.StateRunning
			if tt.ended {
				want = tweet.StateFinished
			}
			deadline := time.Now().Add(30 * time.Second)
			for a.Health().Source.State != want {
				if time.Now().After(deadline) {
					t.Fatalf("source state %q, want %q", a.Health().Source.State, want)
				}
				time.Sleep(10 * time.Millisecond)
			}
			stop()
			if err := a.Close(ctx); err != nil {
				t.Fatal(err)
			}
			db, err := OpenDatabase(ctx, "", dir, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close(ctx)
			ev, err := db.Event(ctx, "GoConf 2026")
			if err != nil {
				t.Fatal(err)
			}
			if ev.Running() == tt.ended || (tt.ended && !ev.End.Equal(tt.end)) {
				t.Errorf("after %s the event is %+v; want ended=%v", tt.name, ev, tt.ended)
			}
		})
	}
}

// getOn sends GET path on an open connection, keeping it alive, and reads
// the answer's status line.
func getOn(t *testing.T, c net.Conn, path string) (string, error) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Status, nil
}

// Idle keep-alive connections are closed after IdleTimeout, and no more
// than MaxConnections are open at once: the next waits, and the log says
// once that the cap was reached.
func TestConnectionsAreBounded(t *testing.T) {
	ctx := context.Background()
	logs := &syncbuf.Buffer{}
	cfg := testConfig(t, t.TempDir(), burst{})
	cfg.IdleTimeout = 300 * time.Millisecond
	cfg.MaxConnections = 2
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); _ = a.Close(ctx) }()
	go func() { _ = a.Run(runCtx) }()
	addr := a.Addr().String()

	t.Run("idle connections close", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if status, err := getOn(t, c, "/healthz"); err != nil || status != "200 OK" {
			t.Fatalf("GET /healthz: %q %v", status, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		if n, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("an idle keep-alive connection read %d bytes, %v; want it closed by the server", n, err)
		}
		if waited := time.Since(start); waited > 3*time.Second {
			t.Errorf("closed after %v, want about the idle timeout (300ms)", waited)
		}
	})

	t.Run("the cap", func(t *testing.T) {
		var held []net.Conn
		for range 2 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A request in progress: the headers are not finished.
			if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\n")); err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		third, err := net.Dial("tcp", addr) // the kernel's backlog takes it
		if err != nil {
			t.Fatal(err)
		}
		defer third.Close()
		answered := make(chan string, 1)
		go func() {
			status, err := getOn(t, third, "/healthz")
			if err != nil {
				status = err.Error()
			}
			answered <- status
		}()
		select {
		case status := <-answered:
			t.Fatalf("a third connection was served (%s) while two held the cap of 2", status)
		case <-time.After(500 * time.Millisecond):
		}
		held[0].Close()
		select {
		case status := <-answered:
			if status != "200 OK" {
				t.Fatalf("the waiting request got %q", status)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the waiting connection was not served once a place was free")
		}
		if n := strings.Count(logs.String(), "connection cap reached"); n != 1 {
			t.Errorf("the log says the cap was reached %d times, want once:\n%s", n, logs)
		}
	})
}

// Ending the event needs a secret even when none is configured: the first
// start makes one in <data dir>/admin-token (0600) and keeps it across
// restarts; a forged Host (DNS rebinding) is refused before anything.
func TestStateChangesNeedTheAdminToken(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	start := func() (*App, func()) {
		a, err := New(ctx, testConfig(t, dir, burst{}))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		go func() { _ = a.Run(runCtx) }()
		return a, func() { stop(); _ = a.Close(ctx) }
	}
	a, stop := start()
	path := dir + "/admin-token"
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin token file: %v, mode %v; want 0600", err, st.Mode())
	}
	b, _ := os.ReadFile(path)
	token := strings.TrimSpace(string(b))
	if len(token) < 43 {
		t.Fatalf("admin token %q is shorter than 256 bits", token)
	}
	end := func(host, auth string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.Addr().String()+"/api/event/end", nil)
		req.Host = host
		req.Header.Set("Origin", "http://"+host)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := end("evil.example", token); code != http.StatusMisdirectedRequest {
		t.Errorf("POST with Host and Origin evil.example: %d, want 421", code)
	}
	if code := end(a.Addr().String(), ""); code != http.StatusUnauthorized {
		t.Errorf("POST without the token: %d, want 401", code)
	}
	if !a.Health().Healthy() || a.Health().Source.State == tweet.StateFinished {
		t.Fatalf("the event ended without the token: %+v", a.Health())
	}
	stop()

	// The same token after a restart.
	a, stop = start()
	defer stop()
	b2, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b2)) != token {
		t.Fatal("the admin token changed across a restart")
	}
	if code := end(a.Addr().String(), token); code != http.StatusOK {
		t.Fatalf("POST with the token: %d, want 200", code)
	}
}

// Closing the listener wakes an Accept that waits at the cap, so a full
// server still shuts down.
func TestLimitListenerCloseWakesAWaitingAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(ln, 1, slog.New(slog.DiscardHandler))
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	held, err := l.Accept() // takes the only place
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	waiting := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		waiting <- err
	}()
	time.Sleep(50 * time.Millisecond) // the second Accept waits for a place
	_ = l.Close()
	select {
	case err := <-waiting:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waits for a place after Close")
	}
}
