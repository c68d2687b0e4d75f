package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// sessionHandler is what runs on top of Engine.IO sessions (the Socket.IO
// layer). The engine calls message for one session from one goroutine at
// a time: the POST being read or the WebSocket's reader.
type sessionHandler interface {
	// open is called once the handshake has been sent.
	open(s *session)
	// message is called for every MESSAGE packet the client sends.
	message(s *session, p packet)
	// closed is called once, when the session ends for any reason.
	closed(s *session, reason string)
	// pull appends to dst what the session's client has waiting outside
	// the session's queue (the hub's posts), for a poll to answer with.
	// It is called with the session's lock held and must not block.
	pull(s *session, dst []packet) []packet
	// upgraded is called once the session is on WebSocket.
	upgraded(s *session)
}

// engineConfig holds the engine's settings, with defaults filled in.
type engineConfig struct {
	pingInterval time.Duration
	pingTimeout  time.Duration
	// maxPayload is the largest POST body or WebSocket message a client
	// may send, and what EIO 4 clients are told to split their payloads by.
	maxPayload int
	// upgradeTimeout bounds the WebSocket upgrade from probe to UPGRADE.
	upgradeTimeout time.Duration
	// writeTimeout bounds each write to a WebSocket.
	writeTimeout time.Duration
	// maxPending and maxPendingAddr cap the pending sessions (see
	// session.pending), in all and per client address.
	maxPending     int
	maxPendingAddr int
}

// engine is an Engine.IO server for protocol versions 3 (socket.io-client
// 2.x) and 4 (3.x and later), on HTTP long-polling and WebSocket, chosen
// per request by the EIO query parameter as Node's server does with
// allowEIO3. Origins are checked by the caller before ServeHTTP.
type engine struct {
	cfg      engineConfig
	h        sessionHandler
	upgrader websocket.Upgrader

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
	// pending counts the pending sessions, in all and by address.
	pending   int
	pendingBy map[string]int

	// poll waits for the idle WebSockets' clients (see poller); nil
	// where there is none, and then each WebSocket has a reader
	// goroutine. Made on the first WebSocket, under pollOnce.
	poll     *poller
	pollOnce sync.Once
}

// poller is the engine's poller, made on first use; nil if there is none.
func (e *engine) poller() *poller {
	e.pollOnce.Do(func() {
		if p, err := newPoller(); err == nil {
			e.poll = p
		}
	})
	return e.poll
}

func newEngine(cfg engineConfig, h sessionHandler) *engine {
	return &engine{
		cfg: cfg,
		h:   h,
		upgrader: websocket.Upgrader{
			// Messages are read from the TCP connection directly
			// (readMessage): gorilla's reader, which it allocates
			// anyway, is never used, so it gets the smallest.
			ReadBufferSize:  1,
			WriteBufferSize: 4096,
			WriteBufferPool: &wsWriteBuffers,
			// The Server has checked the Origin already, for both
			// transports.
			CheckOrigin: func(*http.Request) bool { return true },
		},
		sessions:  make(map[string]*session),
		pendingBy: make(map[string]int),
	}
}

// errTooManyPending refuses a handshake past the pending caps.
var errTooManyPending = errors.New("too many sessions opened and not come back to")

// addrOf is the client address a request came from, without the port.
func addrOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// pendingCount is how many sessions are pending now.
func (e *engine) pendingCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pending
}

// settle ends s's pending state: its client came back.
func (e *engine) settle(s *session) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settleLocked(s)
}

func (e *engine) settleLocked(s *session) {
	if !s.pending {
		return
	}
	s.pending = false
	e.pending--
	if e.pendingBy[s.addr]--; e.pendingBy[s.addr] <= 0 {
		delete(e.pendingBy, s.addr)
	}
}

// newID returns 128 random bits, URL-safe: session ids are credentials (a
// request naming one reads that session's messages), so they must not be
// guessable the way go-socket.io's counter ("1", "2", ...) is.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Engine.IO error codes, as Node's server sends them in a 400's JSON body.
const (
	errTransportUnknown   = 0
	errSessionUnknown     = 1
	errBadHandshakeMethod = 2
	errBadRequest         = 3
	errUnsupportedVersion = 5
)

// params are the query parameters ServeHTTP reads on every request.
type params struct {
	eio, transport, sid string
	jsonp               bool // j is there
}

// parseParams reads them as url.Values does (the first of each), but
// without building the map when nothing in the query is escaped: every
// poll parses one, and the map was 2% of the server's CPU under polling.
func parseParams(raw string) params {
	if strings.ContainsAny(raw, "%+;") {
		q, _ := url.ParseQuery(raw)
		return params{eio: q.Get("EIO"), transport: q.Get("transport"), sid: q.Get("sid"), jsonp: q.Has("j")}
	}
	var p params
	var eio, transport, sid bool
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "EIO" && !eio:
			p.eio, eio = v, true
		case k == "transport" && !transport:
			p.transport, transport = v, true
		case k == "sid" && !sid:
			p.sid, sid = v, true
		case k == "j":
			p.jsonp = true
		}
	}
	return p
}

// httpError answers as Node's engine.io does: 400 with {"code","message"}.
func httpError(w http.ResponseWriter, status, code int, msg string) {
	b, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (e *engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := parseParams(r.URL.RawQuery)
	if q.jsonp {
		// JSONP would make us write script around the client's j
		// parameter; no client we serve needs it.
		httpError(w, http.StatusBadRequest, errBadRequest, "JSONP polling is not supported: use XHR polling or WebSocket.")
		return
	}
	var eio int
	switch q.eio {
	case "3":
		eio = 3
	case "4":
		eio = 4
	default:
		httpError(w, http.StatusBadRequest, errUnsupportedVersion, "Unsupported protocol version: give EIO=3 or EIO=4.")
		return
	}
	transport := q.transport
	if transport != "polling" && transport != "websocket" {
		httpError(w, http.StatusBadRequest, errTransportUnknown, "Transport unknown: give transport=polling or transport=websocket.")
		return
	}
	if transport == "polling" {
		setCORS(w, r)
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	sid := q.sid
	if sid == "" {
		if transport == "websocket" {
			e.openWS(w, r, eio)
			return
		}
		if r.Method != http.MethodGet {
			httpError(w, http.StatusBadRequest, errBadHandshakeMethod, "Bad handshake method: open a session with GET.")
			return
		}
		e.openPolling(w, r, eio)
		return
	}
	e.mu.Lock()
	s := e.sessions[sid]
	e.mu.Unlock()
	if s == nil || s.eio != eio {
		httpError(w, http.StatusBadRequest, errSessionUnknown, "Session ID unknown.")
		return
	}
	e.settle(s)
	if transport == "websocket" {
		s.upgradeWS(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.poll(w, r)
	case http.MethodPost:
		s.post(w, r)
	default:
		httpError(w, http.StatusBadRequest, errBadRequest, "Bad request method: poll with GET, send with POST.")
	}
}

// setCORS lets a page from another (allowed) origin read the polling
// responses, with its cookies.
func setCORS(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
}

// newSession registers a session; nil once the engine is closed.
func (e *engine) newSession(r *http.Request, eio int, ws *wsConn) (*session, error) {
	q := r.URL.Query()
	s := &session{
		addr: addrOf(r),
		// A polling session is pending until its client comes back
		// with its id; a WebSocket one has its client on the line.
		pending: ws == nil,
		e:       e,
		ws:      ws,
		id:      newID(),
		eio:     eio,
		b64:     eio == 3 && q.Get("b64") != "",
		since:   q.Get("since"),
		remote:  r.RemoteAddr,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),

		upgraded: make(chan struct{}),
	}
	s.onWebSocket.Store(ws != nil)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errSessionClosed
	}
	if s.pending {
		if e.pending >= e.cfg.maxPending || e.pendingBy[s.addr] >= e.cfg.maxPendingAddr {
			return nil, errTooManyPending
		}
		e.pending++
		e.pendingBy[s.addr]++
	}
	e.sessions[s.id] = s
	return s, nil
}

// openPacket is the handshake. EIO 3 clients know no maxPayload.
func (e *engine) openPacket(s *session, upgrades []string) packet {
	type open3 struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
	}
	type open4 struct {
		open3
		MaxPayload int `json:"maxPayload"`
	}
	o := open3{s.id, upgrades, e.cfg.pingInterval.Milliseconds(), e.cfg.pingTimeout.Milliseconds()}
	var b []byte
	if s.eio == 3 {
		b, _ = json.Marshal(o)
	} else {
		b, _ = json.Marshal(open4{o, e.cfg.maxPayload})
	}
	return packet{typ: eioOpen, data: b}
}

func (e *engine) openPolling(w http.ResponseWriter, r *http.Request, eio int) {
	s, err := e.newSession(r, eio, nil)
	if errors.Is(err, errTooManyPending) {
		// Handshakes nobody comes back to (a flood, or a proxy's many
		// clients at once): refuse more until some settle or expire.
		w.Header().Set("Retry-After", "5")
		httpError(w, http.StatusServiceUnavailable, errBadRequest, "Too many sessions opened and not come back to, from this address or in all: try again in a few seconds.")
		return
	}
	if err != nil {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	// A client that does not come back within the ping timeout has
	// abandoned the handshake: its session ends then, not after the
	// whole heartbeat.
	time.AfterFunc(e.cfg.pingTimeout, func() {
		e.mu.Lock()
		abandoned := s.pending
		e.mu.Unlock()
		if abandoned {
			s.close("the client never came back after the handshake", eioClose)
		}
	})
	s.startHeartbeat()
	// Opened before the client learns its sid, so that no request of its
	// can come first; what open sends waits in the queue for the first
	// poll, and the handshake goes alone, as clients expect.
	e.h.open(s)
	if err := s.writePayload(w, []packet{e.openPacket(s, []string{"websocket"})}); err != nil {
		s.close("handshake write failed: "+err.Error(), eioClose)
	}
}

func (e *engine) openWS(w http.ResponseWriter, r *http.Request, eio int) {
	c, err := e.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws := newWSConn(c, e.cfg)
	s, err := e.newSession(r, eio, ws)
	if err != nil {
		ws.close(websocket.CloseGoingAway, "server shutting down")
		return
	}
	if err := ws.writePackets([]packet{e.openPacket(s, []string{})}, eio); err != nil {
		s.close("handshake write failed: "+err.Error(), eioClose)
		return
	}
	s.startHeartbeat()
	e.h.open(s)
	// This goroutine (net/http's, its stack grown by the handshake) is
	// not needed once the connection is hijacked.
	s.await(ws)
}

func (e *engine) remove(s *session) {
	e.mu.Lock()
	e.settleLocked(s)
	delete(e.sessions, s.id)
	e.mu.Unlock()
}

// close ends every session and refuses new ones.
func (e *engine) close() {
	e.mu.Lock()
	e.closed = true
	all := make([]*session, 0, len(e.sessions))
	for _, s := range e.sessions {
		all = append(all, s)
	}
	e.mu.Unlock()
	for _, s := range all {
		s.close("server shutting down", eioClose)
	}
	// Once closed (or never made), no poller is made any more.
	e.pollOnce.Do(func() {})
	if e.poll != nil {
		e.poll.close()
	}
}

// upgradeSettle is how long a poll that comes during an upgrade waits
// for it to complete.
const upgradeSettle = 100 * time.Millisecond

// closeLinger is how long a polling session that the client closed stays
// findable for the poll that was on its way.
const closeLinger = time.Second

// session is one Engine.IO connection, on polling or on WebSocket.
type session struct {
	e   *engine
	id  string
	eio int
	b64 bool // EIO 3 polling client that wants text payloads
	// since is the query's since: the last post the client has seen.
	// (The whole query, a map, is not kept for the session's life.)
	since  string
	remote string
	addr   string // the client's address, without the port
	// pending: a polling session whose client has not come back since
	// the handshake (guarded by the engine's mu).
	pending bool
	// onWebSocket is ws != nil, readable without mu: the hub asks it
	// with its own lock held (conn.wake).
	onWebSocket atomic.Bool
	// data is the handler's, set in open.
	data any

	mu sync.Mutex
	// ws is the transport once the session is on WebSocket (from the
	// start, or after an upgrade); a session never leaves it.
	ws *wsConn
	// upgrading is set between the probe and UPGRADE: polls return at once
	// (with NOOP when there is nothing to send) so the client can pause.
	upgrading bool
	probe     *wsConn
	claimed   bool     // a WebSocket for the upgrade is on its way or in place
	queue     []packet // for the next poll
	polling   bool     // a GET is being served
	posting   bool     // a POST is being read
	closed    bool
	// lastPacket ends the poll that is pending when the session closes:
	// CLOSE, or NOOP when the client asked to close.
	lastPacket byte
	// awaitingPong: EIO 4 sent a PING and waits for its PONG.
	awaitingPong bool
	pingAt       time.Time // when the next PING is due
	pongDeadline time.Time
	heartbeat    *time.Timer

	// upgraded is closed when the session moves to WebSocket.
	upgraded chan struct{}

	wake chan struct{} // a pending poll has something to look at
	done chan struct{} // closed when the session is
}

// Transport names the session's current transport.
func (s *session) transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws != nil {
		return "websocket"
	}
	return "polling"
}

// webSocket is the session's WebSocket, or nil while it is on polling.
func (s *session) webSocket() *wsConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ws
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

var errSessionClosed = errors.New("session closed")

// send writes packets to the client: on WebSocket at once, on polling
// into the queue that the next poll empties.
func (s *session) send(pkts ...packet) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errSessionClosed
	}
	if ws := s.ws; ws != nil {
		s.mu.Unlock()
		return ws.writePackets(pkts, s.eio)
	}
	s.queue = append(s.queue, pkts...)
	s.mu.Unlock()
	s.signal()
	return nil
}

// close ends the session once; later calls do nothing.
func (s *session) close(reason string, last byte) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.lastPacket = last
	ws, probe := s.ws, s.probe
	// A polling client that sends CLOSE often has its poll on the way
	// (engine.io-client sends both at once): the poll that arrives just
	// after the CLOSE still gets its NOOP, rather than 400 for a session
	// that is already gone.
	linger := last == eioNoop && ws == nil && !s.polling
	if s.heartbeat != nil {
		s.heartbeat.Stop()
	}
	close(s.done)
	s.mu.Unlock()
	if linger {
		time.AfterFunc(closeLinger, func() { s.e.remove(s) })
	} else {
		s.e.remove(s)
	}
	if ws != nil {
		ws.close(websocket.CloseNormalClosure, reason)
	}
	if probe != nil {
		probe.close(websocket.CloseNormalClosure, reason)
	}
	s.e.h.closed(s, reason)
}

// startHeartbeat arms the session's one timer. EIO 3: the client pings,
// and silence for pingInterval+pingTimeout ends the session. EIO 4: the
// server pings every pingInterval and waits pingTimeout for the PONG.
func (s *session) startHeartbeat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eio == 3 {
		s.heartbeat = time.AfterFunc(s.e.cfg.pingInterval+s.e.cfg.pingTimeout, func() {
			s.close("ping timeout", eioClose)
		})
		return
	}
	s.pingAt = time.Now().Add(s.e.cfg.pingInterval)
	s.heartbeat = time.AfterFunc(s.e.cfg.pingInterval, s.beat)
}

// overdue reports, with mu held, whether an EIO 4 session's PONG is late
// by the clock, whether or not the timer has run yet: it is measured from
// when the PING was due, not from when the timer got to send it.
func (s *session) overdue(now time.Time) bool {
	if s.eio != 4 || s.heartbeat == nil {
		return false
	}
	if s.awaitingPong {
		return now.After(s.pongDeadline)
	}
	return now.After(s.pingAt.Add(s.e.cfg.pingTimeout))
}

// beat is the EIO 4 timer: send a PING, or time out waiting for its PONG.
func (s *session) beat() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.awaitingPong {
		s.mu.Unlock()
		s.close("ping timeout", eioClose)
		return
	}
	s.awaitingPong = true
	s.pongDeadline = s.pingAt.Add(s.e.cfg.pingTimeout)
	s.heartbeat.Reset(time.Until(s.pongDeadline))
	s.mu.Unlock()
	if err := s.send(packet{typ: eioPing}); err != nil && !errors.Is(err, errSessionClosed) {
		s.close("ping write failed: "+err.Error(), eioClose)
	}
}

// alive notes a packet from the client for the heartbeat.
func (s *session) alive(p packet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.eio == 3 {
		s.heartbeat.Reset(s.e.cfg.pingInterval + s.e.cfg.pingTimeout)
		return
	}
	if p.typ == eioPong && s.awaitingPong {
		s.awaitingPong = false
		s.pingAt = time.Now().Add(s.e.cfg.pingInterval)
		s.heartbeat.Reset(s.e.cfg.pingInterval)
	}
}

// handle acts on one packet from the client; false means the session
// has ended.
func (s *session) handle(p packet) bool {
	s.alive(p)
	switch p.typ {
	case eioMessage:
		s.e.h.message(s, p)
	case eioPing:
		// EIO 3 clients ping; the PONG carries the ping's data back.
		if s.eio == 3 {
			if err := s.send(packet{typ: eioPong, data: p.data}); err != nil {
				s.close("pong write failed: "+err.Error(), eioClose)
				return false
			}
		}
	case eioPong, eioNoop:
	case eioClose:
		s.close("client close", eioNoop)
		return false
	default:
		s.close(fmt.Sprintf("unexpected packet type %c", p.typ), eioClose)
		return false
	}
	return true
}

// poll answers a GET with what is queued, waiting for something to come.
func (s *session) poll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.claimed && !s.polling {
		// A poll sent after the client opened its WebSocket, maybe
		// with PING probe and UPGRADE on their way: let them land first,
		// briefly, and refuse the poll as Node's server (whose one loop
		// reads the WebSocket first) does. A poll already waiting when
		// the probe comes ends with NOOP at once instead.
		s.mu.Unlock()
		select {
		case <-s.upgraded:
		case <-s.done:
		case <-time.After(upgradeSettle):
		}
		s.mu.Lock()
	}
	if s.ws != nil {
		s.mu.Unlock()
		httpError(w, http.StatusBadRequest, errBadRequest, "The session is on WebSocket now.")
		return
	}
	if s.overdue(time.Now()) {
		// The timer is due but has not run yet (timers and requests
		// race here, unlike in Node's one loop): the session is over.
		s.mu.Unlock()
		s.close("ping timeout", eioClose)
		httpError(w, http.StatusBadRequest, errSessionUnknown, "Session ID unknown.")
		return
	}
	if s.polling {
		s.mu.Unlock()
		// Node's server does the same: two polls at once are a broken
		// client, and the first poll is ended with CLOSE.
		s.close("overlapping polls", eioClose)
		httpError(w, http.StatusBadRequest, errBadRequest, "Overlapping polls: wait for one poll to end before the next.")
		return
	}
	s.polling = true
	var pkts []packet
	for {
		if s.closed {
			pkts = append(s.queue, packet{typ: s.lastPacket})
			s.queue = nil
			break
		}
		if !s.upgrading && s.ws == nil {
			// Posts wait in the hub's queue until a poll takes them
			// (conn.pull): no goroutine and no hand-off per post and
			// client, and a client that stops polling fills its hub
			// queue and is dropped as slow.
			s.queue = s.e.h.pull(s, s.queue)
		}
		if len(s.queue) > 0 {
			pkts, s.queue = s.queue, nil
			break
		}
		if s.upgrading || s.ws != nil {
			pkts = []packet{{typ: eioNoop}}
			break
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-s.done:
		case <-r.Context().Done():
			s.mu.Lock()
			s.polling = false
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
	}
	s.polling = false
	closed := s.closed
	s.mu.Unlock()
	if closed {
		s.e.remove(s)
	}
	if err := s.writePayload(w, pkts); err != nil {
		s.close("poll write failed: "+err.Error(), eioClose)
	}
}

// writePayload writes a poll's response in the client's encoding.
func (s *session) writePayload(w http.ResponseWriter, pkts []packet) error {
	bp := payloadBuffers.Get().(*[]byte)
	defer payloadBuffers.Put(bp)
	b := (*bp)[:0]
	h := w.Header()
	// Assigned rather than Set: the names are canonical already, and the
	// values shared (net/http copies the header before writing it).
	switch {
	case s.eio == 4:
		h["Content-Type"] = textPayload
		b = appendPayloadV4(b, pkts)
	case s.b64:
		h["Content-Type"] = textPayload
		b = appendPayloadV3Text(b, pkts)
	default:
		h["Content-Type"] = binaryPayload
		b = appendPayloadV3Binary(b, pkts)
	}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	_, err := w.Write(b)
	if cap(b) <= maxPooledPayload {
		*bp = b
	}
	return err
}

var (
	textPayload   = []string{"text/plain; charset=UTF-8"}
	binaryPayload = []string{"application/octet-stream"}
	// payloadBuffers hold polling responses while they are written (the
	// response writer copies them): one allocation fewer per poll.
	payloadBuffers = sync.Pool{New: func() any { return new([]byte) }}
)

// maxPooledPayload is the largest buffer kept for the next poll: a burst
// (a backlog, a client that fell behind) should not pin its memory.
const maxPooledPayload = 16 << 10

// post reads a payload the client sent.
func (s *session) post(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.ws != nil || s.closed {
		s.mu.Unlock()
		httpError(w, http.StatusBadRequest, errBadRequest, "The session is closed or on WebSocket now.")
		return
	}
	if s.posting {
		s.mu.Unlock()
		s.close("overlapping posts", eioClose)
		httpError(w, http.StatusBadRequest, errBadRequest, "Overlapping posts: wait for one to end before the next.")
		return
	}
	s.posting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.mu.Unlock()
	}()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.e.cfg.maxPayload)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.close("payload too large", eioClose)
			http.Error(w, fmt.Sprintf("payload larger than maxPayload (%d bytes)", s.e.cfg.maxPayload), http.StatusRequestEntityTooLarge)
			return
		}
		s.close("post read failed: "+err.Error(), eioClose)
		return
	}
	var pkts []packet
	switch {
	case s.eio == 4:
		pkts, err = decodePayloadV4(body)
	case r.Header.Get("Content-Type") == "application/octet-stream":
		pkts, err = decodePayloadV3Binary(body)
	default:
		pkts, err = decodePayloadV3Text(body)
	}
	if err != nil {
		s.close("parse error", eioClose)
		httpError(w, http.StatusBadRequest, errBadRequest, err.Error())
		return
	}
	for _, p := range pkts {
		if !s.handle(p) {
			break
		}
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "ok")
}

// upgradeWS moves a polling session to WebSocket: the client sends PING
// "probe" on the new connection, the server answers PONG "probe" and ends
// the pending poll with NOOP, the client sends UPGRADE, and from then on
// the session's packets go over the WebSocket.
func (s *session) upgradeWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	busy := s.ws != nil || s.claimed || s.closed
	// Claimed before the 101 goes out: a second WebSocket that comes
	// right after it is refused, never raced.
	s.claimed = !busy
	s.mu.Unlock()
	if busy {
		// As Node's server does: accepted, then closed at once.
		if c, err := s.e.upgrader.Upgrade(w, r, nil); err == nil {
			newWSConn(c, s.e.cfg).close(websocket.ClosePolicyViolation, "the session is already on WebSocket or upgrading")
		}
		return
	}
	c, err := s.e.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.mu.Lock()
		s.claimed = false
		s.mu.Unlock()
		return
	}
	ws := newWSConn(c, s.e.cfg)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.close(websocket.CloseNormalClosure, "session closed")
		return
	}
	s.probe = ws
	s.mu.Unlock()
	go s.upgrade(ws)
}

func (s *session) upgrade(ws *wsConn) {
	fail := func(why string) {
		s.mu.Lock()
		if s.probe == ws {
			s.probe, s.upgrading, s.claimed = nil, false, false
		}
		s.mu.Unlock()
		ws.close(websocket.ClosePolicyViolation, why)
	}
	_ = ws.nc.SetReadDeadline(time.Now().Add(s.e.cfg.upgradeTimeout))
	p, err := ws.readPacket(s.eio)
	if err != nil || p.typ != eioPing || string(p.data) != "probe" {
		fail("expected the probe")
		return
	}
	if err := ws.writePackets([]packet{{typ: eioPong, data: p.data}}, s.eio); err != nil {
		fail("probe write failed")
		return
	}
	s.mu.Lock()
	s.upgrading = true
	s.mu.Unlock()
	s.signal()
	p, err = ws.readPacket(s.eio)
	if err != nil || p.typ != eioUpgrade {
		fail("expected UPGRADE")
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return // close has closed the probe
	}
	s.probe, s.upgrading, s.ws = nil, false, ws
	s.onWebSocket.Store(true)
	close(s.upgraded)
	// Flushed under the lock, so that whatever send runs next finds the
	// WebSocket and goes after these.
	queued := s.queue
	s.queue = nil
	var werr error
	if len(queued) > 0 {
		werr = ws.writePackets(queued, s.eio)
	}
	s.mu.Unlock()
	s.signal()
	if werr != nil {
		s.close("write failed: "+werr.Error(), eioClose)
		return
	}
	s.e.h.upgraded(s)
	_ = ws.nc.SetReadDeadline(time.Time{})
	s.alive(p)
	s.await(ws)
}

// await reads the session's WebSocket from now on: through the engine's
// poller, with a goroutine only while the client has sent something, or,
// without a poller, with a reader goroutine for the session's life.
func (s *session) await(ws *wsConn) {
	if p := s.e.poller(); p != nil {
		if w, err := p.watch(ws.nc, func() { go s.readReady(ws) }); err == nil {
			ws.watch.Store(w)
			s.arm(ws)
			return
		}
	}
	go s.readWS(ws)
}

// readReady reads what made the WebSocket readable, one message, and
// waits on the poller again.
func (s *session) readReady(ws *wsConn) {
	p, err := ws.readPacket(s.eio)
	if err != nil {
		s.close(readFailure(err), eioClose)
		return
	}
	if s.handle(p) {
		s.arm(ws)
	}
}

// arm asks the poller for the WebSocket's next readiness.
func (s *session) arm(ws *wsConn) {
	w := ws.watch.Load()
	if err := w.arm(); err != nil {
		s.close("transport error: "+err.Error(), eioClose)
		return
	}
	// close stops the watch it finds; one stored after close looked
	// is stopped here (close marks the session done before it looks).
	select {
	case <-s.done:
		w.stop()
	default:
	}
}

// readFailure is the close reason for a failed read.
func readFailure(err error) string {
	switch {
	case errors.Is(err, errPayload):
		return "parse error"
	case errors.Is(err, errReadLimit):
		return "payload too large"
	}
	return "transport close"
}

// readWS reads the session's packets until the connection ends.
func (s *session) readWS(ws *wsConn) {
	for {
		p, err := ws.readPacket(s.eio)
		if err != nil {
			s.close(readFailure(err), eioClose)
			return
		}
		if !s.handle(p) {
			return
		}
	}
}
