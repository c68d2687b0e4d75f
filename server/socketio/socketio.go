// Package socketio connects Socket.IO clients of every generation to the
// hub on /socket.io/: socket.io-client 2.x (Engine.IO 3, Socket.IO 4) and
// 3.x/4.x (Engine.IO 4, Socket.IO 5), chosen per request by the EIO query
// parameter as Node's server does with allowEIO3.
//
// All of it is ours; nothing of googollee/go-socket.io is left.
//
//   - Engine.IO (engine.go, payload.go, wstransport.go): the handshake,
//     long polling, heartbeats and the upgrade to WebSocket.
//     go-socket.io's engineio speaks only Engine.IO 3, and gets even that
//     wrong where it matters to us: its text payloads count lengths in
//     UTF-8 bytes where the protocol counts UTF-16 code units, so every
//     Node.js 2.x client on polling failed on the first emoji; its
//     session ids are a counter; its WebSocket transport started a
//     goroutine and a timer per frame written; and its upgrade raced
//     (a client saw "transport close" right after upgrading). Fixing
//     that meant replacing the transports, and with them there was
//     little left worth keeping.
//   - Socket.IO (this file, packet.go): go-socket.io's layer costs three
//     goroutines per connection and encodes an Emit again for every
//     connection. Tweetwire's clients only listen: the server answers
//     CONNECT on the root namespace, refuses other namespaces, drops
//     client events, and writes the hub's pre-encoded posts as EVENT
//     packets. Client events, acks, binary attachments and other
//     namespaces are served only when Config.Handler is set (the
//     conformance server in server/tools/conformance does).
//
// An idle connection holds no goroutine. On Linux one epoll poller per
// engine waits for every idle WebSocket, and a reader runs only while a
// client has sent something (poll_linux.go; elsewhere each WebSocket keeps
// a reader); on polling the HTTP requests carry it. Posts are written by
// one writer goroutine per core: the hub wakes a client, and 10 ms later
// (Config.WriteDelay) a writer sends all that is queued for it — on
// WebSocket as ready-made frames shared by every client, in one system
// call that does not wait. A client whose socket is full, and a polling
// client, gets a goroutine of its own until its queue is empty
// (writers.go).
package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
)

// Config wires a Server. Zero values mean "use the default".
type Config struct {
	// Hub feeds the root namespace. It may be nil only with a Handler.
	Hub *hub.Hub
	// CheckOrigin decides whether a browser's Origin may connect, on
	// both transports and both protocol generations. A request without
	// an Origin header (not a browser) is always allowed.
	CheckOrigin func(origin string, r *http.Request) bool
	// PingInterval and PingTimeout are Engine.IO's heartbeat (default 25 s
	// and 60 s).
	PingInterval time.Duration
	PingTimeout  time.Duration
	// MaxPayload is the largest POST body or WebSocket message a client
	// may send (default 64 KiB: Tweetwire's clients send nothing but
	// pings and CONNECT). Past it, the session is closed.
	MaxPayload int
	// ConnectTimeout is how long a Socket.IO 5 client has after the
	// Engine.IO handshake to send CONNECT (default 45 s).
	ConnectTimeout time.Duration
	// MaxPending caps the polling sessions opened and not yet come back
	// to (default 10,000), and MaxPendingPerAddress those of one client
	// address (default 1,000): past either, a handshake gets 503. A pending
	// session that is not come back to within PingTimeout ends.
	MaxPending           int
	MaxPendingPerAddress int
	// OnWrite, when set, is called after each message is written to a
	// client (the fan-out latency metric).
	OnWrite func(m *hub.Message)
	// WriteDelay is how long the writers wait, once a post is queued for
	// a client, for more to write with it in the same system call
	// (default 10 ms; negative for none). See writers.
	WriteDelay time.Duration
	// Handler, when set, serves every namespace and the clients' events
	// instead of the hub; the product leaves it nil.
	Handler Handler
	Logger  *slog.Logger
}

// Server is an http.Handler for /socket.io/.
type Server struct {
	cfg    Config
	engine *engine
	log    *slog.Logger

	writers *writers

	mu    sync.Mutex
	conns map[*session]*conn
}

var (
	_ http.Handler   = (*Server)(nil)
	_ sessionHandler = (*Server)(nil)
)

// New returns a Server; call Run to serve connections.
func New(cfg Config) *Server {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 25 * time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 60 * time.Second
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = 64 << 10
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 45 * time.Second
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 10000
	}
	if cfg.MaxPendingPerAddress <= 0 {
		cfg.MaxPendingPerAddress = 1000
	}
	switch {
	case cfg.WriteDelay == 0:
		cfg.WriteDelay = 10 * time.Millisecond
	case cfg.WriteDelay < 0:
		cfg.WriteDelay = 0
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CheckOrigin == nil {
		cfg.CheckOrigin = func(string, *http.Request) bool { return false }
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: make(map[*session]*conn), writers: newWriters(cfg.WriteDelay)}
	s.engine = newEngine(engineConfig{
		pingInterval:   cfg.PingInterval,
		pingTimeout:    cfg.PingTimeout,
		maxPayload:     cfg.MaxPayload,
		upgradeTimeout: 10 * time.Second,
		writeTimeout:   cfg.PingInterval + cfg.PingTimeout,
		maxPending:     cfg.MaxPending,
		maxPendingAddr: cfg.MaxPendingPerAddress,
	}, s)
	return s
}

// Pending counts the polling sessions opened and not yet come back to:
// handshakes a client may have abandoned.
func (s *Server) Pending() int { return s.engine.pendingCount() }

func (s *Server) allowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || s.cfg.CheckOrigin(origin, r)
}

// ServeHTTP refuses a disallowed Origin on both transports before
// anything else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(r) {
		http.Error(w, "origin not allowed: add it with --allowed-origins", http.StatusForbidden)
		return
	}
	s.engine.ServeHTTP(w, r)
}

// Run serves until ctx is done, then closes every connection.
func (s *Server) Run(ctx context.Context) error {
	s.writers.run(ctx)
	<-ctx.Done()
	s.engine.close()
	return nil
}

// Clients counts the connected clients by current transport.
func (s *Server) Clients() map[string]int {
	out := map[string]int{"websocket": 0, "polling": 0}
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		out[c.sess.transport()]++
	}
	return out
}

// conn is one client: its Engine.IO session, its sockets (one per
// namespace it joined) and, in the product, its hub subscription.
type conn struct {
	s    *Server
	sess *session

	// mu guards what the session's reader and its closing share.
	mu      sync.Mutex
	sockets map[string]*Socket
	client  *hub.Client
	closed  bool
	// connectTimer closes a Socket.IO 5 session that never sends CONNECT.
	connectTimer *time.Timer

	// pending is a binary packet waiting for its attachments; only the
	// session's reader touches it.
	pending     *sioPacket
	attachments [][]byte

	// pollsTake says that the hub's drain is the polls': on polling, the
	// hub's wake sets it and the next poll takes the posts (pull); an
	// upgrade to WebSocket hands it to the writers (upgraded).
	pollsTake atomic.Bool
}

func (s *Server) open(sess *session) {
	c := &conn{s: s, sess: sess, sockets: make(map[string]*Socket)}
	sess.data = c
	s.mu.Lock()
	s.conns[sess] = c
	s.mu.Unlock()
	if sess.eio == 3 {
		// Socket.IO 4 servers connect the root namespace unasked.
		c.connect("/", nil)
		return
	}
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(s.cfg.ConnectTimeout, func() {
		c.mu.Lock()
		n := len(c.sockets)
		c.mu.Unlock()
		if n == 0 {
			sess.close("no CONNECT within the connect timeout", eioClose)
		}
	})
	c.mu.Unlock()
}

func (s *Server) closed(sess *session, reason string) {
	s.log.Debug("disconnected", "sid", sess.id, "reason", reason)
	s.mu.Lock()
	c := s.conns[sess]
	delete(s.conns, sess)
	s.mu.Unlock()
	if c == nil {
		return
	}
	c.mu.Lock()
	c.closed = true
	client := c.client
	if c.connectTimer != nil {
		c.connectTimer.Stop()
	}
	c.mu.Unlock()
	if client != nil {
		s.cfg.Hub.Unsubscribe(client)
	}
}

// message reads one Socket.IO packet (or one binary attachment of the
// packet before it); a malformed packet closes the connection.
func (s *Server) message(sess *session, p packet) {
	c, _ := sess.data.(*conn)
	if c == nil {
		return
	}
	if p.binary {
		if c.pending == nil {
			// Unasked-for attachments: the product drops client
			// events, and with them their attachments.
			if s.cfg.Handler != nil {
				sess.close("binary data without a packet", eioClose)
			}
			return
		}
		c.attachments = append(c.attachments, p.data)
		if len(c.attachments) == c.pending.attachments {
			sp, att := *c.pending, c.attachments
			c.pending, c.attachments = nil, nil
			c.dispatch(sp, att)
		}
		return
	}
	if c.pending != nil {
		sess.close("a packet came before the attachments of the last one", eioClose)
		return
	}
	sp, err := parsePacket(p.data)
	if err != nil {
		sess.close(err.Error(), eioClose)
		return
	}
	if sp.attachments > 0 {
		c.pending = &sp
		return
	}
	c.dispatch(sp, nil)
}

// dispatch acts on a whole packet.
func (c *conn) dispatch(sp sioPacket, att [][]byte) {
	switch sp.typ {
	case sioConnect:
		c.connect(sp.nsp, sp.data)
	case sioDisconnect:
		c.disconnect(sp.nsp)
	case sioEvent, sioBinaryEvent, sioAck, sioBinaryAck:
		h := c.s.cfg.Handler
		c.mu.Lock()
		sock := c.sockets[sp.nsp]
		c.mu.Unlock()
		if h == nil || sock == nil || sp.typ == sioAck || sp.typ == sioBinaryAck {
			// The product's clients emit nothing it uses, and
			// acks would answer emits with acks, which no one asks.
			return
		}
		var args []json.RawMessage
		_ = json.Unmarshal(sp.data, &args) // parsePacket checked it
		var name string
		if json.Unmarshal(args[0], &name) != nil {
			name = string(args[0]) // a number, which parsePacket allows
		}
		e := Event{Name: name, Args: args[1:], Attachments: att}
		if sp.id >= 0 {
			id := sp.id
			e.Ack = func(args []json.RawMessage, att [][]byte) error {
				return sock.write(sioAck, id, nil, args, att)
			}
		}
		h.Event(sock, e)
	}
}

// connect joins the client to a namespace and answers it.
func (c *conn) connect(nsp string, auth json.RawMessage) {
	sess := c.sess
	h := c.s.cfg.Handler
	known := nsp == "/"
	if h != nil {
		known = h.Namespace(nsp)
	}
	if !known {
		// socket.io 2.x sends the message as a JSON string, 3.x and
		// later as an object.
		msg := `"Invalid namespace"`
		if sess.eio == 4 {
			msg = `{"message":"Invalid namespace"}`
		}
		b := appendPacketHeader(nil, sioConnectError, 0, nsp, -1)
		c.send(append(b, msg...))
		return
	}
	c.mu.Lock()
	if c.closed || c.sockets[nsp] != nil {
		c.mu.Unlock()
		return
	}
	sock := &Socket{c: c, nsp: nsp, id: newID()}
	if h != nil {
		// Only a Handler reads it; the product would keep the CONNECT
		// message's buffer for the connection's life.
		sock.Auth = auth
	}
	c.sockets[nsp] = sock
	if c.connectTimer != nil {
		c.connectTimer.Stop()
	}
	c.mu.Unlock()
	b := appendPacketHeader(nil, sioConnect, 0, nsp, -1)
	if sess.eio == 4 {
		b = append(b, `{"sid":"`...)
		b = append(b, sock.id...)
		b = append(b, `"}`...)
	}
	if !c.send(b) {
		return
	}
	if h != nil {
		h.Connected(sock)
		return
	}
	// The product's feed. A client resumes after the newest post it has
	// seen: socket.io-client 2.x says so in the query, later clients in
	// the CONNECT's auth payload (or the query, as the page does).
	since := sess.since
	var a struct {
		Since string `json:"since"`
	}
	if json.Unmarshal(auth, &a) == nil && a.Since != "" {
		since = a.Since
	}
	client := c.s.cfg.Hub.Subscribe(since, c.wake, func() {
		c.s.log.Info("dropped slow client", "sid", sess.id, "remote", sess.remote)
		sess.close("slow client", eioClose)
	})
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.s.cfg.Hub.Unsubscribe(client)
		return
	}
	c.client = client
	c.mu.Unlock()
	go c.drain(true)
}

// disconnect leaves a namespace. A 2.x client leaving the root namespace
// is leaving for good; later clients may still join again.
func (c *conn) disconnect(nsp string) {
	c.mu.Lock()
	delete(c.sockets, nsp)
	var client *hub.Client
	if nsp == "/" {
		client, c.client = c.client, nil
	}
	c.mu.Unlock()
	if client != nil {
		c.s.cfg.Hub.Unsubscribe(client)
	}
	if nsp == "/" && c.sess.eio == 3 {
		c.sess.close("client namespace disconnect", eioClose)
	}
}

// send writes one Socket.IO packet; false when the session is gone.
func (c *conn) send(b []byte) bool {
	if err := c.sess.send(packet{typ: eioMessage, data: b}); err != nil {
		c.s.log.Debug("write failed; closing the connection", "sid", c.sess.id, "err", err)
		c.sess.close("write failed", eioClose)
		return false
	}
	return true
}

// wake hands c to the writers, or, on polling, to the next poll, which
// takes the posts itself (pull): a poll answers with all that is queued
// when it comes, so the writers' wait would gather nothing and add its
// delay to every post (p99 27 ms against Node's 18 at 200 clients × 10
// posts/s with it), and a drain goroutine per post, handing its posts to
// the poll, cost more than the poll. The hub calls wake with its lock
// held, so it never blocks.
func (c *conn) wake() {
	if c.sess.onWebSocket.Load() {
		c.s.writers.add(c)
		return
	}
	c.pollsTake.Store(true)
	if !c.sess.onWebSocket.Load() {
		c.sess.signal()
		return
	}
	// The session went to WebSocket meanwhile.
	c.toWriters()
}

// toWriters hands c to the writers if the polls were to take its posts:
// as a session upgrades, wake and upgraded may both get here, and
// whichever clears pollsTake hands c over, once.
func (c *conn) toWriters() {
	if c.pollsTake.Swap(false) {
		c.s.writers.add(c)
	}
}

// pull appends the posts the hub queued for c to dst as packets, for a
// poll, when the hub's drain is the polls' (pollsTake); taking until the
// queue is empty ends the drain, so the next post wakes c again. The
// session's lock is held: no upgrade runs meanwhile.
func (c *conn) pull(dst []packet) []packet {
	if !c.pollsTake.Swap(false) {
		return dst
	}
	c.mu.Lock()
	client := c.client
	c.mu.Unlock()
	if client == nil {
		return dst
	}
	var small [8]*hub.Message
	for {
		batch, ok := client.Take(small[:0])
		if !ok {
			return dst
		}
		for _, m := range batch {
			dst = append(dst, packet{typ: eioMessage, data: eventBody(m)})
		}
		c.wrote(batch)
		clear(batch)
	}
}

func (s *Server) pull(sess *session, dst []packet) []packet {
	if c, _ := sess.data.(*conn); c != nil {
		return c.pull(dst)
	}
	return dst
}

// upgraded hands c's drain to the writers if a poll was to take it.
func (s *Server) upgraded(sess *session) {
	if c, _ := sess.data.(*conn); c != nil {
		c.toWriters()
	}
}

// drain writes the backlog (on the first drain) and then everything
// queued, until the queue is empty. On a write error it closes the
// session.
func (c *conn) drain(first bool) {
	c.mu.Lock()
	client := c.client
	c.mu.Unlock()
	if client == nil {
		return
	}
	if first {
		if !c.send(eventPacket(hub.KindBacklog, hub.JSONArray(client.Backlog))) {
			return
		}
		client.Backlog = nil
		if !c.sess.onWebSocket.Load() {
			// After the backlog, the polls take the posts.
			c.wake()
			return
		}
	}
	var small [8]*hub.Message
	for {
		batch, ok := client.Take(small[:0])
		if !ok {
			return
		}
		if err := c.write(batch); err != nil {
			c.s.log.Debug("write failed; closing the connection", "sid", c.sess.id, "err", err)
			c.sess.close("write failed", eioClose)
			return
		}
		c.wrote(batch)
		clear(batch)
	}
}

// write sends a batch on WebSocket as shared ready-made frames in one
// system call. Drains run only on WebSocket: on polling the polls take
// the posts (pull).
func (c *conn) write(batch []*hub.Message) error {
	ws := c.sess.webSocket()
	if ws == nil {
		return errors.New("a drain ran on a polling session")
	}
	return ws.writeFrames(batch)
}

// eventBody is the Socket.IO EVENT packet inside m's shared WebSocket
// frame: the frame without its header and Engine.IO type.
func eventBody(m *hub.Message) []byte {
	f := m.Wire(wsFrame)
	switch f[1] & 0x7f {
	case 126:
		return f[4+1:]
	case 127:
		return f[10+1:]
	}
	return f[2+1:]
}

// eventPacket is the Socket.IO EVENT `2["<event>",<data>]` on the root
// namespace. Event names are constants without characters JSON escapes.
func eventPacket(event string, data []byte) []byte {
	b := make([]byte, 0, len(`2["",]`)+len(event)+len(data))
	b = append(b, `2["`...)
	b = append(b, event...)
	b = append(b, `",`...)
	b = append(b, data...)
	return append(b, ']')
}
