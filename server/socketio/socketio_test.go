package socketio

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetwire/tweetwire/server/hub"
)

// The packets we write by hand must be what socket.io-client parses: a
// Socket.IO EVENT packet whose payload is the JSON array [event, data].
func TestFramesAreSocketIOEvents(t *testing.T) {
	backlog := hub.JSONArray([]*hub.Message{{Data: []byte(`{"id":"a"}`)}, {Data: []byte(`{"id":"b"}`)}})
	got := []string{
		string(eventPacket(hub.KindBacklog, backlog)),
		string(eventPacket(hub.KindBacklog, hub.JSONArray(nil))),
		string(eventBody(&hub.Message{Kind: hub.KindTweet, Data: []byte(`{"id":"c","text":"\u003cb\u003e"}`)})),
	}
	want := []string{`2["backlog",[{"id":"a"},{"id":"b"}]]`, `2["backlog",[]]`, `2["tweet",{"id":"c","text":"\u003cb\u003e"}]`}
	for i, f := range got {
		if f != want[i] {
			t.Errorf("packet %d = %s, want %s", i, f, want[i])
		}
		var arr []json.RawMessage
		if err := json.Unmarshal([]byte(f[1:]), &arr); err != nil || len(arr) != 2 {
			t.Errorf("packet %d payload is not a two-element JSON array: %v", i, err)
		}
	}
	// The polling body shares the WebSocket frame's bytes at every length
	// encoding.
	for _, size := range []int{0, 118, 119, 65526, 65527, 70000} {
		m := &hub.Message{Kind: hub.KindTweet, Data: []byte(`"` + strings.Repeat("x", size) + `"`)}
		if got, want := string(eventBody(m)), `2["tweet",`+string(m.Data)+`]`; got != want {
			t.Errorf("eventBody of %d bytes: %d bytes, want %d", size, len(got), len(want))
		}
	}
}

// The frames written straight to the TCP connection must be what a
// WebSocket client reads as text messages, at each length encoding (7-bit,
// 16-bit, 64-bit), several in one write, and must honour the deadline.
func TestWSFramesReachAWebSocketClient(t *testing.T) {
	accepted := make(chan *wsConn, 1)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		accepted <- newWSConn(c, engineConfig{maxPayload: 1 << 10, writeTimeout: 10 * time.Second})
	}))
	defer srv.Close()
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c := <-accepted
	defer c.close(websocket.CloseNormalClosure, "")
	var batch []*hub.Message
	for _, size := range []int{0, 110, 118, 119, 500, 65526, 65527, 70000} {
		data := []byte(`"` + strings.Repeat("x", size) + `"`)
		batch = append(batch, &hub.Message{Kind: hub.KindTweet, ID: strconv.Itoa(size), Data: data})
	}
	go func() {
		if err := c.writeFrames(batch); err != nil {
			t.Error(err)
		}
	}()
	for _, m := range batch {
		typ, got, err := client.ReadMessage()
		if err != nil {
			t.Fatalf("reading the frame for %d bytes: %v", len(m.Data), err)
		}
		if want := `42["tweet",` + string(m.Data) + `]`; typ != websocket.TextMessage || string(got) != want {
			t.Fatalf("message of %d bytes: type %d, %d bytes, want text of %d", len(m.Data), typ, len(got), len(want))
		}
	}
	// A client that stopped reading: the write gives up at the deadline.
	c.writeMu.Lock()
	c.timeout, c.applied = 200*time.Millisecond, time.Time{}
	c.writeMu.Unlock()
	big := []*hub.Message{{Kind: hub.KindTweet, ID: "big", Data: []byte(`"` + strings.Repeat("y", 64<<20) + `"`)}}
	if err := c.writeFrames(big); err == nil {
		t.Fatal("a 64 MB write to a client that reads nothing succeeded")
	}
}

// The Socket.IO layer as a client sees it, over a real Engine.IO session:
// CONNECT, the backlog, posts as events, a refused namespace, and the
// client's DISCONNECT ending the session.
func TestSocketIOSession(t *testing.T) {
	h := hub.New(hub.Config{Backlog: 5})
	_ = h.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: "a", Data: []byte(`{"id":"a"}`)})
	s := New(Config{Hub: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Run(ctx) }()
	srv := httptest.NewServer(s)
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	read := func() string {
		t.Helper()
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if open := read(); !strings.HasPrefix(open, `0{"sid":"`) {
		t.Fatalf("first packet %q, want the Engine.IO open packet", open)
	}
	for _, want := range []string{`40`, `42["backlog",[{"id":"a"}]]`} {
		if got := read(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if got := s.Clients()["websocket"]; got != 1 {
		t.Fatalf("Clients()[websocket] = %d, want 1", got)
	}
	_ = h.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: "b", Data: []byte(`{"id":"b"}`)})
	if got, want := read(), `42["tweet",{"id":"b"}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Events from a client are dropped; a namespace it asks for is refused.
	for _, p := range []string{`42["hello",1]`, `40/admin`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := read(), `44/admin,"Invalid namespace"`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`41`)); err != nil {
		t.Fatal(err)
	}
	if _, b, err := ws.ReadMessage(); err == nil {
		t.Fatalf("after the client's DISCONNECT the session is still open: got %q", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for (h.Clients() != 0 || s.Clients()["websocket"] != 0) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.Clients() != 0 || s.Clients()["websocket"] != 0 {
		t.Fatalf("after disconnect: hub has %d clients, server counts %v", h.Clients(), s.Clients())
	}
}
