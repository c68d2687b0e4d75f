// Package zishang connects Socket.IO clients (socket.io-client 2.x,
// Engine.IO v3) to the hub through github.com/zishang520/socket.io v3, a
// Go port of the Node.js server, with AllowEIO3 for our v2 clients.
//
// It exists for the library comparison of issue #6: the same hub behind the
// same seam as server/socketio (Tweetwire's own Engine.IO), so that the load
// generator measures the two libraries on the same scenarios. The product
// binary does not use it; server/tools/loadgen/twprof --socketio zishang520 does.
//
// As in server/socketio, the library does the handshake, transports,
// heartbeats and upgrades; posts never go through its Emit, rooms or
// broadcast. Each connection drains its own hub queue in a goroutine that
// exists only while posts wait, and hands the hub's pre-encoded Socket.IO
// packet to the connection's Engine.IO socket (engine.Socket.Write), which
// adds only the Engine.IO MESSAGE type.
package zishang

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/tweetwire/tweetwire/server/hub"
)

// Config wires a Server: the same fields as socketio.Config. Zero
// durations mean "use the default".
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
	log    *slog.Logger
	io     *socket.Server
	engine http.Handler

	closed atomic.Bool
	mu     sync.Mutex
	conns  map[*conn]struct{}
}

var _ http.Handler = (*Server)(nil)

// New returns a Server; call Run to close its connections when done.
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
	s := &Server{cfg: cfg, log: cfg.Logger, conns: make(map[*conn]struct{})}

	opts := socket.DefaultServerOptions()
	opts.SetAllowEIO3(true)
	opts.SetPingInterval(cfg.PingInterval)
	opts.SetPingTimeout(cfg.PingTimeout)
	opts.SetServeClient(false)
	opts.SetTransports(types.NewSet(engine.Polling, engine.WebSocket))
	// ServeHTTP refuses a disallowed Origin before the library sees the
	// request, so whatever reaches it may have its Origin reflected (as
	// the Node.js reference does with origin: true). Without a CORS
	// setting the library's WebSocket upgrader would fall back to
	// gorilla's same-origin check and refuse the Chrome extension.
	opts.SetCors(&types.Cors{Origin: true, Credentials: true})
	// The same check again at the handshake, for a handler mounted
	// without ServeHTTP in front.
	opts.SetAllowRequest(func(ctx *types.HttpContext) error {
		if !s.allowed(ctx.Request()) {
			return errors.New("origin not allowed")
		}
		return nil
	})
	s.io = socket.NewServer(nil, opts)
	_ = s.io.On("connection", s.onConnect)
	s.engine = s.io.ServeHandler(nil)
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
	if s.closed.Load() {
		http.Error(w, "server is shutting down: reconnect in a moment", http.StatusServiceUnavailable)
		return
	}
	s.engine.ServeHTTP(w, r)
}

// Run waits until ctx is done, then closes every connection. The library
// needs no loop of its own: it serves from ServeHTTP and its own
// per-connection goroutines.
func (s *Server) Run(ctx context.Context) error {
	<-ctx.Done()
	s.closed.Store(true)
	// Close runs every socket's disconnect handler (ours takes s.mu),
	// then closes the Engine.IO sessions, including those still in the
	// handshake.
	s.io.Close(nil)
	return nil
}

// Clients counts the connected clients by current transport.
func (s *Server) Clients() map[string]int {
	out := map[string]int{"websocket": 0, "polling": 0}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		// The Engine.IO socket's transport follows an upgrade from
		// polling to websocket.
		if t := c.eng.Transport(); t != nil {
			out[t.Name()]++
		}
	}
	return out
}

// conn is one client: its Socket.IO socket, the Engine.IO session under
// it, and its hub subscription.
type conn struct {
	s      *Server
	sock   *socket.Socket
	eng    engine.Socket
	client *hub.Client

	once   sync.Once
	closed chan struct{} // closed on disconnect: ends a waiting drain
	sent   chan struct{} // a batch's write callback fired

	// buf and timer belong to the drain running at the time: the hub
	// runs one drain per client at a time.
	buf   []*hub.Message
	timer *time.Timer
}

// onConnect runs on the socket's own task queue after the library wrote
// the CONNECT packet (`40`) to its Engine.IO buffer, so anything we write
// follows it.
func (s *Server) onConnect(args ...any) {
	sock, ok := args[0].(*socket.Socket)
	if !ok {
		s.log.Error("zishang520/socket.io passed no *socket.Socket to the connection handler: library version changed")
		return
	}
	c := &conn{s: s, sock: sock, eng: sock.Conn(), closed: make(chan struct{}), sent: make(chan struct{}, 1)}
	c.client = s.cfg.Hub.Subscribe(sock.Request().Query().Peek("since"), c.wake, c.kick)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	_ = sock.On("disconnect", func(reason ...any) {
		s.log.Debug("disconnected", "sid", sock.Id(), "reason", reason)
		c.close()
	})
	// The socket may have closed before our disconnect listener was in
	// place; the library clears connected before it emits disconnect.
	if !sock.Connected() || s.closed.Load() {
		c.close()
		c.eng.Close(true)
		return
	}
	go c.drain(true)
}

// close forgets the client; safe to call more than once.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.closed)
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		c.s.cfg.Hub.Unsubscribe(c.client)
	})
}

// wake runs with the hub's lock held: it only starts the drain.
func (c *conn) wake() { go c.drain(false) }

// kick closes a client the hub dropped as slow. Close(true) discards the
// transport at once: a graceful close would wait for the library's write
// buffer to drain, which a client that stopped reading never does.
func (c *conn) kick() {
	c.s.log.Info("dropped slow client", "sid", c.sock.Id(), "remote", c.eng.RemoteAddress())
	c.eng.Close(true)
}

// onSent is the Engine.IO write callback: the library calls it once the
// transport has written the packets flushed with it.
func (c *conn) onSent(transports.Transport) {
	select {
	case c.sent <- struct{}{}:
	default:
	}
}

// stuckCheck is how long a drain waits for a write callback before it
// looks at the transport itself (see wait).
const stuckCheck = time.Second

// drain writes the backlog (first drain only), then everything queued,
// until Take reports the queue empty. engine.Socket.Write never blocks:
// it appends to the library's own unbounded buffer. So after each batch
// the drain waits for the write callback before it takes more; meanwhile
// posts stay in the hub's bounded queue, and a client that stops reading
// overflows it and is dropped, as with server/socketio.
func (c *conn) drain(backlog bool) {
	if backlog {
		c.eng.Write(strings.NewReader(string(encodeEvent(hub.KindBacklog, hub.JSONArray(c.client.Backlog)))), nil, nil)
		c.client.Backlog = nil
	}
	for {
		msgs, ok := c.client.Take(c.buf[:0])
		if !ok {
			return
		}
		for i, m := range msgs {
			var done engine.SendCallback
			if i == len(msgs)-1 {
				done = c.onSent
			}
			c.eng.Write(wireReader(m), nil, done)
		}
		if !c.wait() {
			return
		}
		if c.s.cfg.OnWrite != nil {
			for _, m := range msgs {
				c.s.cfg.OnWrite(m)
			}
		}
		clear(msgs)
		c.buf = msgs[:0]
	}
}

// wait blocks until the last batch was written, and reports false when
// the client went away instead.
//
// The library keeps one callback list per flush and pops one per
// transport "drain" event; a drain that is lost (a polling response that
// finishes while an upgrade swaps the transport) or an extra one (the
// upgrade's no-op poll) shifts every later callback by one, and a drain
// waiting for a late callback would stall until some other packet is
// flushed. So after stuckCheck a writable transport counts as proof too:
// a transport is unwritable exactly while a send is in flight, and the
// library flushes its buffer the moment it becomes writable again, so by
// then everything written before has been sent.
func (c *conn) wait() bool {
	if c.timer == nil {
		c.timer = time.NewTimer(stuckCheck)
	} else {
		c.timer.Reset(stuckCheck)
	}
	defer c.timer.Stop()
	for {
		select {
		case <-c.sent:
			return true
		case <-c.closed:
			return false
		case <-c.timer.C:
			if t := c.eng.Transport(); t != nil && t.Writable() {
				return true
			}
			c.timer.Reset(stuckCheck)
		}
	}
}

// wireReader returns a reader over m's Socket.IO packet, encoded once for
// every client. A *strings.Reader is what makes the library send a text
// frame (any other io.Reader is sent as binary); the string shares the
// cached bytes, which nobody modifies, so no client copies them here. The
// library still copies them once per client, behind its `4` (Engine.IO
// MESSAGE), before the frame is written.
//
// packet.Options.WsPreEncodedFrame, the library's way to skip that copy,
// is not used: its WebSocket transport builds a new gorilla
// PreparedMessage from it for every socket and packet, which allocates a
// 4 KB write buffer and a Conn each time: dearer than the copy it saves.
func wireReader(m *hub.Message) *strings.Reader {
	b := m.Wire(func(m *hub.Message) []byte { return encodeEvent(m.Kind, m.Data) })
	return strings.NewReader(unsafe.String(unsafe.SliceData(b), len(b)))
}

// encodeEvent returns the Socket.IO EVENT packet `2["<event>",<data>]` on
// the root namespace; the Engine.IO layer adds its MESSAGE type, `4`.
// Event names are constants without characters JSON would escape.
func encodeEvent(event string, data []byte) []byte {
	b := make([]byte, 0, len(event)+len(data)+6)
	b = append(b, `2["`...)
	b = append(b, event...)
	b = append(b, `",`...)
	b = append(b, data...)
	return append(b, ']')
}
