package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func benchPost(seq int64) string {
	return fmt.Sprintf(`{"id":"bench:%d","text":"Post %d","ts":"%d"}`, seq, seq, time.Now().UnixNano())
}

const openPacket = `0{"sid":"s1","upgrades":[],"pingInterval":100,"pingTimeout":1000}`

// runClient runs one client of Engine.IO protocol eio against srv until
// want deliveries arrived and pinged holds (or 5 s passed), and returns
// its tally.
func runClient(t *testing.T, srv *httptest.Server, polling bool, eio int, first, count, want int64, pinged func() bool) *tally {
	t.Helper()
	return runClientWith(t, srv, polling, eio, clientOptions{}, nil, first, count, func(tl *tally) bool {
		return tl.delivered.Load() >= want && pinged()
	})
}

// runClientWith runs one client with opts, its connections wrapped by wrap
// (if given), until done holds or 5 s passed.
func runClientWith(t *testing.T, srv *httptest.Server, polling bool, eio int, opts clientOptions, wrap func(net.Conn) net.Conn, first, count int64, done func(*tally) bool) *tally {
	t.Helper()
	base, _ := url.Parse(srv.URL)
	tl := &tally{}
	tl.first.Store(first)
	tl.count.Store(count)
	env := newClientEnv(base, polling, eio, 1, tl, opts)
	env.dialer = newDialer(0) // the test server listens on 127.0.0.1 only
	dial := env.dialer.DialContext
	if wrap != nil {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := env.dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return wrap(c), nil
		}
	}
	env.wsDial.NetDialContext = dial
	env.http.Transport.(*http.Transport).DialContext = dial
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{env: env}
	var wg sync.WaitGroup
	wg.Go(func() { c.run(ctx, func(error) {}) })
	waitUntil(ctx, 5*time.Second, func() bool { return done(tl) })
	cancel()
	wg.Wait()
	return tl
}

// TestWebSocketClientReconnectsWithSince plays a server that drops the
// client after one post and, on the reconnection, sends what it missed as
// a backlog, as Tweetwire does for a client dropped as slow.
func TestWebSocketClientReconnectsWithSince(t *testing.T) {
	var conns, pings atomic.Int32
	var since atomic.Value
	srv := wsFake(t, "3", func(ws *websocket.Conn, r *http.Request, send func(string)) {
		send(openPacket)
		send("40")
		if conns.Add(1) == 1 {
			send(`42["backlog",[]]`)
			send(`42["tweet",` + benchPost(10) + `]`)
			send(`42["other",{"id":"bench:11","ts":"1"}]`) // not a post event
			return                                         // drop the client
		}
		since.Store(r.URL.Query().Get("since"))
		send(`42["backlog",[` + benchPost(11) + `,` + benchPost(12) + `]]`)
		send(`42["tweet",` + benchPost(12) + `]`) // a duplicate
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if string(msg) == "2" {
				pings.Add(1)
				send("3")
			}
		}
	})
	defer srv.Close()

	tl := runClient(t, srv, false, 3, 10, 3, 3, func() bool { return pings.Load() > 0 })
	if got := tl.delivered.Load(); got != 3 {
		t.Fatalf("delivered %d, want 3", got)
	}
	if s, _ := since.Load().(string); s != "bench:10" {
		t.Fatalf("reconnected with since=%q, want bench:10", s)
	}
	if tl.drops.Load() != 1 || tl.reconnect.Load() != 1 || tl.dups.Load() != 1 {
		t.Fatalf("drops %d reconnects %d dups %d, want 1 each", tl.drops.Load(), tl.reconnect.Load(), tl.dups.Load())
	}
	if tl.hist.Count() != 3 {
		t.Fatalf("%d latencies recorded, want 3", tl.hist.Count())
	}
	if pings.Load() == 0 {
		t.Fatal("the client never pinged")
	}
}

// fakePolling serves Engine.IO v3 long polling with the given payload
// encoder: one open+connect handshake, then each post once, then noops.
func fakePolling(encode func(...string) []byte, contentType string, posts []string) (*httptest.Server, *atomic.Int32) {
	var mu sync.Mutex
	queue := append([]string(nil), posts...)
	var pings atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("EIO") != "3" || q.Get("transport") != "polling" {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		if r.Method == http.MethodPost {
			if q.Get("sid") != "s1" {
				http.Error(w, "unknown sid", http.StatusBadRequest)
				return
			}
			pings.Add(1)
			_, _ = w.Write([]byte("ok"))
			return
		}
		w.Header().Set("Content-Type", contentType)
		if q.Get("sid") == "" {
			_, _ = w.Write(encode(openPacket, "40"))
			return
		}
		mu.Lock()
		batch := queue
		queue = nil
		mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			_, _ = w.Write(encode("6"))
			return
		}
		_, _ = w.Write(encode(batch...))
	}))
	return srv, &pings
}

// binaryPayload is go-socket.io's encoding of string packets.
func binaryPayload(ps ...string) []byte {
	var b []byte
	for _, p := range ps {
		b = append(b, 0)
		for _, d := range strconv.Itoa(len(p)) {
			b = append(b, byte(d-'0'))
		}
		b = append(append(b, 0xff), p...)
	}
	return b
}

func TestPollingClient(t *testing.T) {
	posts := []string{
		`42["backlog",[]]`,
		`42["tweet",` + benchPost(0) + `]`,
		`42["tweet",` + benchPost(1) + `]`,
		`3`,
		`42["tweet",` + benchPost(2) + `]`,
	}
	tests := []struct {
		name        string
		encode      func(...string) []byte
		contentType string
	}{
		{"Node.js: text payload", encodeTextPayload, "text/plain; charset=UTF-8"},
		{"go-socket.io: binary payload", binaryPayload, "application/octet-stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, pings := fakePolling(tc.encode, tc.contentType, posts)
			defer srv.Close()
			tl := runClient(t, srv, true, 3, 0, 3, 3, func() bool { return pings.Load() > 0 })
			if got := tl.delivered.Load(); got != 3 {
				t.Fatalf("delivered %d, want 3", got)
			}
			if tl.connected.Load() != 1 || tl.drops.Load() != 0 {
				t.Fatalf("connected %d drops %d, want 1 and 0", tl.connected.Load(), tl.drops.Load())
			}
			if pings.Load() == 0 {
				t.Fatal("the client never pinged")
			}
		})
	}
}

// nonASCIIPost is a bench post whose text is not ASCII: Engine.IO v4
// payloads carry no lengths, so nothing may depend on counting them.
func nonASCIIPost(seq int64) string {
	return fmt.Sprintf(`{"id":"bench:%d","text":"Café 😀 日本語: «%d»","ts":"%d"}`, seq, seq, time.Now().UnixNano())
}

const openPacketV4 = `0{"sid":"s4","upgrades":[],"pingInterval":100,"pingTimeout":1000,"maxPayload":1000000}`

// TestWebSocketClientV4 plays a Socket.IO v5 server: it connects the
// client only after its CONNECT, pings, and sends posts only after the
// PONG, so a client that skips either receives nothing.
func TestWebSocketClientV4(t *testing.T) {
	var clientPings, pongs atomic.Int32
	var connectMsg atomic.Value
	srv := wsFake(t, "4", func(ws *websocket.Conn, r *http.Request, send func(string)) {
		send(openPacketV4)
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		connectMsg.Store(string(msg))
		if string(msg) != "40" {
			send(`44{"message":"want CONNECT"}`)
			return
		}
		send(`40{"sid":"sock1"}`)
		send("2probe")
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			switch string(msg) {
			case "3probe":
				if pongs.Add(1) == 1 {
					send(`42["backlog",[]]`)
					send(`42["tweet",` + nonASCIIPost(0) + `]`)
					send(`42["tweet",` + nonASCIIPost(1) + `]`)
					send(`42["tweet",` + nonASCIIPost(2) + `]`)
				}
				send("2probe")
			case "2":
				clientPings.Add(1)
			}
		}
	})
	defer srv.Close()

	tl := runClient(t, srv, false, 4, 0, 3, 3, func() bool { return pongs.Load() > 1 })
	if s, _ := connectMsg.Load().(string); s != "40" {
		t.Fatalf("first message %q, want the CONNECT 40", s)
	}
	checkV4Run(t, tl, pongs.Load(), clientPings.Load())
}

// TestPollingClientV4 plays Engine.IO v4 long polling: the handshake
// answers the open packet alone, the CONNECT and PONGs come as POSTs, and
// payloads are joined by \x1e without lengths.
func TestPollingClientV4(t *testing.T) {
	var mu sync.Mutex
	var queue []string
	var pongs, clientPings atomic.Int32
	var badPost atomic.Value
	push := func(ps ...string) { mu.Lock(); queue = append(queue, ps...); mu.Unlock() }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("EIO") != "4" || q.Get("transport") != "polling" {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		if r.Method == http.MethodPost {
			if q.Get("sid") != "s4" {
				http.Error(w, "unknown sid", http.StatusBadRequest)
				return
			}
			body, _ := io.ReadAll(r.Body)
			ps, err := decodePayloadV4(body)
			if err != nil {
				badPost.Store(err.Error())
			}
			for _, p := range ps {
				switch s := string(p.Type) + string(p.Data); s {
				case "40":
					push(`40{"sid":"sock1"}`, "2")
				case "3":
					if pongs.Add(1) == 1 {
						push(`42["backlog",[]]`, `42["tweet",`+nonASCIIPost(0)+`]`, `42["tweet",`+nonASCIIPost(1)+`]`)
						push(`42["tweet",` + nonASCIIPost(2) + `]`)
					}
					push("2")
				case "2":
					clientPings.Add(1)
				default:
					badPost.Store("unexpected packet " + s)
				}
			}
			_, _ = w.Write([]byte("ok"))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		if q.Get("sid") == "" {
			_, _ = w.Write([]byte(openPacketV4))
			return
		}
		mu.Lock()
		batch := queue
		queue = nil
		mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			_, _ = w.Write([]byte("6"))
			return
		}
		_, _ = w.Write(encodePayloadV4(batch...))
	}))
	defer srv.Close()

	tl := runClient(t, srv, true, 4, 0, 3, 3, func() bool { return pongs.Load() > 1 })
	if s, _ := badPost.Load().(string); s != "" {
		t.Fatalf("a POST the server could not take: %s", s)
	}
	checkV4Run(t, tl, pongs.Load(), clientPings.Load())
}

// checkV4Run is what every Engine.IO v4 client run must show: the 3 posts
// delivered on one connection without a drop, every server ping answered,
// and no ping of the client's own.
func checkV4Run(t *testing.T, tl *tally, pongs, clientPings int32) {
	t.Helper()
	if got := tl.delivered.Load(); got != 3 {
		t.Fatalf("delivered %d, want 3", got)
	}
	if tl.connected.Load() != 1 || tl.drops.Load() != 0 {
		t.Fatalf("connected %d drops %d, want 1 and 0", tl.connected.Load(), tl.drops.Load())
	}
	if pongs < 2 {
		t.Fatalf("%d pongs, want the client to answer every ping", pongs)
	}
	if clientPings != 0 {
		t.Fatalf("the client pinged %d times; v4 clients only answer", clientPings)
	}
}

// wsFake serves a scripted Engine.IO server on WebSocket: it refuses any
// request but the protocol version eio asks for on the websocket
// transport, upgrades, and hands serve the connection, the request and a
// function that sends one text message. The caller closes the server.
func wsFake(t *testing.T, eio string, serve func(ws *websocket.Conn, r *http.Request, send func(string))) *httptest.Server {
	t.Helper()
	// One frame a message, however long, as Node's ws and Tweetwire
	// send them (gorilla's default 4 KiB write buffer would split it).
	up := websocket.Upgrader{WriteBufferSize: 1 << 18}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("EIO") != eio || r.URL.Query().Get("transport") != "websocket" {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		serve(ws, r, func(s string) { _ = ws.WriteMessage(websocket.TextMessage, []byte(s)) })
	}))
}
