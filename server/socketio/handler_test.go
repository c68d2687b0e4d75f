package socketio

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoHandler answers as the official test suite's server does.
type echoHandler struct{}

func (echoHandler) Namespace(nsp string) bool { return nsp == "/" || nsp == "/custom" }

func (echoHandler) Connected(s *Socket) {
	auth := s.Auth
	if auth == nil {
		auth = json.RawMessage(`{}`)
	}
	_ = s.Emit("auth", []json.RawMessage{auth}, nil)
}

func (echoHandler) Event(s *Socket, e Event) {
	switch e.Name {
	case "message":
		_ = s.Emit("message-back", e.Args, e.Attachments)
	case "message-with-ack":
		if e.Ack != nil {
			_ = e.Ack(e.Args, e.Attachments)
		}
	}
}

// Binary attachments and acks over EIO 4 WebSocket: attachments are raw
// binary messages after their packet, and go back the same way.
func TestHandlerBinaryAndAcksOnWebSocket(t *testing.T) {
	srv, _ := testServer(t, Config{Handler: echoHandler{}})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	read := func() (int, string) {
		t.Helper()
		typ, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return typ, string(b)
	}
	write := func(typ int, p string) {
		t.Helper()
		if err := ws.WriteMessage(typ, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	read() // handshake
	write(websocket.TextMessage, `40/custom,{"token":"é🎉"}`)
	if _, b := read(); !strings.HasPrefix(b, `40/custom,{"sid":"`) {
		t.Fatalf("CONNECT answered %q", b)
	}
	if _, b := read(); b != `42/custom,["auth",{"token":"é🎉"}]` {
		t.Fatalf("got %q", b)
	}
	write(websocket.TextMessage, `40`)
	read()
	read()
	for _, tc := range []struct{ send, want string }{
		{`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, `452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
		{`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, `462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
	} {
		write(websocket.TextMessage, tc.send)
		write(websocket.BinaryMessage, "\x01\x02\x03")
		write(websocket.BinaryMessage, "\x04\x05\x06")
		if _, b := read(); b != tc.want {
			t.Fatalf("got %q, want %q", b, tc.want)
		}
		for _, want := range []string{"\x01\x02\x03", "\x04\x05\x06"} {
			if typ, b := read(); typ != websocket.BinaryMessage || b != want {
				t.Fatalf("attachment: type %d % x, want binary % x", typ, b, want)
			}
		}
	}
	write(websocket.TextMessage, `42456["message-with-ack",1,"Привет",{"3":[false]}]`)
	if _, b := read(); b != `43456[1,"Привет",{"3":[false]}]` {
		t.Fatalf("ack %q", b)
	}
	// A packet before the attachments of the last one closes.
	write(websocket.TextMessage, `451-["message",{"_placeholder":true,"num":0}]`)
	write(websocket.TextMessage, `42["message",1]`)
	if _, b, err := ws.ReadMessage(); err == nil {
		t.Fatalf("connection still open: %q", b)
	}
}

// Binary attachments on polling travel in base64: "b<base64>" in EIO 4,
// "b4<base64>" in an EIO 3 text payload.
func TestHandlerBinaryOnPolling(t *testing.T) {
	srv, _ := testServer(t, Config{Handler: echoHandler{}})
	for _, tc := range []struct {
		name, query, connect, send, want string
	}{
		{"EIO 4", "EIO=4", "40", `451-["message",{"_placeholder":true,"num":0}]` + "\x1ebAQID",
			`451-["message-back",{"_placeholder":true,"num":0}]` + "\x1ebAQID"},
		{"EIO 3 b64", "EIO=3&b64=1", "", frame3(`51-["message",{"_placeholder":true,"num":0}]`) + "6:b4AQID",
			frame3(`51-["message-back",{"_placeholder":true,"num":0}]`) + "6:b4AQID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := srv.URL + "/socket.io/?transport=polling&" + tc.query
			_, _, body := get(t, base)
			var open struct{ SID string }
			if err := json.Unmarshal([]byte(body[strings.IndexByte(body, '{'):]), &open); err != nil {
				t.Fatalf("handshake %q", body)
			}
			sid := base + "&sid=" + open.SID
			if tc.connect != "" {
				post(t, sid, "text/plain;charset=UTF-8", tc.connect)
			}
			pollUntil(t, sid, `"auth"`)
			if code, _ := post(t, sid, "text/plain;charset=UTF-8", tc.send); code != 200 {
				t.Fatalf("post: %d", code)
			}
			if got := pollUntil(t, sid, "AQID"); got != tc.want {
				t.Fatalf("poll %q, want %q", got, tc.want)
			}
		})
	}
}

// frame3 is an EIO 3 text payload of one MESSAGE (ASCII only).
func frame3(msg string) string { return fmt.Sprintf("%d:4%s", 1+len(msg), msg) }
