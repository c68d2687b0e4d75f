package socketio

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetwire/tweetwire/server/hub"
)

// clientFrame is one client-to-server WebSocket frame, masked unless
// unmasked is set.
func clientFrame(op byte, fin bool, payload string, unmasked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if unmasked {
		return append([]byte{b0, byte(len(payload))}, payload...)
	}
	mask := []byte{0x12, 0x34, 0x56, 0x78}
	f := append([]byte{b0, 0x80 | byte(len(payload))}, mask...)
	for i := range len(payload) {
		f = append(f, payload[i]^mask[i&3])
	}
	return f
}

// dialEIO3 opens an Engine.IO 3 WebSocket and reads its handshake, its
// Socket.IO CONNECT and its backlog.
func dialEIO3(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, want := range []string{"0{", "40", `42["backlog"`} {
		if _, b, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(b), want) {
			t.Fatalf("read %q, %v; want %s...", b, err, want)
		}
	}
	return ws
}

// The server reads client frames itself, a frame at a time: messages
// that arrive in one TCP segment are all answered, a message in
// fragments is joined, and a WebSocket ping between the fragments is
// answered with its payload.
func TestClientFramesInOneWriteAndFragments(t *testing.T) {
	srv, _ := testServer(t, Config{})
	ws := dialEIO3(t, srv.URL)
	pong := make(chan string, 1)
	ws.SetPongHandler(func(data string) error { pong <- data; return nil })
	var all []byte
	all = append(all, clientFrame(websocket.TextMessage, true, "2a", false)...)
	all = append(all, clientFrame(websocket.TextMessage, true, "2b", false)...)
	all = append(all, clientFrame(websocket.TextMessage, false, "2", false)...)
	all = append(all, clientFrame(websocket.PingMessage, true, "hi", false)...)
	all = append(all, clientFrame(0, true, "c", false)...)
	if _, err := ws.UnderlyingConn().Write(all); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3a", "3b", "3c"} {
		_, b, err := ws.ReadMessage() // runs the pong handler on the way
		if err != nil || string(b) != want {
			t.Fatalf("read %q, %v; want %q", b, err, want)
		}
	}
	if got := <-pong; got != "hi" {
		t.Fatalf("pong %q, want the ping's payload", got)
	}
}

// A client frame that breaks RFC 6455 (here: not masked) closes the
// connection with 1002, as gorilla's reader did.
func TestUnmaskedClientFrameCloses(t *testing.T) {
	srv, _ := testServer(t, Config{})
	ws := dialEIO3(t, srv.URL)
	if _, err := ws.UnderlyingConn().Write(clientFrame(websocket.TextMessage, true, "2", true)); err != nil {
		t.Fatal(err)
	}
	_, _, err := ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseProtocolError) {
		t.Fatalf("after an unmasked frame: %v, want close 1002", err)
	}
}

// An idle WebSocket keeps no goroutine on Linux: the engine's poller
// waits for all of them, and a reader runs only while a client has sent
// something. A client's ping still gets its pong afterwards.
func TestIdleWebSocketsHoldNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the poller is epoll: elsewhere each WebSocket keeps a reader")
	}
	srv, h := testServer(t, Config{})
	dialEIO3(t, srv.URL) // the poller and the server's own goroutines start
	before := runtime.NumGoroutine()
	const n = 100
	clients := make([]*websocket.Conn, n)
	for i := range clients {
		clients[i] = dialEIO3(t, srv.URL)
	}
	if h.Clients() != n+1 {
		t.Fatalf("%d clients subscribed, want %d", h.Clients(), n+1)
	}
	// Each client's first drain ends once its backlog is written; a few
	// may still be ending now, hence the margin.
	if grew := runtime.NumGoroutine() - before; grew >= n/2 {
		t.Fatalf("%d idle WebSockets added %d goroutines", n, grew)
	}
	for _, ws := range clients {
		if err := ws.WriteMessage(websocket.TextMessage, []byte("2")); err != nil {
			t.Fatal(err)
		}
	}
	for _, ws := range clients {
		if _, b, err := ws.ReadMessage(); err != nil || !bytes.Equal(b, []byte("3")) {
			t.Fatalf("ping answered %q, %v", b, err)
		}
	}
}

// A client that stops reading fills its socket: the writers leave the
// rest of its posts to a goroutine of its own and go on writing to the
// others, and once it reads again it gets every post once, whole and in
// order (a frame cut where the socket was full goes on from that byte).
func TestFullSocketDoesNotHoldUpTheWriters(t *testing.T) {
	h := hub.New(hub.Config{Backlog: -1, QueueSize: 100000})
	srv, _ := testServer(t, Config{Hub: h})
	stalled, reader := dialEIO3(t, srv.URL), dialEIO3(t, srv.URL)
	const posts = 2000
	pad := strings.Repeat("p", 8<<10) // 16 MB in all: past any socket buffer
	body := func(i int) string { return `"` + strconv.Itoa(i) + pad + `"` }
	for i := range posts {
		_ = h.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: strconv.Itoa(i), Data: []byte(body(i))})
	}
	for i := range posts {
		_, b, err := reader.ReadMessage()
		if err != nil {
			t.Fatalf("the reading client, post %d: %v", i, err)
		}
		if len(b) != len(`42["tweet",]`)+len(body(i)) {
			t.Fatalf("the reading client, post %d: %d bytes", i, len(b))
		}
	}
	for i := range posts {
		_, b, err := stalled.ReadMessage()
		if err != nil {
			t.Fatalf("the stalled client, post %d: %v", i, err)
		}
		if want := `42["tweet",` + body(i) + `]`; string(b) != want {
			t.Fatalf("the stalled client, post %d: %d bytes, not that post", i, len(b))
		}
	}
}
