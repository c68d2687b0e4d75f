// Package socketio connects Socket.IO clients (socket.io-client 2.x,
// Engine.IO v3) to the hub through googollee/go-socket.io.
//
// The library is used for the handshake, transports, heartbeats and
// upgrades only. Posts never go through its Emit or room broadcast: the
// broadcast holds a lock while it writes to each connection (one dead
// polling client stalled every broadcast for a minute), and Emit re-encodes
// its arguments for every connection. Instead one writer goroutine per
// connection drains that client's hub queue and writes the hub's
// pre-encoded bytes as Socket.IO frames.
package socketio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	gsio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/session"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/googollee/go-socket.io/engineio/transport/polling"

	"github.com/tweetwire/tweetwire/server/hub"
)

// Config wires a Server. Zero durations mean "use the default".
type Config struct {
	Hub *hub.Hub
	// CheckOrigin decides whether a browser's Origin may connect. A
	// request without an Origin header (not a browser) is always allowed.
	CheckOrigin func(origin string, r *http.Request) bool
	// PingInterval and PingTimeout are Engine.IO's heartbeat (default 25 s
	// and 60 s).
	PingInterval time.Duration
	PingTimeout  time.Duration
	// OnWrite, when set, is called after each message is written to a
	// client (the fan-out latency metric).
	OnWrite func(m *hub.Message)
	Logger  *slog.Logger
}

// Server is an http.Handler for /socket.io/.
type Server struct {
	cfg Config
	io  *gsio.Server
	log *slog.Logger

	mu    sync.Mutex
	conns map[string]gsio.Conn // by session id
}

// frameWriter is the engine.io session under a socket.io connection. Its
// NextWriter serialises writers, so our writer goroutine and the library's
// own (heartbeats, the connect packet) never interleave frames.
type frameWriter interface {
	NextWriter(session.FrameType) (io.WriteCloser, error)
}

// New returns a Server; call Run to start accepting connections.
func New(cfg Config) *Server {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 25 * time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CheckOrigin == nil {
		cfg.CheckOrigin = func(string, *http.Request) bool { return false }
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: make(map[string]gsio.Conn)}
	// The transports' own check decides only whether CORS headers (and
	// the WebSocket handshake) are granted; ServeHTTP refuses first.
	check := func(r *http.Request) bool { return s.allowed(r) }
	s.io = gsio.NewServer(&engineio.Options{
		PingInterval: cfg.PingInterval,
		PingTimeout:  cfg.PingTimeout,
		Transports: []transport.Transport{
			pollingTransport{&polling.Transport{Client: &http.Client{Timeout: time.Minute}, CheckOrigin: check}},
			newWSTransport(check),
		},
	})
	s.io.OnConnect("/", s.onConnect)
	s.io.OnDisconnect("/", func(c gsio.Conn, reason string) {
		s.log.Debug("disconnected", "sid", c.ID(), "reason", reason)
		s.forget(c)
	})
	s.io.OnError("/", func(c gsio.Conn, err error) {
		if c != nil {
			s.log.Debug("socket.io connection error", "sid", c.ID(), "err", err)
		}
	})
	return s
}

func (s *Server) allowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || s.cfg.CheckOrigin(origin, r)
}

// ServeHTTP refuses a disallowed Origin on both transports before the
// library sees the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(r) {
		http.Error(w, "origin not allowed: add it with --allowed-origins", http.StatusForbidden)
		return
	}
	s.io.ServeHTTP(w, r)
}

// Run accepts connections until ctx is done, then closes every connection.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.io.Serve() }()
	select {
	case <-ctx.Done():
		// Close outside the lock: closing runs OnDisconnect, which
		// takes it.
		s.mu.Lock()
		conns := make([]gsio.Conn, 0, len(s.conns))
		for _, c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		_ = s.io.Close()
		return nil
	case err := <-errc:
		return err
	}
}

// Clients counts the connected clients by current transport.
func (s *Server) Clients() map[string]int {
	out := map[string]int{"websocket": 0, "polling": 0}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		// The session's URL is that of its current transport, so it
		// follows an upgrade from polling to websocket.
		u := c.URL()
		out[u.Query().Get("transport")]++
	}
	return out
}

// onConnect runs inside the library's connect step, before its own writer
// goroutine starts: anything written from here synchronously would block,
// so the client's writer runs in a goroutine of its own.
func (s *Server) onConnect(c gsio.Conn) error {
	fw, ok := c.(frameWriter)
	if !ok {
		return errors.New("go-socket.io connection has no frame writer: library version changed")
	}
	u := c.URL()
	client := s.cfg.Hub.Subscribe(u.Query().Get("since"), func() {
		s.log.Info("dropped slow client", "sid", c.ID(), "remote", c.RemoteAddr().String())
		_ = c.Close()
	})
	s.mu.Lock()
	s.conns[c.ID()] = c
	s.mu.Unlock()
	c.SetContext(client)
	go s.write(c, fw, client)
	return nil
}

func (s *Server) forget(c gsio.Conn) {
	s.mu.Lock()
	delete(s.conns, c.ID())
	s.mu.Unlock()
	if client, ok := c.Context().(*hub.Client); ok {
		s.cfg.Hub.Unsubscribe(client)
	}
}

// write sends the backlog, then every queued message, until the client
// goes away or the hub drops it as slow.
func (s *Server) write(c gsio.Conn, fw frameWriter, client *hub.Client) {
	defer s.forget(c)
	if err := writeFrame(fw, hub.EventBacklog, backlogJSON(client.Backlog)); err != nil {
		s.log.Debug("backlog write failed; closing the connection", "sid", c.ID(), "err", err)
		_ = c.Close()
		return
	}
	for {
		select {
		case m := <-client.Messages():
			if err := writeFrame(fw, m.Event, m.Data); err != nil {
				s.log.Debug("write failed; closing the connection", "sid", c.ID(), "err", err)
				_ = c.Close()
				return
			}
			if s.cfg.OnWrite != nil {
				s.cfg.OnWrite(m)
			}
		case <-client.Done():
			return
		}
	}
}

func backlogJSON(ms []*hub.Message) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m.Data)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// writeFrame writes one Socket.IO EVENT packet, `2["<event>",<data>]`,
// on the root namespace; the engine.io layer adds its MESSAGE type.
func writeFrame(fw frameWriter, event string, data []byte) error {
	w, err := fw.NextWriter(session.TEXT)
	if err != nil {
		return err
	}
	// Event names are constants without characters JSON would escape.
	for _, part := range [][]byte{[]byte(`2["`), []byte(event), []byte(`",`), data, []byte(`]`)} {
		if _, err := w.Write(part); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}
