// Package socketio connects Socket.IO clients (socket.io-client 2.x,
// Engine.IO v3) to the hub.
//
// Engine.IO — the handshake, long polling, heartbeats and the upgrade to
// WebSocket — is googollee/go-socket.io's engineio package. The Socket.IO
// layer on top is ours, because the library's cost per connection is in
// it: three goroutines per connection (reader, writer, error loop) joined
// by unbuffered channels, a room per connection, and an Emit that encodes
// its arguments again for every connection. Its room broadcast also holds
// a lock while it writes to each connection, so one dead polling client
// stalled every broadcast for a minute. Tweetwire needs little of that
// layer: clients only listen (they send nothing but pings), so the server
// says CONNECT on the root namespace, refuses other namespaces, and writes
// the hub's pre-encoded posts as EVENT packets.
//
// A connection holds one goroutine, its reader. Its writer exists only
// while the client has posts waiting: the hub wakes it, it writes all that
// is queued — on WebSocket as ready-made frames shared by every client, in
// one system call — and exits.
package socketio

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

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
	cfg    Config
	engine *engineio.Server
	log    *slog.Logger

	mu    sync.Mutex
	conns map[string]*conn // by session id
}

var _ http.Handler = (*Server)(nil)

// conn is one client: its Engine.IO session and its hub subscription.
type conn struct {
	s      *Server
	sess   engineio.Conn
	client *hub.Client
	// ws is the session's WebSocket once it has one (a session never
	// leaves WebSocket). Only drains use it, one at a time: the hub starts
	// a drain only after the last one found the queue empty.
	ws *wsConn
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
	s := &Server{cfg: cfg, log: cfg.Logger, conns: make(map[string]*conn)}
	// The transports' own check decides only whether CORS headers (and
	// the WebSocket handshake) are granted; ServeHTTP refuses first.
	check := func(r *http.Request) bool { return s.allowed(r) }
	s.engine = engineio.NewServer(&engineio.Options{
		PingInterval: cfg.PingInterval,
		PingTimeout:  cfg.PingTimeout,
		Transports: []transport.Transport{
			pollingTransport{&polling.Transport{Client: &http.Client{Timeout: time.Minute}, CheckOrigin: check}},
			newWSTransport(check),
		},
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
	s.engine.ServeHTTP(w, r)
}

// Run accepts connections until ctx is done, then closes every connection.
func (s *Server) Run(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		_ = s.engine.Close() // ends Accept below
	}()
	for {
		sess, err := s.engine.Accept()
		if err != nil {
			break
		}
		go s.serve(sess)
	}
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.sess.Close()
	}
	return nil
}

// Clients counts the connected clients by current transport.
func (s *Server) Clients() map[string]int {
	out := map[string]int{"websocket": 0, "polling": 0}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		// The session's URL is that of its current transport, so it
		// follows an upgrade from polling to websocket.
		u := c.sess.URL()
		out[u.Query().Get("transport")]++
	}
	return out
}

// Socket.IO v2 packet types (socket.io-parser 3.x).
const (
	packetConnect    = '0'
	packetDisconnect = '1'
	packetError      = '4'
)

// maxClientPacket is the largest WebSocket message a client may send
// (gorilla closes the connection past it): clients send nothing larger
// than a namespace CONNECT.
const maxClientPacket = 4 << 10

// serve runs one connection: it says CONNECT, subscribes the client to
// the hub, starts its first drain and then reads until the session ends.
func (s *Server) serve(sess engineio.Conn) {
	c := &conn{s: s, sess: sess}
	defer c.close()
	if err := writePacket(sess, []byte{packetConnect}); err != nil {
		s.log.Debug("socket.io connect failed", "sid", sess.ID(), "err", err)
		return
	}
	u := sess.URL()
	c.client = s.cfg.Hub.Subscribe(u.Query().Get("since"), c.wake, func() {
		s.log.Info("dropped slow client", "sid", sess.ID(), "remote", sess.RemoteAddr().String())
		_ = sess.Close()
	})
	s.mu.Lock()
	s.conns[sess.ID()] = c
	s.mu.Unlock()
	go c.drain(true)
	for {
		ft, r, err := sess.NextReader()
		if err != nil {
			s.log.Debug("disconnected", "sid", sess.ID(), "reason", err)
			return
		}
		// The start of a packet tells its type and namespace; Close
		// discards the rest.
		var buf [64]byte
		n, _ := io.ReadFull(r, buf[:])
		_ = r.Close()
		if ft == session.BINARY || n == 0 {
			continue
		}
		if !c.handle(buf[:n]) {
			return
		}
	}
}

// handle answers a packet from the client; false ends the connection.
// Clients only listen, so events and acks are read and dropped.
func (c *conn) handle(p []byte) bool {
	typ, rest := p[0], p[1:]
	nsp := "/"
	if len(rest) > 0 && rest[0] == '/' {
		end := bytes.IndexByte(rest, ',')
		if end < 0 {
			end = len(rest)
		}
		nsp = string(rest[:end])
	}
	switch {
	case typ == packetDisconnect && nsp == "/":
		return false
	case typ == packetConnect && nsp != "/":
		// What socket.io 2.x answers for a namespace it does not serve;
		// the client emits it as an "error" event.
		msg := append([]byte{packetError}, nsp...)
		msg = append(msg, `,"Invalid namespace"`...)
		if err := writePacket(c.sess, msg); err != nil {
			return false
		}
	}
	return true
}

func (c *conn) close() {
	_ = c.sess.Close()
	c.s.engine.Remove(c.sess.ID())
	c.s.mu.Lock()
	delete(c.s.conns, c.sess.ID())
	c.s.mu.Unlock()
	if c.client != nil {
		c.s.cfg.Hub.Unsubscribe(c.client)
	}
}

// wake starts a drain; the hub calls it with its lock held.
func (c *conn) wake() { go c.drain(false) }

// drain writes the backlog (on the first drain) and then everything
// queued, until the queue is empty. On a write error it closes the
// session; the reader then ends the connection.
func (c *conn) drain(first bool) {
	if first {
		if err := writeEvent(c.sess, hub.KindBacklog, hub.JSONArray(c.client.Backlog)); err != nil {
			c.s.log.Debug("backlog write failed; closing the connection", "sid", c.sess.ID(), "err", err)
			_ = c.sess.Close()
			return
		}
		c.client.Backlog = nil
	}
	var small [8]*hub.Message
	for {
		batch, ok := c.client.Take(small[:0])
		if !ok {
			return
		}
		if err := c.write(batch); err != nil {
			c.s.log.Debug("write failed; closing the connection", "sid", c.sess.ID(), "err", err)
			_ = c.sess.Close()
			return
		}
		if c.s.cfg.OnWrite != nil {
			for _, m := range batch {
				c.s.cfg.OnWrite(m)
			}
		}
		clear(batch)
	}
}

// write sends a batch: on WebSocket as shared ready-made frames in one
// system call, on polling packet by packet into the session's payload
// (which the next poll carries whole).
func (c *conn) write(batch []*hub.Message) error {
	// The session shows its transport only through its addresses; until
	// it is on WebSocket, look again each batch: an upgrade may have come.
	if c.ws == nil {
		c.ws = wsConnOf(c.sess.RemoteAddr())
	}
	if c.ws != nil {
		return c.ws.writeFrames(batch)
	}
	for _, m := range batch {
		if err := writeEvent(c.sess, m.Kind, m.Data); err != nil {
			return err
		}
	}
	return nil
}

// frameWriter is an Engine.IO session: its NextWriter serialises writers,
// so a drain and the session's own pongs never interleave frames.
type frameWriter interface {
	NextWriter(session.FrameType) (io.WriteCloser, error)
}

// writePacket writes one Socket.IO packet as an Engine.IO MESSAGE.
func writePacket(fw frameWriter, parts ...[]byte) error {
	w, err := fw.NextWriter(session.TEXT)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// writeEvent writes one Socket.IO EVENT packet, `2["<event>",<data>]`, on
// the root namespace.
func writeEvent(fw frameWriter, event string, data []byte) error {
	// Event names are constants without characters JSON would escape.
	return writePacket(fw, []byte(`2["`), []byte(event), []byte(`",`), data, []byte(`]`))
}
