// Package jetstreamtest is a fake Jetstream and a fake public AppView for
// tests. The Jetstream is a WebSocket endpoint at /subscribe, as the real
// service has, that hands each connection to the test, which then decides
// what it says; the AppView answers app.bsky.actor.getProfile from a map.
package jetstreamtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetwire/tweetwire/server/source/bluesky"
)

// ErrClosed is returned by Accept once the server is closed.
var ErrClosed = errors.New("jetstreamtest: the server is closed")

// Server is a fake Jetstream on loopback.
type Server struct {
	// URL is the ws:// URL to give the client, without a path.
	URL string

	hs     *httptest.Server
	conns  chan *Conn
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	refuse   []int // statuses answered, in order, instead of upgrading
	requests int
}

// Conn is one subscription.
type Conn struct {
	// Query is the subscription's query: wantedCollections, cursor.
	Query url.Values

	ws   *websocket.Conn
	gone chan struct{}
}

// NewServer starts a Jetstream that accepts every subscription.
func NewServer() *Server {
	s := &Server{conns: make(chan *Conn, 16), closed: make(chan struct{})}
	up := websocket.Upgrader{}
	s.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/subscribe" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.requests++
		var status int
		if len(s.refuse) > 0 {
			status, s.refuse = s.refuse[0], s.refuse[1:]
		}
		s.mu.Unlock()
		if status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &Conn{Query: r.URL.Query(), ws: ws, gone: make(chan struct{})}
		select {
		case s.conns <- c:
		case <-s.closed:
		}
		// The test writes; this goroutine reads, which answers pings and
		// notices the client closing.
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
		}
		ws.Close()
		close(c.gone)
	}))
	s.URL = "ws" + strings.TrimPrefix(s.hs.URL, "http")
	return s
}

// Close stops the server and ends its connections.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// Refuse answers the next subscriptions with these statuses, one each, in
// order, instead of upgrading them.
func (s *Server) Refuse(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = append(s.refuse, statuses...)
}

// Requests is how many subscriptions arrived, refused ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Accept waits for the next subscription.
func (s *Server) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closed:
		return nil, ErrClosed
	}
}

// Accepted returns a subscription that arrived and was not accepted yet,
// without waiting.
func (s *Server) Accepted() (*Conn, bool) {
	select {
	case c := <-s.conns:
		return c, true
	default:
		return nil, false
	}
}

// Send writes each message as a text message.
func (c *Conn) Send(msgs ...string) error {
	for _, m := range msgs {
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			return err
		}
	}
	return nil
}

// Ping sends a WebSocket ping, the only thing a quiet connection carries.
func (c *Conn) Ping() error {
	return c.ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second))
}

// Close closes the connection, as the service does when it drops a
// subscriber.
func (c *Conn) Close() error { return c.ws.Close() }

// Gone is closed once the connection ended, closed by either side.
func (c *Conn) Gone() <-chan struct{} { return c.gone }

// Post is a Jetstream commit that creates a post.
type Post struct {
	DID, RKey string
	// TimeUS is the message's time_us, the cursor.
	TimeUS    int64
	CreatedAt time.Time
	Text      string
	// Tags are put in tag facets, over "#tag" in Text when it is there
	// (in UTF-8 bytes, as Bluesky counts), else over the start of Text.
	Tags []string
}

// Message is the JSON message.
func (p Post) Message() string {
	var facets []any
	for _, tag := range p.Tags {
		start := max(strings.Index(p.Text, "#"+tag), 0)
		facets = append(facets, map[string]any{
			"features": []any{map[string]any{"$type": "app.bsky.richtext.facet#tag", "tag": tag}},
			"index":    map[string]any{"byteStart": start, "byteEnd": start + len(tag) + 1},
		})
	}
	b, _ := json.Marshal(map[string]any{
		"did": p.DID, "time_us": p.TimeUS, "kind": "commit",
		"commit": map[string]any{
			"rev": "3l3qo2vutsw2b", "operation": "create", "collection": "app.bsky.feed.post", "rkey": p.RKey, "cid": "bafyrei",
			"record": map[string]any{"$type": "app.bsky.feed.post", "createdAt": p.CreatedAt.UTC().Format(time.RFC3339Nano), "langs": []string{"en"}, "text": p.Text, "facets": facets},
		},
	})
	return string(b)
}

// Delete is a Jetstream commit that deletes a post.
func Delete(did, rkey string, timeUS int64) string {
	return fmt.Sprintf(`{"did":%q,"time_us":%d,"kind":"commit","commit":{"rev":"3l3","operation":"delete","collection":"app.bsky.feed.post","rkey":%q}}`, did, timeUS, rkey)
}

// NewAppView starts a fake public AppView that answers getProfile from
// profiles, each after delay, and "Profile not found" for anyone else.
func NewAppView(delay time.Duration, profiles map[string]bluesky.Profile) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/xrpc/app.bsky.actor.getProfile" {
			http.NotFound(w, r)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		p, ok := profiles[r.URL.Query().Get("actor")]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"InvalidRequest","message":"Profile not found"}`)
			return
		}
		json.NewEncoder(w).Encode(p)
	}))
}
