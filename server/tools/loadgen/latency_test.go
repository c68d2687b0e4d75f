package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestLatencyOnTheLoadGeneratorsClock plays a server whose posts carry a
// ts from 1970: in a latency scenario the client must measure from the
// moment the load generator published each post (one /bench/publish
// request per post, on its own schedule), not from the server's ts.
func TestLatencyOnTheLoadGeneratorsClock(t *testing.T) {
	const count = 5
	posts := make(chan string, count)
	var published atomic.Int64
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bench/publish", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("count") != "1" {
			http.Error(w, "one post a request", http.StatusBadRequest)
			return
		}
		i := published.Add(1) - 1
		posts <- fmt.Sprintf(`42["tweet",{"id":"bench:%d","ts":"1"}]`, i)
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(openPacket))
		_ = ws.WriteMessage(websocket.TextMessage, []byte("40"))
		for {
			select {
			case p := <-posts:
				_ = ws.WriteMessage(websocket.TextMessage, []byte(p))
			case <-r.Context().Done():
				return
			}
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base, _ := url.Parse(srv.URL)

	tl := &tally{sent: make([]atomic.Int64, count)}
	tl.count.Store(count)
	env := newClientEnv(base, false, 3, 1, tl, clientOptions{})
	env.dialer = newDialer(0)
	env.wsDial.NetDialContext = env.dialer.DialContext
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	c := &client{env: env}
	wg.Go(func() { c.run(ctx, func(error) {}) })
	waitUntil(ctx, 5*time.Second, func() bool { return tl.connected.Load() > 0 })

	t0 := time.Now()
	err := publishOwnClock(ctx, &running{base: base}, scenario{Rate: 50, Count: count}, tl.sent, t0)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(ctx, 5*time.Second, func() bool { return tl.delivered.Load() >= count })
	cancel()
	wg.Wait()
	if got := tl.delivered.Load(); got != count {
		t.Fatalf("delivered %d of %d", got, count)
	}
	if d := time.Since(t0); d < (count-1)*20*time.Millisecond {
		t.Errorf("published %d posts at 50/s in %v, want the schedule kept", count, d)
	}
	if m := tl.hist.Max(); m > 2*time.Second {
		t.Fatalf("max latency %v: measured from the server's ts, not the load generator's publish time", m)
	}
}
