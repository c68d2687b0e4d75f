package socketio

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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
