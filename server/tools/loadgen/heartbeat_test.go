package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestEIO3ClientPingsAtTheAnnouncedInterval plays an Engine.IO 3 server
// that announces a 100 ms pingInterval and answers every ping: the client
// must ping pingInterval after the open packet and after each pong, as
// engine.io-client 3.x does, neither sooner nor on a coarser clock of its
// own.
func TestEIO3ClientPingsAtTheAnnouncedInterval(t *testing.T) {
	const interval = 100 * time.Millisecond
	var mu sync.Mutex
	var at []time.Time // when each ping arrived, the open packet's time first
	srv := wsFake(t, "3", func(ws *websocket.Conn, r *http.Request, send func(string)) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		send(`0{"sid":"s1","upgrades":[],"pingInterval":100,"pingTimeout":1000}`)
		send("40")
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if string(msg) == "2" {
				mu.Lock()
				at = append(at, time.Now())
				mu.Unlock()
				send("3")
			}
		}
	})
	defer srv.Close()

	tl := runClientWith(t, srv, false, 3, clientOptions{}, nil, 0, 0, func(*tally) bool {
		mu.Lock()
		defer mu.Unlock()
		return len(at) >= 6
	})
	mu.Lock()
	defer mu.Unlock()
	if len(at) < 6 {
		t.Fatalf("%d pings in 5 s, want 5 at 100 ms", len(at)-1)
	}
	var gaps []time.Duration
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, at[i].Sub(at[i-1]))
	}
	// A ping is never early (timers do not fire early; 20 ms allows for
	// the server reading the previous one late); the median tells a
	// client on the interval from one that checks every half second.
	if m := slices.Min(gaps); m < interval-20*time.Millisecond {
		t.Errorf("gaps between pings %v: one under the 100 ms interval", gaps)
	}
	slices.Sort(gaps)
	if m := gaps[len(gaps)/2]; m > 2*interval {
		t.Errorf("gaps between pings %v: median %v, want about the 100 ms interval", gaps, m)
	}
	if tl.drops.Load() != 0 || tl.timeouts.Load() != 0 {
		t.Errorf("drops %d, ping timeouts %d, want none", tl.drops.Load(), tl.timeouts.Load())
	}
}

// TestClientClosesOnPingTimeout plays servers that go silent: an EIO 3
// one that never answers the client's ping, an EIO 4 one that never
// pings. Each time the client must give up after the heartbeat's
// deadline ("ping timeout") and reconnect, as socket.io-client does.
func TestClientClosesOnPingTimeout(t *testing.T) {
	tests := []struct {
		name string
		eio  string
		open string
	}{
		{"EIO 3: no pong", "3", `0{"sid":"s1","upgrades":[],"pingInterval":50,"pingTimeout":50}`},
		{"EIO 4: no ping", "4", `0{"sid":"s4","upgrades":[],"pingInterval":50,"pingTimeout":50,"maxPayload":1000000}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int32
			srv := wsFake(t, tc.eio, func(ws *websocket.Conn, r *http.Request, send func(string)) {
				conns.Add(1)
				send(tc.open)
				if tc.eio == "3" {
					send("40")
				}
				for {
					_, msg, err := ws.ReadMessage()
					if err != nil {
						return
					}
					if string(msg) == "40" {
						send(`40{"sid":"sock1"}`)
					}
				}
			})
			defer srv.Close()
			eio := 3
			if tc.eio == "4" {
				eio = 4
			}
			tl := runClientWith(t, srv, false, eio, clientOptions{}, nil, 0, 0, func(tl *tally) bool { return tl.timeouts.Load() >= 2 })
			if tl.timeouts.Load() < 2 || conns.Load() < 2 {
				t.Fatalf("%d ping timeouts over %d connections, want the client to close silent ones and reconnect", tl.timeouts.Load(), conns.Load())
			}
		})
	}
}

// readSizes is a connection that records the largest read asked of it.
type readSizes struct {
	net.Conn
	largest *atomic.Int64
}

func (c readSizes) Read(p []byte) (int, error) {
	for {
		old := c.largest.Load()
		if int64(len(p)) <= old || c.largest.CompareAndSwap(old, int64(len(p))) {
			break
		}
	}
	return c.Conn.Read(p)
}

// TestReadsUseTheConfiguredBuffer sends a 250 KB backlog message (one frame) on
// WebSocket and on polling: no read from the socket may ask for more
// than the client's read buffer, as a real client's small socket reads
// never do, and the posts must still all arrive.
func TestReadsUseTheConfiguredBuffer(t *testing.T) {
	var posts []string
	for i := range 3000 {
		posts = append(posts, benchPost(int64(i)))
	}
	backlog := `42["backlog",[` + strings.Join(posts, ",") + `]]`
	for _, size := range []int{4096, 1024} {
		for _, polling := range []bool{false, true} {
			name := map[bool]string{false: "WebSocket", true: "polling"}[polling]
			t.Run(name+"/"+strconv.Itoa(size), func(t *testing.T) {
				var srv *httptest.Server
				if polling {
					srv, _ = fakePolling(encodeTextPayload, "text/plain; charset=UTF-8", []string{backlog})
				} else {
					srv = wsFake(t, "3", func(ws *websocket.Conn, r *http.Request, send func(string)) {
						send(openPacket)
						send("40")
						send(backlog)
						for {
							if _, _, err := ws.ReadMessage(); err != nil {
								return
							}
						}
					})
				}
				defer srv.Close()
				var largest atomic.Int64
				wrap := func(c net.Conn) net.Conn { return readSizes{c, &largest} }
				tl := runClientWith(t, srv, polling, 3, clientOptions{ReadBuffer: size}, wrap, 0, 3000, func(tl *tally) bool { return tl.delivered.Load() >= 3000 })
				if got := tl.delivered.Load(); got != 3000 {
					t.Fatalf("delivered %d of 3000", got)
				}
				if l := largest.Load(); l == 0 || l > int64(size) {
					t.Fatalf("largest read %d bytes, want at most the %d-byte read buffer", l, size)
				}
			})
		}
	}
}
