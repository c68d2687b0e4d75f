package socketio

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	eioframe "github.com/googollee/go-socket.io/engineio/frame"
	"github.com/googollee/go-socket.io/engineio/packet"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/gorilla/websocket"

	"github.com/tweetwire/tweetwire/server/hub"
)

// wsTransport replaces go-socket.io v1.7.0's WebSocket transport, whose
// cost is in the fan-out's hot path:
//
//   - Every NextWriter and NextReader starts a goroutine and a 30-second
//     timer that only print a warning if the frame is never closed: a
//     goroutine, a timer and a channel per post per client. In a CPU
//     profile at 1,000 clients × 100 posts/s that was 17% of the server's
//     time in newWcWrapper, plus the goroutines' own scheduling.
//   - Each connection keeps net/http's 4 KB write and 4 KB read buffers
//     for life, and its HTTP handler goroutine parks until the connection
//     closes: about 16 KB of each idle connection.
//
// This one frames the same way (engine.io packet type byte, then the
// payload, one WebSocket message per packet) with gorilla/websocket
// directly, takes a write buffer from a pool only while writing, reads
// through a small buffer, and lets the HTTP handler return once the
// connection is hijacked.
type wsTransport struct {
	upgrader websocket.Upgrader
}

var _ transport.Transport = (*wsTransport)(nil)

// wsWriteBuffers lends write buffers to all connections: a buffer is held
// only between NextWriter and Close.
var wsWriteBuffers sync.Pool

func newWSTransport(checkOrigin func(*http.Request) bool) *wsTransport {
	return &wsTransport{upgrader: websocket.Upgrader{
		// Clients send only pings and the odd event: small reads.
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: &wsWriteBuffers,
		CheckOrigin:     checkOrigin,
	}}
}

func (t *wsTransport) Name() string { return "websocket" }

// Dial is for clients; this program is only ever the server.
func (t *wsTransport) Dial(*url.URL, http.Header) (transport.Conn, error) {
	return nil, errors.New("socketio: the WebSocket transport only accepts connections")
}

// Accept upgrades the request; the response headers set so far (CORS,
// from the engine) go out with the 101.
func (t *wsTransport) Accept(w http.ResponseWriter, r *http.Request) (transport.Conn, error) {
	ws, err := t.upgrader.Upgrade(w, r, w.Header())
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(maxClientPacket)
	c := &wsConn{ws: ws, url: *r.URL, header: r.Header}
	c.FrameReader = packet.NewDecoder(wsFrames{c})
	c.FrameWriter = packet.NewEncoder(wsFrames{c})
	return c, nil
}

// wsConn is one engine.io WebSocket connection. Reads and writes are each
// serialised by a mutex held from NextReader/NextWriter until the frame's
// Close, as go-socket.io expects (its session and the tweetwire writer
// write concurrently).
type wsConn struct {
	transport.FrameReader
	transport.FrameWriter
	ws     *websocket.Conn
	url    url.URL
	header http.Header

	readMu, writeMu sync.Mutex
	// deadline is the write deadline the session last set, applied to
	// the TCP connection before frames are written to it directly (as
	// gorilla applies it to its own).
	deadline, applied time.Time
}

var _ transport.Conn = (*wsConn)(nil)

func (c *wsConn) URL() url.URL                      { return c.url }
func (c *wsConn) RemoteHeader() http.Header         { return c.header }
func (c *wsConn) LocalAddr() net.Addr               { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr              { return wsAddr{c.ws.RemoteAddr(), c} }
func (c *wsConn) Close() error                      { return c.ws.Close() }
func (c *wsConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline takes the write lock: gorilla reads the deadline while
// writing a frame.
func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.deadline = t
	return c.ws.SetWriteDeadline(t)
}

// wsAddr is a wsConn's remote address, and the way back to the wsConn:
// go-socket.io's session shows nothing of its transport but addresses,
// and a drain needs the connection to write frames to it directly.
type wsAddr struct {
	net.Addr
	c *wsConn
}

// wsConnOf returns the WebSocket connection behind a session's remote
// address, or nil when the session is on polling.
func wsConnOf(a net.Addr) *wsConn {
	if wa, ok := a.(wsAddr); ok {
		return wa.c
	}
	return nil
}

// writeFrames writes each message as a whole WebSocket frame, built once
// per message and shared by every client (a server's frames are not
// masked, so they are the same bytes for all), and all of them in one
// writev: one system call per batch instead of one per frame, and no copy.
func (c *wsConn) writeFrames(batch []*hub.Message) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	nc := c.ws.UnderlyingConn()
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
		// The server's connection cap wraps the TCP connection; a
		// batch's writev needs the TCP connection itself.
		nc = u.NetConn()
	}
	if c.deadline != c.applied {
		if err := nc.SetWriteDeadline(c.deadline); err != nil {
			return err
		}
		c.applied = c.deadline
	}
	if len(batch) == 1 {
		_, err := nc.Write(batch[0].Wire(wsFrame))
		return err
	}
	bufs := frameLists.Get().(*net.Buffers)
	for _, m := range batch {
		*bufs = append(*bufs, m.Wire(wsFrame))
	}
	// WriteTo consumes the list; keep its array for the next batch.
	all := *bufs
	_, err := bufs.WriteTo(nc)
	clear(all)
	*bufs = all[:0]
	frameLists.Put(bufs)
	return err
}

// frameLists recycles the frame lists of batches.
var frameLists = sync.Pool{New: func() any { return new(net.Buffers) }}

// wsFrame is m as an unmasked final WebSocket text frame holding the
// Engine.IO MESSAGE of a Socket.IO EVENT: 42["<event>",<data>].
func wsFrame(m *hub.Message) []byte {
	n := len(`42["",]`) + len(m.Kind) + len(m.Data)
	b := make([]byte, 0, 10+n)
	b = append(b, 0x81) // FIN, text
	switch {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, `42["`...)
	b = append(b, m.Kind...)
	b = append(b, `",`...)
	b = append(b, m.Data...)
	return append(b, ']')
}

// ServeHTTP is called by the engine after Accept. go-socket.io's own
// transport parks the handler here until the connection closes; the
// connection is hijacked, so net/http no longer needs the handler, and
// returning frees its goroutine (and its stack) for the connection's life.
func (c *wsConn) ServeHTTP(http.ResponseWriter, *http.Request) {}

// wsFrames is the frame layer under go-socket.io's packet encoder and
// decoder.
type wsFrames struct{ c *wsConn }

func (f wsFrames) NextReader() (eioframe.Type, io.ReadCloser, error) {
	f.c.readMu.Lock()
	typ, r, err := f.c.ws.NextReader()
	if err != nil {
		f.c.readMu.Unlock()
		return 0, nil, err
	}
	ft := eioframe.String
	if typ == websocket.BinaryMessage {
		ft = eioframe.Binary
	}
	return ft, &wsReader{Reader: r, mu: &f.c.readMu}, nil
}

func (f wsFrames) NextWriter(ft eioframe.Type) (io.WriteCloser, error) {
	typ := websocket.TextMessage
	if ft == eioframe.Binary {
		typ = websocket.BinaryMessage
	}
	f.c.writeMu.Lock()
	w, err := f.c.ws.NextWriter(typ)
	if err != nil {
		f.c.writeMu.Unlock()
		return nil, err
	}
	return &wsWriter{WriteCloser: w, mu: &f.c.writeMu}, nil
}

// wsReader releases the read lock on Close, after draining the message.
type wsReader struct {
	io.Reader
	mu   *sync.Mutex
	once sync.Once
}

func (r *wsReader) Close() error {
	var err error
	r.once.Do(func() {
		_, err = io.Copy(io.Discard, r.Reader)
		r.mu.Unlock()
	})
	return err
}

// wsWriter sends the frame and releases the write lock on Close.
type wsWriter struct {
	io.WriteCloser
	mu   *sync.Mutex
	once sync.Once
}

func (w *wsWriter) Close() error {
	err := errors.New("socketio: frame already closed")
	w.once.Do(func() {
		err = w.WriteCloser.Close()
		w.mu.Unlock()
	})
	return err
}
