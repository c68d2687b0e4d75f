package socketio

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetwire/tweetwire/server/hub"
)

// wsConn is an Engine.IO WebSocket on gorilla/websocket: one WebSocket
// message per Engine.IO packet. A write buffer is taken from a pool only
// while writing, client frames are read from the TCP connection without a
// buffer (wsread.go), and the HTTP handler returns once the connection is
// hijacked: on Linux an idle connection costs no goroutine (the engine's
// poller waits for it) and little else. (go-socket.io v1.7.0's transport
// started a goroutine and a timer per frame written, 17% of the server's
// CPU at 1,000 clients × 100 posts/s, and kept 16 KB per idle connection.)
type wsConn struct {
	c *websocket.Conn
	// nc is the TCP connection under c (not the server's connection-cap
	// wrapper): client messages are read from it directly (readMessage),
	// and a batch's writev needs the TCP connection itself.
	nc         net.Conn
	timeout    time.Duration
	maxPayload int
	// rc writes to nc without waiting (writeFramesNow); nil when nc has
	// no file descriptor.
	rc syscall.RawConn
	// watch is the connection's place in the engine's poller, nil while
	// it is not on one (see session.await).
	watch atomic.Pointer[pollWatch]

	// writeMu serialises writes: gorilla's own and the shared frames
	// written straight to the TCP connection must not interleave.
	writeMu sync.Mutex
	// applied is the write deadline last set on the TCP connection.
	applied time.Time
}

// wsWriteBuffers lends write buffers to all connections: a buffer is held
// only while a message is written.
var wsWriteBuffers sync.Pool

func newWSConn(c *websocket.Conn, cfg engineConfig) *wsConn {
	nc := c.UnderlyingConn()
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = u.NetConn()
	}
	w := &wsConn{c: c, nc: nc, timeout: cfg.writeTimeout, maxPayload: cfg.maxPayload}
	if sc, ok := nc.(syscall.Conn); ok {
		w.rc, _ = sc.SyscallConn()
	}
	return w
}

// deadline keeps a write deadline at least half the write timeout ahead,
// setting it only when it runs short: setting it costs more than a check.
// Called with writeMu held.
func (w *wsConn) deadline() error {
	now := time.Now()
	if w.applied.Sub(now) > w.timeout/2 {
		return nil
	}
	w.applied = now.Add(w.timeout)
	if err := w.c.SetWriteDeadline(w.applied); err != nil {
		return err
	}
	return w.c.UnderlyingConn().SetWriteDeadline(w.applied)
}

// writePackets writes each packet as one message. Binary MESSAGEs are
// binary messages: with the packet type as first byte in EIO 3, bare in
// EIO 4.
func (w *wsConn) writePackets(pkts []packet, eio int) error {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if err := w.deadline(); err != nil {
		return err
	}
	for _, p := range pkts {
		typ := websocket.TextMessage
		if p.binary {
			typ = websocket.BinaryMessage
		}
		mw, err := w.c.NextWriter(typ)
		if err != nil {
			return err
		}
		switch {
		case !p.binary:
			_, err = mw.Write([]byte{p.typ})
		case eio == 3:
			_, err = mw.Write([]byte{4})
		}
		if err == nil {
			_, err = mw.Write(p.data)
		}
		if cerr := mw.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readPacket reads the next message as a packet.
func (w *wsConn) readPacket(eio int) (packet, error) {
	typ, b, err := w.readMessage()
	if err != nil {
		return packet{}, err
	}
	if typ == websocket.BinaryMessage {
		if eio == 3 {
			if len(b) == 0 || b[0] != 4 {
				return packet{}, fmt.Errorf("%w: binary message is not a MESSAGE", errPayload)
			}
			b = b[1:]
		}
		return packet{typ: eioMessage, data: b, binary: true}, nil
	}
	return decodePacket(b, eio)
}

// close sends a close frame, when no write holds the connection, and
// closes it; a write blocked on a dead peer then fails at once.
func (w *wsConn) close(code int, reason string) {
	if w.writeMu.TryLock() {
		// A close reason is at most 123 bytes.
		if len(reason) > 123 {
			reason = reason[:123]
		}
		_ = w.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		w.writeMu.Unlock()
	}
	w.watch.Load().stop()
	_ = w.c.Close()
}

// writeFrames writes each message as a whole WebSocket frame, built once
// per message and shared by every client (a server's frames are not
// masked, so they are the same bytes for all, and Socket.IO events look
// the same in EIO 3 and 4), and all of them in one writev: one system
// call per batch instead of one per frame, and no copy.
func (w *wsConn) writeFrames(batch []*hub.Message) error {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if err := w.deadline(); err != nil {
		return err
	}
	nc := w.nc
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

// pendingWrite is what writeFramesNow could not write at once. locked:
// it holds the connection's writeMu (it wrote part of a frame, and no
// other write may come between), which finishWrite releases.
type pendingWrite struct {
	frames [][]byte
	locked bool
}

// writeFramesNow is writeFrames without waiting: it writes what the
// socket takes now, with one system call, and returns the rest (nil when
// all of it went out). A write in progress on the connection leaves the
// whole batch to finishWrite.
func (w *wsConn) writeFramesNow(batch []*hub.Message) (*pendingWrite, error) {
	var small [8][]byte
	frames := small[:0]
	total := 0
	for _, m := range batch {
		f := m.Wire(wsFrame)
		frames = append(frames, f)
		total += len(f)
	}
	if !w.writeMu.TryLock() {
		return &pendingWrite{frames: append([][]byte(nil), frames...)}, nil
	}
	n, err := tryWrite(w.rc, frames)
	if err != nil {
		w.writeMu.Unlock()
		return nil, err
	}
	if n == total {
		w.writeMu.Unlock()
		return nil, nil
	}
	var left [][]byte
	for _, f := range frames {
		if n >= len(f) {
			n -= len(f)
			continue
		}
		left = append(left, f[n:])
		n = 0
	}
	return &pendingWrite{frames: left, locked: true}, nil
}

// finishWrite writes what writeFramesNow left, waiting as long as the
// write timeout allows.
func (w *wsConn) finishWrite(p *pendingWrite) error {
	if !p.locked {
		w.writeMu.Lock()
	}
	defer w.writeMu.Unlock()
	if err := w.deadline(); err != nil {
		return err
	}
	bufs := net.Buffers(p.frames)
	_, err := bufs.WriteTo(w.nc)
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
