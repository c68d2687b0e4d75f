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

	"github.com/tweetwire/tweetwire/server/hub"
)

// testServer runs a product Server (hub feed, client events dropped) on
// loopback.
func testServer(t *testing.T, cfg Config) (*httptest.Server, *hub.Hub) {
	t.Helper()
	if cfg.Hub == nil && cfg.Handler == nil {
		cfg.Hub = hub.New(hub.Config{Backlog: 5})
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = s.Run(ctx) }()
	srv := httptest.NewServer(s)
	t.Cleanup(func() { srv.Close(); cancel() })
	return srv, cfg.Hub
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func post(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An EIO 3 client that asked for b64 (every socket.io-client 2.x in
// Node.js) gets text payloads whose lengths are UTF-16 code units, and
// its own POSTs, framed the same way, are read.
func TestPollingV3TextPayloads(t *testing.T) {
	srv, h := testServer(t, Config{})
	base := srv.URL + "/socket.io/?EIO=3&transport=polling&b64=1"
	code, ctype, body := get(t, base)
	if code != 200 || !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("handshake: %d %s %q", code, ctype, body)
	}
	colon := strings.IndexByte(body, ':')
	var open struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int      `json:"pingInterval"`
	}
	if err := json.Unmarshal([]byte(body[colon+2:]), &open); err != nil || len(open.SID) < 22 {
		t.Fatalf("handshake %q: %v", body, err)
	}
	sid := base + "&sid=" + open.SID
	if _, _, body = get(t, sid); body != `2:40`+`16:42["backlog",[]]` {
		t.Fatalf("first poll %q", body)
	}
	for _, tc := range realWorld {
		data, _ := json.Marshal(map[string]string{"text": tc.text})
		_ = h.Publish(context.Background(), &hub.Message{Event: hub.EventTweet, ID: tc.name, Data: data})
		msg := `42["tweet",` + string(data) + `]`
		want := strings.Join([]string{itoa(jsLen(msg)), ":", msg}, "")
		if _, _, got := get(t, sid); got != want {
			t.Fatalf("%s: poll %q, want %q", tc.name, got, want)
		}
	}
	// A 2.x client's ping and an event full of non-ASCII text, as it
	// POSTs them: the ping is answered, the event read and dropped.
	ev := `42["hi","Café 🎉 שלום"]`
	if code, body := post(t, sid, "text/plain;charset=UTF-8", "1:2"+itoa(jsLen(ev))+":"+ev); code != 200 || body != "ok" {
		t.Fatalf("post: %d %q", code, body)
	}
	if _, _, body := get(t, sid); body != "1:3" {
		t.Fatalf("poll after ping %q, want the pong", body)
	}
	// A length in bytes is a parser error: 400, and the session is gone.
	if code, _ := post(t, sid, "text/plain;charset=UTF-8", "3:4é"); code != 400 {
		t.Fatalf("post with a byte length: %d, want 400", code)
	}
	if code, _, _ := get(t, sid); code != 400 {
		t.Fatalf("poll after a parser error: %d, want 400", code)
	}
}

// A 2.x browser client (no b64) gets binary payloads, as before.
func TestPollingV3BinaryPayloads(t *testing.T) {
	srv, h := testServer(t, Config{})
	base := srv.URL + "/socket.io/?EIO=3&transport=polling"
	_, ctype, body := get(t, base)
	if ctype != "application/octet-stream" || body[0] != 0 {
		t.Fatalf("handshake: %s % x", ctype, body[:8])
	}
	var open struct{ SID string }
	_ = json.Unmarshal([]byte(body[strings.IndexByte(body, 0xFF)+2:]), &open)
	sid := base + "&sid=" + open.SID
	get(t, sid) // CONNECT and the backlog
	_ = h.Publish(context.Background(), &hub.Message{Event: hub.EventTweet, ID: "x", Data: []byte(`"🎉"`)})
	_, _, body = get(t, sid)
	want := "\x00\x01\x08\xff" + `42["tweet","🎉"]` // 18 bytes
	if body != want {
		t.Fatalf("poll % x, want % x", body, want)
	}
	ev := `42["hi","é"]`
	bin := "\x00" + "\x01\x03" + "\xff" + ev // 13 bytes
	if code, body := post(t, sid, "application/octet-stream", bin); code != 200 || body != "ok" {
		t.Fatalf("binary post: %d %q", code, body)
	}
}

// JSONP is refused with a clear 400 that does not echo the parameter.
func TestJSONPRefused(t *testing.T) {
	srv, _ := testServer(t, Config{})
	code, _, body := get(t, srv.URL+"/socket.io/?EIO=3&transport=polling&j=alert(1)")
	if code != 400 || strings.Contains(body, "alert") || !strings.Contains(body, "JSONP") {
		t.Fatalf("JSONP: %d %q", code, body)
	}
}

// Requests the engine must refuse, as the Engine.IO test suite expects.
func TestBadRequests(t *testing.T) {
	srv, _ := testServer(t, Config{})
	for _, tc := range []struct{ name, method, query string }{
		{"no EIO", "GET", "transport=polling"},
		{"bad EIO", "GET", "EIO=abc&transport=polling"},
		{"no transport", "GET", "EIO=4"},
		{"bad transport", "GET", "EIO=4&transport=abc"},
		{"handshake by POST", "POST", "EIO=4&transport=polling"},
		{"handshake by PUT", "PUT", "EIO=4&transport=polling"},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+"/socket.io/?"+tc.query, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", tc.name, resp.StatusCode)
		}
	}
}

// A foreign Origin is refused on both transports and generations.
func TestOriginRefused(t *testing.T) {
	srv, _ := testServer(t, Config{CheckOrigin: func(o string, _ *http.Request) bool { return o == "http://ok" }})
	for _, q := range []string{"EIO=3&transport=polling", "EIO=4&transport=polling", "EIO=3&transport=websocket", "EIO=4&transport=websocket"} {
		for origin, want := range map[string]int{"http://evil": 403, "http://ok": 200} {
			req, _ := http.NewRequest("GET", srv.URL+"/socket.io/?"+q, nil)
			req.Header.Set("Origin", origin)
			if strings.Contains(q, "websocket") {
				req.Header.Set("Connection", "Upgrade")
				req.Header.Set("Upgrade", "websocket")
				req.Header.Set("Sec-WebSocket-Version", "13")
				req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
				if want == 200 {
					want = 101
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			resp, err := http.DefaultClient.Do(req.WithContext(ctx))
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			resp.Body.Close()
			cancel()
			if resp.StatusCode != want {
				t.Errorf("%s from %s: %d, want %d", q, origin, resp.StatusCode, want)
			}
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
