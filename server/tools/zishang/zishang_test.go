package zishang

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/hub"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// harness is a Server on a loopback port with its hub.
type harness struct {
	t   *testing.T
	hub *hub.Hub
	srv *Server
	ts  *httptest.Server
}

func start(t *testing.T, hcfg hub.Config) *harness {
	t.Helper()
	h := hub.New(hcfg)
	srv := New(Config{
		Hub: h,
		CheckOrigin: func(origin string, _ *http.Request) bool {
			return origin == "chrome-extension://fjamhnalbnojmognfhnilhlakmampnfa"
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		if err := srv.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		cancel()
		<-ran
		ts.Close()
	})
	return &harness{t: t, hub: h, srv: srv, ts: ts}
}

func (h *harness) publish(ids ...string) {
	h.t.Helper()
	for _, id := range ids {
		data := fmt.Sprintf(`{"id":%q,"text":"post %s"}`, id, id)
		if err := h.hub.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: id, Data: json.RawMessage(data)}); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) url(scheme string, q url.Values) string {
	u, _ := url.Parse(h.ts.URL)
	u.Scheme = scheme
	u.Path = "/socket.io/"
	q.Set("EIO", "3")
	u.RawQuery = q.Encode()
	return u.String()
}

// wsClient is socket.io-client 2.x on WebSocket, reduced to what the
// tests need: it reads Engine.IO packets and never pings (each test ends
// well within the heartbeat).
type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func (h *harness) dialWS(t *testing.T, since string, header http.Header) (*wsClient, *http.Response, error) {
	q := url.Values{"transport": {"websocket"}}
	if since != "" {
		q.Set("since", since)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(h.url("ws", q), header)
	if err != nil {
		return nil, resp, err
	}
	c := &wsClient{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })
	return c, resp, nil
}

// next returns the next Engine.IO packet, e.g. `42["tweet",{...}]`.
func (c *wsClient) next() string {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("reading from the server: %v", err)
	}
	return string(b)
}

// connect reads the open packet and the Socket.IO CONNECT and returns the
// backlog event.
func (c *wsClient) connect() string {
	c.t.Helper()
	if p := c.next(); !strings.HasPrefix(p, "0{") || !strings.Contains(p, `"sid":`) {
		c.t.Fatalf("first packet = %q, want the Engine.IO open packet", p)
	}
	if p := c.next(); p != "40" {
		c.t.Fatalf("second packet = %q, want the Socket.IO CONNECT 40", p)
	}
	return c.next()
}

func tweet(id string) string {
	return fmt.Sprintf(`42["tweet",{"id":%q,"text":"post %s"}]`, id, id)
}

func backlog(ids ...string) string {
	var posts []string
	for _, id := range ids {
		posts = append(posts, fmt.Sprintf(`{"id":%q,"text":"post %s"}`, id, id))
	}
	return `42["backlog",[` + strings.Join(posts, ",") + `]]`
}

func TestWebSocketGetsBacklogThenPostsInOrder(t *testing.T) {
	h := start(t, hub.Config{Backlog: 2})
	h.publish("p1", "p2", "p3")
	c, _, err := h.dialWS(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.connect(), backlog("p2", "p3"); got != want {
		t.Fatalf("backlog = %s, want %s", got, want)
	}
	h.publish("p4", "p5", "p6")
	for _, id := range []string{"p4", "p5", "p6"} {
		if got, want := c.next(), tweet(id); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	if got := h.srv.Clients(); got["websocket"] != 1 || got["polling"] != 0 {
		t.Errorf("Clients() = %v, want one websocket", got)
	}
}

func TestSinceGivesThePostsAfterIt(t *testing.T) {
	h := start(t, hub.Config{Backlog: 1})
	h.publish("p1", "p2", "p3", "p4")
	c, _, err := h.dialWS(t, "p1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.connect(), backlog("p2", "p3", "p4"); got != want {
		t.Fatalf("backlog after since=p1 = %s, want %s", got, want)
	}
	h.publish("p5")
	if got, want := c.next(), tweet("p5"); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestOrigins(t *testing.T) {
	h := start(t, hub.Config{})
	t.Run("disallowed origin gets 403 on polling", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, h.url("http", url.Values{"transport": {"polling"}}), nil)
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status = %s, want 403", resp.Status)
		}
	})
	t.Run("disallowed origin gets 403 on websocket", func(t *testing.T) {
		_, resp, err := h.dialWS(t, "", http.Header{"Origin": {"https://evil.example"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("dial with a disallowed origin: err %v, response %v; want 403", err, resp)
		}
	})
	t.Run("the extension connects", func(t *testing.T) {
		c, _, err := h.dialWS(t, "", http.Header{"Origin": {"chrome-extension://fjamhnalbnojmognfhnilhlakmampnfa"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.connect(); got != backlog() {
			t.Errorf("backlog = %s, want an empty one", got)
		}
	})
}

// A client that stops reading fills its TCP buffers, then its hub queue,
// and is dropped; the others keep receiving every post.
func TestStalledClientIsKicked(t *testing.T) {
	h := start(t, hub.Config{Backlog: -1, QueueSize: 8})
	slow, _, err := h.dialWS(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	slow.connect()
	good, _, err := h.dialWS(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	good.connect()

	// 64 KB posts fill the loopback buffers in a few hundred posts.
	filler := strings.Repeat("x", 64<<10)
	post := func(i int) {
		data := fmt.Sprintf(`{"id":"p%d","text":%q}`, i, filler)
		if err := h.hub.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: "p" + strconv.Itoa(i), Data: json.RawMessage(data)}); err != nil {
			t.Fatal(err)
		}
		if got := good.next(); !strings.HasPrefix(got, fmt.Sprintf(`42["tweet",{"id":"p%d",`, i)) {
			t.Fatalf("the reading client got %.40s..., want post p%d", got, i)
		}
	}
	i := 0
	for ; h.hub.Dropped() == 0; i++ {
		if i == 2000 {
			t.Fatal("2,000 posts of 64 KB and the stalled client is still queued")
		}
		post(i)
	}
	for range 3 {
		post(i)
		i++
	}

	// The stalled client finds its connection closed behind what was
	// already in its buffers.
	_ = slow.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := slow.ws.ReadMessage()
		if err == nil {
			continue
		}
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			t.Fatal("the stalled client's connection is still open after it was dropped")
		}
		break
	}
	waitFor(t, "one client left", func() bool { return h.srv.Clients()["websocket"] == 1 && h.hub.Clients() == 1 })
}

func TestPollingReceivesPosts(t *testing.T) {
	h := start(t, hub.Config{Backlog: 1})
	h.publish("p1")
	c := &pollClient{t: t, h: h}
	var got []string
	open := c.poll()
	if len(open) == 0 || !strings.HasPrefix(open[0], "0{") || !strings.Contains(open[0], `"sid":`) {
		t.Fatalf("handshake answered %q, want the open packet first", open)
	}
	var o struct{ SID string }
	if err := json.Unmarshal([]byte(open[0][1:]), &o); err != nil {
		t.Fatal(err)
	}
	c.sid = o.SID
	got = append(got, open[1:]...)
	for len(got) < 2 {
		got = append(got, c.poll()...)
	}
	if got[0] != "40" || got[1] != backlog("p1") {
		t.Fatalf("after the handshake got %q, want 40 and the backlog", got)
	}
	waitFor(t, "one polling client", func() bool { return h.srv.Clients()["polling"] == 1 })
	got = got[2:]
	h.publish("p2", "p3")
	for len(got) < 2 {
		got = append(got, c.poll()...)
	}
	if want := []string{tweet("p2"), tweet("p3")}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("polls returned %q, want %q", got, want)
	}
}

// The default path of socket.io-client 2.x: polling first, then the
// upgrade to WebSocket, after which posts arrive on the WebSocket.
func TestUpgradeFromPolling(t *testing.T) {
	h := start(t, hub.Config{Backlog: -1})
	c := &pollClient{t: t, h: h}
	open := c.poll()
	var o struct {
		SID      string
		Upgrades []string
	}
	if len(open) == 0 || json.Unmarshal([]byte(strings.TrimPrefix(open[0], "0")), &o) != nil || o.SID == "" {
		t.Fatalf("handshake answered %q, want the open packet first", open)
	}
	if len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
		t.Fatalf("open packet offers upgrades %q, want websocket", o.Upgrades)
	}
	c.sid = o.SID
	got := open[1:]
	for len(got) < 2 {
		got = append(got, c.poll()...)
	}
	if got[0] != "40" || got[1] != backlog() {
		t.Fatalf("after the handshake got %q, want 40 and the backlog", got)
	}

	// A poll is pending while the client probes, as in the browser; the
	// server answers it with a no-op so that the client can pause.
	polled := make(chan []string, 1)
	go func() { polled <- c.poll() }()
	ws, _, err := websocket.DefaultDialer.Dial(h.url("ws", url.Values{"transport": {"websocket"}, "sid": {c.sid}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	wc := &wsClient{t: t, ws: ws}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		t.Fatal(err)
	}
	if p := wc.next(); p != "3probe" {
		t.Fatalf("probe answered %q, want 3probe", p)
	}
	select {
	case p := <-polled:
		if len(p) != 1 || p[0] != "6" {
			t.Fatalf("the pending poll returned %q, want a no-op", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pending poll was not answered during the upgrade")
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the client on websocket", func() bool { return h.srv.Clients()["websocket"] == 1 })
	for i := range 5 {
		id := "u" + strconv.Itoa(i)
		h.publish(id)
		if got, want := wc.next(), tweet(id); got != want {
			t.Fatalf("after the upgrade got %s, want %s", got, want)
		}
	}
}

// pollClient is socket.io-client 2.x on long polling, without pings.
type pollClient struct {
	t   *testing.T
	h   *harness
	sid string
}

// poll GETs once and returns the Engine.IO packets of the answer.
func (c *pollClient) poll() []string {
	c.t.Helper()
	q := url.Values{"transport": {"polling"}}
	if c.sid != "" {
		q.Set("sid", c.sid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.h.url("http", q), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("poll: %s: %s", resp.Status, body)
	}
	packets, err := decodeTextPayload(body)
	if err != nil {
		c.t.Fatalf("poll answered %q: %v", body, err)
	}
	return packets
}

// decodeTextPayload splits an Engine.IO v3 text payload, `<length>:<packet>`
// repeated. The length counts UTF-16 code units; the tests send ASCII,
// where that is bytes.
func decodeTextPayload(body []byte) ([]string, error) {
	var out []string
	for len(body) > 0 {
		colon := bytes.IndexByte(body, ':')
		if colon <= 0 {
			return out, errors.New("no length: not a text payload")
		}
		n, err := strconv.Atoi(string(body[:colon]))
		if err != nil || n > len(body)-colon-1 {
			return out, fmt.Errorf("bad length %q", body[:colon])
		}
		out = append(out, string(body[colon+1:colon+1+n]))
		body = body[colon+1+n:]
	}
	return out, nil
}

func TestRunClosesConnections(t *testing.T) {
	h := hub.New(hub.Config{})
	srv := New(Config{Hub: h})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = srv.Run(ctx) }()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	hs := &harness{t: t, hub: h, srv: srv, ts: ts}
	c, _, err := hs.dialWS(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.connect()
	cancel()
	<-ran
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				t.Fatal("the connection is still open after Run returned")
			}
			break
		}
	}
	waitFor(t, "no client left", func() bool { c := srv.Clients(); return h.Clients() == 0 && c["websocket"]+c["polling"] == 0 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
