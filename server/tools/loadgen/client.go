package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// tally is what every client of one run adds to.
type tally struct {
	hist histogram
	// first and count delimit this run's posts: sequence numbers
	// [first, first+count). first is set just before publishing.
	first     atomic.Int64
	count     atomic.Int64
	delivered atomic.Int64
	dups      atomic.Int64 // posts a client had already seen
	lastRecv  atomic.Int64 // Unix nanos of the latest delivery
	connected atomic.Int64 // clients whose Socket.IO connect arrived
	drops     atomic.Int64 // disconnections after connecting
	reconnect atomic.Int64 // successful reconnections
	timeouts  atomic.Int64 // sessions the client closed for a ping timeout
	// sent, when set, holds the load generator's own publish time (Unix
	// nanos) of post first+i at i: latency is then measured on this
	// program's clock, not on the ts the server wrote into the post.
	sent []atomic.Int64
}

// dialer opens TCP connections from a rotating set of loopback source
// addresses, 127.0.0.2 and up, round-robin (net.Dialer.LocalAddr). Binding
// a source address reserves an ephemeral port on that address alone, so
// each address gives the whole ip_local_port_range (about 28,000 ports):
// 100,000 clients, or two runs of 10,000 with their TIME_WAITs, need
// several. Connecting to a server on 127.0.0.1 from 127.0.0.5 is ordinary
// loopback on Linux. 127.0.0.1 itself is left to everything else on the
// machine (the servers' control requests, other programs' tests), whose
// ephemeral ports a large run would otherwise take.
type dialer struct {
	sources []*net.TCPAddr
	next    atomic.Uint64
}

func newDialer(n int) *dialer {
	d := &dialer{}
	for i := range n {
		d.sources = append(d.sources, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))})
	}
	return d
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: 10 * time.Second}
	if len(d.sources) > 0 {
		nd.LocalAddr = d.sources[d.next.Add(1)%uint64(len(d.sources))]
	}
	return nd.DialContext(ctx, network, addr)
}

// client is one simulated browser: socket.io-client 2.x (Engine.IO v3)
// or 3.x/4.x (Engine.IO v4, Socket.IO v5) on WebSocket or on long
// polling. Only its own goroutine (run) touches lastSeq and the
// connection, except for ping and send, which take mu.
type client struct {
	env     *clientEnv
	lastSeq int64 // the newest post this client holds; -1 for none

	// hb is the session's heartbeat, from its open packet on; end closes
	// the session when the heartbeat expires. Both belong to run's
	// goroutine.
	hb  *heartbeat
	end func()

	mu   sync.Mutex
	ws   *websocket.Conn           // nil on polling
	sid  string                    // polling session
	post func(packet string) error // polling: POST a packet; nil on WebSocket
}

// clientEnv is what every client of one run shares.
type clientEnv struct {
	base    *url.URL // http://host:port
	polling bool
	eio     int // Engine.IO protocol: 3 or 4
	tally   *tally
	dialer  *dialer
	wsDial  *websocket.Dialer
	http    *http.Client
	// readBuffer bounds every read from a connection, as a browser's or
	// Node's socket reads a small chunk at a time.
	readBuffer int
	// maxReconnects bounds how often one client reconnects in a run.
	maxReconnects int
}

// clientOptions tunes the clients of a run; zero values mean the default.
type clientOptions struct {
	// ReadBuffer is the most one read from a connection takes (default
	// 4 KiB, what the independent generator and a browser's socket use).
	ReadBuffer int
	// Sources is how many loopback source addresses the clients dial
	// from, 127.0.0.2 and up (default 8).
	Sources int
}

const (
	defaultReadBuffer = 4 << 10
	defaultSources    = 8
)

func (o clientOptions) withDefaults() clientOptions {
	if o.ReadBuffer <= 0 {
		o.ReadBuffer = defaultReadBuffer
	}
	if o.Sources <= 0 {
		o.Sources = defaultSources
	}
	return o
}

func newClientEnv(base *url.URL, polling bool, eio, clients int, t *tally, opts clientOptions) *clientEnv {
	opts = opts.withDefaults()
	d := newDialer(opts.Sources)
	return &clientEnv{
		base:    base,
		polling: polling,
		eio:     eio,
		tally:   t,
		dialer:  d,
		wsDial: &websocket.Dialer{
			NetDialContext:   d.DialContext,
			HandshakeTimeout: 15 * time.Second,
			ReadBufferSize:   opts.ReadBuffer,
			WriteBufferSize:  256,
		},
		http: &http.Client{Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 2*clients + 16, // a GET and a POST each
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ReadBufferSize:      opts.ReadBuffer,
			WriteBufferSize:     opts.ReadBuffer,
		}},
		readBuffer:    opts.ReadBuffer,
		maxReconnects: 10,
	}
}

// socketURL is the Engine.IO endpoint, with since when resuming (both
// protocols take it in the query; v5 could also carry it in CONNECT).
func (e *clientEnv) socketURL(scheme, transport, sid string, since int64) string {
	u := *e.base
	u.Scheme = scheme
	u.Path = "/socket.io/"
	q := url.Values{"EIO": {strconv.Itoa(e.eio)}, "transport": {transport}}
	if sid != "" {
		q.Set("sid", sid)
	}
	if since >= 0 {
		q.Set("since", "bench:"+strconv.FormatInt(since, 10))
	}
	q.Set("t", strconv.FormatInt(time.Now().UnixNano(), 36))
	u.RawQuery = q.Encode()
	return u.String()
}

// errClosed is a close packet from the server.
var errClosed = errors.New("server sent close")

// errPingTimeout is the client giving up on a silent server, as
// socket.io-client does ("ping timeout").
var errPingTimeout = errors.New("ping timeout")

// run connects and reads until ctx ends, reconnecting (with since, so the
// server can send what was missed) after a disconnection. connected is
// called once, after the first Socket.IO connect (with nil) or after the
// first connection failed three times (with the last error).
func (c *client) run(ctx context.Context, connected func(err error)) {
	c.lastSeq = -1
	first := true
	reconnects := 0
	for ctx.Err() == nil {
		err := c.session(ctx, func() {
			c.env.tally.connected.Add(1)
			if first {
				first = false
				connected(nil)
			} else {
				c.env.tally.reconnect.Add(1)
			}
		})
		if ctx.Err() != nil {
			return
		}
		if first {
			// The first connection failed: try twice more, then
			// count this client as not connected.
			reconnects++
			if reconnects >= 3 {
				connected(err)
				return
			}
		} else {
			if err != nil && !errors.Is(err, errNeverConnected) {
				c.env.tally.drops.Add(1)
			}
			if errors.Is(err, errPingTimeout) {
				c.env.tally.timeouts.Add(1)
			}
			reconnects++
			if reconnects > c.env.maxReconnects {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(reconnects) * 200 * time.Millisecond):
		}
	}
}

var errNeverConnected = errors.New("no Socket.IO connect")

// session runs one connection until it fails or ctx ends.
func (c *client) session(ctx context.Context, onConnect func()) error {
	defer func() {
		if c.hb != nil {
			c.hb.stop()
			c.hb = nil
		}
	}()
	var err error
	if c.env.polling {
		err = c.pollSession(ctx, onConnect)
	} else {
		err = c.wsSession(ctx, onConnect)
	}
	if err != nil && c.hb != nil && c.hb.expired.Load() && ctx.Err() == nil {
		return errPingTimeout
	}
	return err
}

func (c *client) wsSession(ctx context.Context, onConnect func()) error {
	ws, _, err := c.env.wsDial.DialContext(ctx, c.env.socketURL("ws", "websocket", "", c.lastSeq), nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errNeverConnected, err)
	}
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	// Closing the connection is what ends a blocked read when the run
	// is over, or when the heartbeat expires.
	c.end = func() { _ = ws.Close() }
	stop := context.AfterFunc(ctx, c.end)
	defer func() {
		stop()
		c.mu.Lock()
		c.ws = nil
		c.mu.Unlock()
		_ = ws.Close()
	}()
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	connected := false
	buf := make([]byte, 0, 1024)
	for {
		_, r, err := ws.NextReader()
		if err != nil {
			if !connected {
				return fmt.Errorf("%w: %v", errNeverConnected, err)
			}
			return err
		}
		buf, err = readAll(r, buf[:0], c.env.readBuffer)
		if err != nil {
			return err
		}
		now := time.Now()
		if len(buf) == 0 {
			continue
		}
		if err := c.onPacket(buf[0], buf[1:], now, func() {
			connected = true
			_ = ws.SetReadDeadline(time.Time{})
			onConnect()
		}); err != nil {
			return err
		}
	}
}

// readAll reads r into buf, growing it as needed (backlogs can be
// megabytes); the caller reuses buf for the next message. No read asks
// for more than chunk bytes: gorilla's reader (and net/http's) hands a
// large read straight to the socket, past its own buffer, which a real
// client with a small read buffer never does.
func readAll(r io.Reader, buf []byte, chunk int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), len(buf)+chunk)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// onPacket handles one Engine.IO packet; connect runs on the Socket.IO
// connect packet.
func (c *client) onPacket(t byte, data []byte, now time.Time, connect func()) error {
	if c.hb != nil {
		c.hb.received(t)
	}
	switch t {
	case eioOpen:
		var o openInfo
		if err := json.Unmarshal(data, &o); err != nil || o.SID == "" {
			return fmt.Errorf("bad open packet %q", clip(data))
		}
		c.mu.Lock()
		c.sid = o.SID
		c.mu.Unlock()
		if c.hb == nil {
			c.hb = startHeartbeat(c.env.eio, o, c.send, c.end)
		}
		if c.env.eio == 4 {
			// Socket.IO v5 waits for the client's CONNECT; v2
			// connected the root namespace on its own.
			if err := c.send(string([]byte{eioMessage, sioConnect})); err != nil {
				return fmt.Errorf("send CONNECT: %w", err)
			}
		}
	case eioPing:
		if c.env.eio == 4 {
			// The server closes a client whose PONG is later than
			// pingTimeout; answer at once, with the ping's data.
			if err := c.send(string(eioPong) + string(data)); err != nil {
				return fmt.Errorf("send PONG: %w", err)
			}
		}
	case eioClose:
		return errClosed
	case eioMessage:
		if len(data) == 0 {
			return nil
		}
		switch data[0] {
		case sioConnect:
			if len(data) == 1 || data[1] == ',' || data[1] == '{' {
				connect()
			}
		case sioDisconnect:
			return errors.New("server sent a Socket.IO disconnect")
		case sioError:
			return fmt.Errorf("server sent a Socket.IO error: %s", clip(data))
		case sioEvent:
			name, args, ok := sioEventName(data)
			if ok && (name == "tweet" || name == "backlog") {
				c.deliver(args, now)
			}
		}
	}
	return nil
}

// deliver counts the run's posts in args that this client had not seen.
// A client sees posts in publish order (the backlog after a reconnect
// holds only newer ones), so "newer than the newest seen" is "new".
func (c *client) deliver(args []byte, now time.Time) {
	t := c.env.tally
	first := t.first.Load()
	end := first + t.count.Load()
	scanPosts(args, func(seq, ts int64) {
		if seq <= c.lastSeq {
			t.dups.Add(1)
			return
		}
		c.lastSeq = seq
		if seq < first || seq >= end {
			return
		}
		t.delivered.Add(1)
		if i := seq - first; i < int64(len(t.sent)) {
			if at := t.sent[i].Load(); at > 0 {
				ts = at
			}
		}
		t.hist.Record(now.Sub(time.Unix(0, ts)))
		if n := now.UnixNano(); n > t.lastRecv.Load() {
			t.lastRecv.Store(n) // racy max; a few µs off at worst
		}
	})
}

// send writes one packet: a WebSocket message, or a polling POST.
func (c *client) send(packet string) error {
	c.mu.Lock()
	ws, post := c.ws, c.post
	if ws != nil {
		defer c.mu.Unlock()
		_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
		return ws.WriteMessage(websocket.TextMessage, []byte(packet))
	}
	c.mu.Unlock()
	if post == nil {
		return errors.New("not connected")
	}
	return post(packet)
}

// pollSession runs one long-polling session: the handshake GET, then GETs
// in a loop; pings and pongs go out as POSTs.
func (c *client) pollSession(ctx context.Context, onConnect func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.end = cancel
	connected := false
	get := func(sid string) ([]eioPacket, error) {
		// A poll is held open until there is something to send;
		// heartbeats bound that to pingInterval.
		rctx, rcancel := context.WithTimeout(ctx, 90*time.Second)
		defer rcancel()
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, c.env.socketURL("http", "polling", sid, c.lastSeq), nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.env.http.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := readAll(io.LimitReader(resp.Body, 64<<20), nil, c.env.readBuffer)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("poll: %s: %s", resp.Status, clip(bytes.TrimSpace(body)))
		}
		if c.env.eio == 4 {
			return decodePayloadV4(body)
		}
		return decodePayload(body, resp.Header.Get("Content-Type"))
	}
	handle := func(packets []eioPacket) error {
		now := time.Now()
		for _, p := range packets {
			if err := c.onPacket(p.Type, p.Data, now, func() { connected = true; onConnect() }); err != nil {
				return err
			}
		}
		return nil
	}
	// POSTs read the session id when they go out: the v4 CONNECT goes
	// out while the handshake's open packet is handled.
	c.mu.Lock()
	c.post = func(packet string) error {
		c.mu.Lock()
		sid := c.sid
		c.mu.Unlock()
		return c.postPacket(ctx, sid, packet)
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.post = nil
		c.mu.Unlock()
	}()
	packets, err := get("")
	if err == nil && (len(packets) == 0 || packets[0].Type != eioOpen) {
		err = errors.New("handshake did not start with an open packet")
	}
	if err == nil {
		err = handle(packets)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errNeverConnected, err)
	}
	c.mu.Lock()
	sid := c.sid
	c.mu.Unlock()
	for ctx.Err() == nil {
		packets, err := get(sid)
		if err == nil {
			err = handle(packets)
		}
		if err != nil {
			if !connected {
				return fmt.Errorf("%w: %v", errNeverConnected, err)
			}
			return err
		}
	}
	return ctx.Err()
}

// postPacket POSTs one packet to a polling session.
func (c *client) postPacket(ctx context.Context, sid, packet string) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body := encodeTextPayload(packet)
	if c.env.eio == 4 {
		body = encodePayloadV4(packet)
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.env.socketURL("http", "polling", sid, -1), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.env.http.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err := resp.Body.Close(); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post: %s: %s", resp.Status, clip(bytes.TrimSpace(msg)))
	}
	return nil
}
