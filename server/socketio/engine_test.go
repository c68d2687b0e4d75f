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

// pollUntil polls until what it got holds want, and returns all of it:
// the backlog is written by a drain that may come after the first poll.
// (EIO 4 payloads are joined with their separator.)
func pollUntil(t *testing.T, url, want string) string {
	t.Helper()
	all := ""
	for range 5 {
		_, _, body := get(t, url)
		if all != "" && strings.Contains(url, "EIO=4") {
			all += "\x1e"
		}
		if all += body; strings.Contains(all, want) {
			break
		}
	}
	return all
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
	if body = pollUntil(t, sid, "backlog"); body != `2:40`+`16:42["backlog",[]]` {
		t.Fatalf("first polls %q", body)
	}
	for _, tc := range realWorld {
		data, _ := json.Marshal(map[string]string{"text": tc.text})
		_ = h.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: tc.name, Data: data})
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
	// CONNECT and the backlog, which a drain may write after the first
	// poll: a tweet published before it is read would join it.
	if all := pollUntil(t, sid, `42["backlog",[]]`); !strings.Contains(all, `42["backlog",[]]`) {
		t.Fatalf("polls % x, want the backlog", all)
	}
	_ = h.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: "x", Data: []byte(`"🎉"`)})
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
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", tc.name, resp.StatusCode)
		}
		// A sentence that says what to give, never a Go formatting
		// artefact (go-socket.io said "invalid transport: %!s(<nil>)"),
		// and nothing of the request repeated.
		var e struct{ Message string }
		if json.Unmarshal(body, &e) != nil || e.Message == "" || strings.Contains(e.Message, "%!") || strings.Contains(e.Message, "abc") {
			t.Errorf("%s: body %q, want a JSON message in words", tc.name, body)
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

// A Socket.IO 5 client over Engine.IO 4 on WebSocket: the handshake with
// maxPayload, CONNECT with auth (resuming after `since`) answered with a
// socket id, the backlog and posts, server pings, a refused namespace,
// and a malformed packet closing the connection.
func TestWebSocketV4(t *testing.T) {
	h := hub.New(hub.Config{Backlog: 5, History: 10})
	for _, id := range []string{"a", "b", "c"} {
		_ = h.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: id, Data: []byte(`{"id":"` + id + `"}`)})
	}
	srv, _ := testServer(t, Config{Hub: h, PingInterval: 200 * time.Millisecond, PingTimeout: 500 * time.Millisecond, MaxPayload: 1000})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	read := func() string {
		t.Helper()
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) == "2" { // a ping: answer it and read on
				_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
				continue
			}
			return string(b)
		}
	}
	send := func(p string) {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	var open map[string]any
	if b := read(); b[0] != '0' || json.Unmarshal([]byte(b[1:]), &open) != nil || open["maxPayload"] != float64(1000) || open["pingInterval"] != float64(200) {
		t.Fatalf("handshake %q", b)
	}
	send(`40{"since":"a"}`)
	var connect struct{ SID string }
	if b := read(); !strings.HasPrefix(b, "40{") || json.Unmarshal([]byte(b[2:]), &connect) != nil || len(connect.SID) < 22 {
		t.Fatalf("CONNECT answered %q", b)
	}
	if got, want := read(), `42["backlog",[{"id":"b"},{"id":"c"}]]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	time.Sleep(500 * time.Millisecond) // pings come and are answered
	_ = h.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: "d", Data: []byte(`{"text":"🎉 Жж"}`)})
	if got, want := read(), `42["tweet",{"text":"🎉 Жж"}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	send(`42["hello",1]`) // dropped
	send(`40/admin,`)
	if got, want := read(), `44/admin,{"message":"Invalid namespace"}`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	send(`42{}`)
	if _, b, err := ws.ReadMessage(); err == nil {
		t.Fatalf("after a malformed packet the connection is open: got %q", b)
	}
}

// maxPayload is enforced on both transports with a clear close.
func TestMaxPayload(t *testing.T) {
	srv, _ := testServer(t, Config{MaxPayload: 100})
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, _ = ws.ReadMessage()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`42["x","`+strings.Repeat("é", 100)+`"]`))
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("after a message past maxPayload: %v, want close 1009", err)
	}

	_, _, body := get(t, srv.URL+"/socket.io/?EIO=4&transport=polling")
	var open struct{ SID string }
	_ = json.Unmarshal([]byte(body[1:]), &open)
	sid := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + open.SID
	if code, _ := post(t, sid, "text/plain;charset=UTF-8", `42["x","`+strings.Repeat("a", 100)+`"]`); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("POST past maxPayload: %d, want 413", code)
	}
	if code, _, _ := get(t, sid); code != 400 {
		t.Fatalf("poll after an oversized POST: %d, want 400", code)
	}
}

// Engine.IO 4 polling: server pings, the client's PONG keeps the session,
// binary packets travel in base64, and the upgrade to WebSocket.
func TestPollingV4PingAndUpgrade(t *testing.T) {
	srv, _ := testServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 300 * time.Millisecond})
	_, ctype, body := get(t, srv.URL+"/socket.io/?EIO=4&transport=polling")
	var open struct{ SID string }
	if ctype != "text/plain; charset=UTF-8" || json.Unmarshal([]byte(body[1:]), &open) != nil {
		t.Fatalf("handshake %s %q", ctype, body)
	}
	sid := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + open.SID
	for range 3 {
		if _, _, got := get(t, sid); got != "2" {
			t.Fatalf("poll %q, want a ping", got)
		}
		if code, _ := post(t, sid, "text/plain;charset=UTF-8", "3"); code != 200 {
			t.Fatalf("pong: %d", code)
		}
	}
	if code, _ := post(t, sid, "text/plain;charset=UTF-8", "40\x1e3"); code != 200 {
		t.Fatalf("CONNECT: %d", code)
	}
	if got := pollUntil(t, sid, `42["backlog",[]]`); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("polls %q, want CONNECT's answer and the backlog", got)
	}
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(strings.Replace(sid, "http", "ws", 1), "polling", "websocket", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if _, b, err := ws.ReadMessage(); err != nil || string(b) != "3probe" {
		t.Fatalf("probe answered %q, %v", b, err)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == "2" {
			break // the session's pings now come over the WebSocket
		}
	}
	if code, _, _ := get(t, sid); code != 400 {
		t.Fatalf("poll after the upgrade: %d, want 400", code)
	}
}

// A Socket.IO 5 client may also resume with the since query parameter,
// as 2.x clients do.
func TestSinceQueryV4(t *testing.T) {
	h := hub.New(hub.Config{Backlog: 5, History: 10})
	for _, id := range []string{"a", "b", "c"} {
		_ = h.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: id, Data: []byte(`"` + id + `"`)})
	}
	srv, _ := testServer(t, Config{Hub: h})
	base := srv.URL + "/socket.io/?EIO=4&transport=polling&since=b"
	_, _, body := get(t, base)
	var open struct{ SID string }
	_ = json.Unmarshal([]byte(body[1:]), &open)
	sid := base + "&sid=" + open.SID
	if code, _ := post(t, sid, "text/plain;charset=UTF-8", "40"); code != 200 {
		t.Fatalf("CONNECT: %d", code)
	}
	if all := pollUntil(t, sid, `42["backlog"`); !strings.HasSuffix(all, "\x1e"+`42["backlog",["c"]]`) {
		t.Fatalf("polls %q, want the backlog after b", all)
	}
}

// Session ids are credentials: another client cannot find, close, read or
// take over a session by guessing its id, on either generation and either
// transport. (go-socket.io counted: "1", "2", "3"; anyone could POST a
// close to 1–400, or upgrade a victim's sid to their own WebSocket.)
func TestSessionsCannotBeTakenOver(t *testing.T) {
	// The victim does not answer pings while the attacker tries: a long
	// heartbeat keeps its session alive for the whole test.
	srv, _ := testServer(t, Config{PingInterval: time.Minute, PingTimeout: time.Minute, MaxPendingPerAddress: 1000})
	seen := map[string]bool{}
	victims := map[string]string{} // eio -> sid
	for i := range 200 {
		eio := []string{"3", "4"}[i%2]
		_, _, body := get(t, srv.URL+"/socket.io/?EIO="+eio+"&transport=polling")
		_, rest, _ := strings.Cut(body, `"sid":"`)
		sid, _, _ := strings.Cut(rest, `"`)
		if len(sid) != 22 || strings.Trim(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("session id %q is not 128 random bits, URL-safe", sid)
		}
		if seen[sid] {
			t.Fatalf("session id %q given twice", sid)
		}
		seen[sid] = true
		victims[eio] = sid
	}
	for eio, victim := range victims {
		base := srv.URL + "/socket.io/?EIO=" + eio + "&transport="
		// The victim connects (an EIO 4 client sends CONNECT itself) and
		// takes its backlog.
		if eio == "4" {
			post(t, base+"polling&sid="+victim, "text/plain;charset=UTF-8", "40")
		}
		pollUntil(t, base+"polling&sid="+victim, "backlog")
		// The attacker tries the ids a counter would have given, and
		// ids near the victim's.
		guesses := []string{victim[:21], victim + "A", strings.ToUpper(victim), strings.ToLower(victim)}
		for i := range 50 {
			guesses = append(guesses, strconv.Itoa(i))
		}
		for _, g := range guesses {
			if g == victim {
				continue
			}
			if code, body := post(t, base+"polling&sid="+g, "text/plain;charset=UTF-8", "1:1"); code != 400 || !strings.Contains(body, `"code":1`) {
				t.Fatalf("EIO %s: a close POSTed to a guessed id %q got %d %q, want 400 Session ID unknown", eio, g, code, body)
			}
			if code, _, _ := get(t, base+"polling&sid="+g); code != 400 {
				t.Fatalf("EIO %s: a poll of a guessed id %q got %d, want 400", eio, g, code)
			}
			ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"websocket&sid="+g, nil)
			if err == nil {
				ws.Close()
				t.Fatalf("EIO %s: a WebSocket took over the guessed id %q", eio, g)
			}
			if resp != nil && resp.StatusCode != 400 {
				t.Fatalf("EIO %s: a WebSocket upgrade of a guessed id %q got %d, want 400", eio, g, resp.StatusCode)
			}
		}
		// The victim's session is untouched: its own ping is taken.
		ping := map[string]string{"3": "1:2", "4": "3"}[eio] // EIO 3 pings, EIO 4 pongs
		if code, body := post(t, base+"polling&sid="+victim, "text/plain;charset=UTF-8", ping); code != 200 {
			t.Fatalf("EIO %s: the victim's session is gone after the attempts: %d %q", eio, code, body)
		}
	}
}

// Handshakes nobody comes back to are counted, capped per address and in
// all (503 past the cap), and end within the ping timeout; a client that
// comes back is no longer pending. (40,000 abandoned handshakes took
// go-socket.io to 512 MB and 40,026 goroutines while /healthz said 0
// clients.)
func TestPendingSessionsAreCappedAndExpire(t *testing.T) {
	s := New(Config{Hub: hub.New(hub.Config{}), MaxPending: 5, MaxPendingPerAddress: 3,
		PingInterval: time.Minute, PingTimeout: 400 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Run(ctx) }()
	handshake := func(addr, eio string) (int, string) {
		req := httptest.NewRequest("GET", "/socket.io/?EIO="+eio+"&transport=polling", nil)
		req.RemoteAddr = addr + ":40000"
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		_, rest, _ := strings.Cut(rec.Body.String(), `"sid":"`)
		sid, _, _ := strings.Cut(rest, `"`)
		return rec.Code, sid
	}
	var sids []string
	for i := range 3 {
		code, sid := handshake("192.0.2.1", []string{"3", "4"}[i%2])
		if code != 200 {
			t.Fatalf("handshake %d from one address: %d", i, code)
		}
		sids = append(sids, sid)
	}
	if code, _ := handshake("192.0.2.1", "4"); code != http.StatusServiceUnavailable {
		t.Fatalf("a fourth pending handshake from one address: %d, want 503", code)
	}
	for _, addr := range []string{"192.0.2.2", "2001:db8::1"} {
		if code, _ := handshake(addr, "3"); code != 200 {
			t.Fatalf("a handshake from another address %s: %d", addr, code)
		}
	}
	if code, _ := handshake("192.0.2.3", "3"); code != http.StatusServiceUnavailable {
		t.Fatalf("a sixth pending handshake in all: %d, want 503", code)
	}
	if n := s.Pending(); n != 5 {
		t.Fatalf("Pending() = %d, want 5", n)
	}
	// The first client comes back: it is no longer pending, and outlives
	// the abandoned ones.
	req := httptest.NewRequest("POST", "/socket.io/?EIO=3&transport=polling&sid="+sids[0], strings.NewReader("1:2"))
	req.RemoteAddr = "192.0.2.1:40000"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || s.Pending() != 4 {
		t.Fatalf("a client that came back: %d, Pending() = %d, want 200 and 4", rec.Code, s.Pending())
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("abandoned handshakes still pending after the ping timeout: %d", s.Pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := handshake("192.0.2.1", "4"); code != 200 {
		t.Fatalf("a handshake once the abandoned ones expired: %d", code)
	}
	if s.Clients()["polling"] < 1 {
		t.Errorf("the client that came back was closed with the abandoned ones: %v", s.Clients())
	}
}
