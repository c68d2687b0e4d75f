package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeBench is a bench server in miniature: Engine.IO 3 WebSocket
// clients, /bench/stats and /bench/publish (posts at once, whatever the
// rate), every post stamped with a ts from 1970 so that only the load
// generator's own clock gives a sane latency.
func fakeBench(t *testing.T) *httptest.Server {
	t.Helper()
	var (
		mu        sync.Mutex
		conns     = map[chan string]bool{}
		published atomic.Int64
	)
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bench/stats", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := len(conns)
		mu.Unlock()
		fmt.Fprintf(w, `{"clients":%d,"published":%d,"rss":0}`, n, published.Load())
	})
	mux.HandleFunc("POST /bench/publish", func(w http.ResponseWriter, r *http.Request) {
		var count int
		fmt.Sscan(r.URL.Query().Get("count"), &count)
		for range count {
			post := fmt.Sprintf(`42["tweet",{"id":"bench:%d","ts":"1"}]`, published.Add(1)-1)
			mu.Lock()
			for c := range conns {
				c <- post
			}
			mu.Unlock()
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		c := make(chan string, 1000)
		_ = ws.WriteMessage(websocket.TextMessage, []byte(openPacket))
		_ = ws.WriteMessage(websocket.TextMessage, []byte("40"))
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		defer func() { mu.Lock(); delete(conns, c); mu.Unlock() }()
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
		for {
			select {
			case p := <-c:
				_ = ws.WriteMessage(websocket.TextMessage, []byte(p))
			case <-r.Context().Done():
				return
			}
		}
	})
	return httptest.NewServer(mux)
}

// TestRunScenario runs whole scenarios against fakeBench (as an external
// server, this process standing in for its pid): a latency scenario
// measures on the load generator's clock, and a ramp past the open-file
// limit connects what fits and says which limit stopped it.
func TestRunScenario(t *testing.T) {
	srv := fakeBench(t)
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	k := serverKind{Name: "fake", external: base, pid: os.Getpid()}
	cfg := runConfig{Dialers: 4, Drain: 5 * time.Second, Settle: 10 * time.Millisecond, Progress: io.Discard,
		Clients: clientOptions{Sources: 1}}

	t.Run("latency on the load generator's clock", func(t *testing.T) {
		sc := scenario{Name: "latency", Clients: 5, EIO: 3, Rate: 50, Count: 10, OwnClock: true}
		res := runScenario(context.Background(), k, sc, 1, cfg)
		if res.Err != "" {
			t.Fatal(res.Err)
		}
		if res.Connected != 5 || res.Delivered != 50 || res.Limit != "" {
			t.Fatalf("connected %d, delivered %d of 50, limit %q", res.Connected, res.Delivered, res.Limit)
		}
		if res.P99 > 2000 || res.P99Over {
			t.Fatalf("p99 %v ms: not measured from the load generator's publish time", res.P99)
		}
	})
	t.Run("stopped by the open-file limit", func(t *testing.T) {
		cfg := cfg
		cfg.FileLimit = fdReserve + 3
		sc := scenario{Name: "scale", Clients: 10, EIO: 3, Idle: 10 * time.Millisecond}
		res := runScenario(context.Background(), k, sc, 1, cfg)
		if res.Err != "" {
			t.Fatal(res.Err)
		}
		if res.Connected != 3 || !strings.HasPrefix(res.Limit, "file descriptors") {
			t.Fatalf("connected %d, limit %q; want 3 and the file descriptors named", res.Connected, res.Limit)
		}
		if res.RSS <= 0 || res.Ramp <= 0 {
			t.Fatalf("RSS %d, ramp %v s: want the server's memory and the time to connect", res.RSS, res.Ramp)
		}
	})
}
