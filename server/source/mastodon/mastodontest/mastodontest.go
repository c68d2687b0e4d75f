// Package mastodontest is a fake Mastodon streaming API for tests. It
// serves the hashtag and public streams, checks the bearer token as
// Mastodon does, and hands each stream to the test, which then writes
// server-sent events to it.
package mastodontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// ErrGone is returned by a Stream method once the stream has ended, and
// by Accept once the server is closed.
var ErrGone = errors.New("mastodontest: the stream has ended")

// Refusal is an answer given instead of a stream.
type Refusal struct {
	Status      int
	ContentType string
	Body        string
}

// Server is a fake Mastodon server on loopback.
type Server struct {
	// URL is the server's URL, without a path.
	URL string

	hs     *httptest.Server
	token  string
	conns  chan *Stream
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	refuse   []Refusal
	requests int
}

// Stream is one stream request, held open until the test or the client
// ends it.
type Stream struct {
	// Name is "hashtag:" and the tag, or "public".
	Name string

	send   chan string
	hangup chan struct{}
	once   sync.Once
	gone   chan struct{} // the handler returned
}

// NewServer starts a server whose streams want token.
func NewServer(token string) *Server {
	s := &Server{token: token, conns: make(chan *Stream, 16), closed: make(chan struct{})}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.hs.URL
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var name string
	switch r.URL.Path {
	case "/api/v1/streaming/hashtag":
		name = "hashtag:" + r.URL.Query().Get("tag")
	case "/api/v1/streaming/public":
		name = "public"
	default:
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.requests++
	var ref *Refusal
	if len(s.refuse) > 0 {
		ref = &s.refuse[0]
		s.refuse = s.refuse[1:]
	}
	s.mu.Unlock()
	if ref != nil {
		w.Header().Set("Content-Type", ref.ContentType)
		w.WriteHeader(ref.Status)
		fmt.Fprint(w, ref.Body)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		// Like Mastodon, and quoting what it got, to prove the client
		// scrubs it.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "The access token is invalid: " + r.Header.Get("Authorization")})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ":)\n")
	w.(http.Flusher).Flush()
	st := &Stream{Name: name, send: make(chan string), hangup: make(chan struct{}), gone: make(chan struct{})}
	defer close(st.gone)
	select {
	case s.conns <- st:
	case <-s.closed:
		return
	}
	for {
		select {
		case msg := <-st.send:
			fmt.Fprint(w, msg)
			w.(http.Flusher).Flush()
		case <-st.hangup:
			return
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
}

// Close ends every stream and stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// Refuse answers the next stream requests with these, one each, in order.
func (s *Server) Refuse(refusals ...Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = append(s.refuse, refusals...)
}

// Requests is how many stream requests arrived, refused ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Host is the server's host and port, as the ids of its posts carry it.
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "http://") }

// Accept waits for the next stream, whichever it is.
func (s *Server) Accept(ctx context.Context) (*Stream, error) {
	select {
	case st := <-s.conns:
		return st, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closed:
		return nil, ErrGone
	}
}

// Accepted returns a stream that opened and was not accepted yet, without
// waiting.
func (s *Server) Accepted() (*Stream, bool) {
	select {
	case st := <-s.conns:
		return st, true
	default:
		return nil, false
	}
}

// Write sends msg as it is, e.g. ":thump\n", Mastodon's keep-alive. It
// gives up when ctx is done first.
func (st *Stream) Write(ctx context.Context, msg string) error {
	select {
	case st.send <- msg:
		return nil
	case <-st.gone:
		return ErrGone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hangup ends the stream from the server's side.
func (st *Stream) Hangup() { st.once.Do(func() { close(st.hangup) }) }

// Gone is closed once the stream ended.
func (st *Stream) Gone() <-chan struct{} { return st.gone }

// Event is the server-sent event name with data, as Stream.Write sends
// it.
func Event(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }

// Status is a status as the streaming API sends it.
type Status struct {
	ID, Acct, DisplayName string
	// HTML is the content.
	HTML      string
	Tags      []string
	CreatedAt time.Time
}

// JSON is the status's JSON.
func (s Status) JSON() string {
	ts := []any{}
	for _, tag := range s.Tags {
		ts = append(ts, map[string]string{"name": tag, "url": "https://mastodon.example/tags/" + tag})
	}
	b, _ := json.Marshal(map[string]any{
		"id": s.ID, "created_at": s.CreatedAt.UTC().Format(time.RFC3339Nano),
		"content": s.HTML, "spoiler_text": "", "language": "en", "visibility": "public", "sensitive": false,
		"url": "https://mastodon.example/@" + s.Acct + "/" + s.ID, "uri": "https://mastodon.example/users/" + s.Acct + "/statuses/" + s.ID,
		"account": map[string]any{"id": "1", "username": s.Acct, "acct": s.Acct, "display_name": s.DisplayName,
			"avatar": "https://mastodon.example/" + s.Acct + ".gif", "avatar_static": "https://mastodon.example/" + s.Acct + ".png"},
		"tags": ts, "reblog": nil, "media_attachments": []any{}, "mentions": []any{}, "emojis": []any{},
	})
	return string(b)
}
