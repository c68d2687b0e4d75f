package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// heldSeed holds start-up's first read of the store until released.
type heldSeed struct {
	tweet.Store
	entered chan struct{} // closed by the first read
	once    *sync.Once
	release chan struct{}
}

func (s heldSeed) IDs(ctx context.Context, event string, limit int) ([]string, error) {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Store.IDs(ctx, event, limit)
}

// get fetches path from the application; the client's timeout only keeps
// a server that never answers from hanging the test.
func get(t *testing.T, addr net.Addr, path string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + addr.String() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// While start-up loads the stored posts, /healthz says so with 503 and how
// many there are, the page is served, and the API asks to come back;
// once loaded, everything answers.
func TestServesWhileLoading(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	posts := worldPosts(3)

	// A first run stores three posts.
	a, err := New(ctx, testConfig(t, dir, burst{posts}))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	go func() { _ = a.Run(runCtx) }()
	for deadline := time.Now().Add(30 * time.Second); a.Health().Source.Posts < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// The second loads them, held up.
	held := heldSeed{entered: make(chan struct{}), once: new(sync.Once), release: make(chan struct{})}
	cfg := testConfig(t, dir, burst{})
	cfg.seedFrom = func(s tweet.Store) tweet.Store { held.Store = s; return held }
	type result struct {
		a   *App
		err error
	}
	opened := make(chan result, 1)
	go func() {
		a, err := New(ctx, cfg)
		opened <- result{a, err}
	}()
	released := false
	defer func() {
		if !released {
			close(held.release)
		}
		if r := <-opened; r.a != nil {
			_ = r.a.Close(ctx)
		}
	}()
	select {
	case <-held.entered:
	case r := <-opened:
		t.Fatalf("New returned before loading the store: %v", r.err)
	}
	addr := cfg.Listener.Addr()

	// The count arrives aside from the load: wait for it.
	var health Loading
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, body := get(t, addr, "/healthz")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/healthz while loading = %d %s; want 503", resp.StatusCode, body)
		}
		if err := json.Unmarshal([]byte(body), &health); err != nil {
			t.Fatalf("/healthz body %q: %v", body, err)
		}
		if strings.Contains(health.Detail, "3 stored posts") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if health.Status != "loading" || health.Event != "GoConf 2026" || !strings.Contains(health.Detail, `loading the newest of 3 stored posts of "GoConf 2026"`) {
		t.Errorf("/healthz while loading = %+v", health)
	}
	if resp, body := get(t, addr, "/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<html") {
		t.Errorf("the page while loading = %d %.80q", resp.StatusCode, body)
	}
	for _, path := range []string{"/api/tweets", "/socket.io/?EIO=4&transport=polling", "/stats"} {
		resp, body := get(t, addr, path)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "starting") {
			t.Errorf("%s while loading = %d %q (Retry-After %q); want 503 saying the server is starting", path, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	}

	close(held.release)
	released = true
	r := <-opened
	if r.err != nil {
		t.Fatal(r.err)
	}
	opened <- r // for the deferred Close
	runCtx, stop = context.WithCancel(ctx)
	defer stop()
	go func() { _ = r.a.Run(runCtx) }()
	if resp, body := get(t, addr, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz once loaded = %d %s", resp.StatusCode, body)
	}
	resp, body := get(t, addr, "/api/tweets")
	var page struct{ Tweets []tweet.Tweet }
	_ = json.Unmarshal([]byte(body), &page)
	if resp.StatusCode != http.StatusOK || len(page.Tweets) != 3 || !strings.Contains(body, "東京からこんにちは") {
		t.Errorf("/api/tweets once loaded = %d %s", resp.StatusCode, body)
	}
}
