package socketio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gorilla/websocket"
)

// errReadLimit: a client's message is larger than maxPayload.
var errReadLimit = errors.New("websocket: message larger than maxPayload")

// errWSProtocol: a client broke RFC 6455 (an unmasked frame, reserved
// bits, a fragmented control frame, ...).
var errWSProtocol = errors.New("websocket: protocol error")

// errWSClosed: the client sent a close frame.
var errWSClosed = errors.New("websocket: closed by the client")

// readMessage reads the client's next data message (text or binary)
// straight from the TCP connection, answering pings and close frames on
// the way as gorilla's reader does. It reads the frame's bytes and not
// one past them (the header, then the payload, each with one read when it
// is all there): nothing of the next message waits in a buffer, so once
// a message is read the socket's readability tells whether another has
// begun. That is what lets an idle connection wait for its client without
// a goroutine or a read buffer of its own (see poller). Clients send
// little (CONNECT, pings every 25 s), so the extra reads cost nothing
// that shows.
func (w *wsConn) readMessage() (typ int, data []byte, err error) {
	var hdr [14]byte
	for {
		if _, err := io.ReadFull(w.nc, hdr[:2]); err != nil {
			return 0, nil, err
		}
		fin := hdr[0]&0x80 != 0
		op := int(hdr[0] & 0x0f)
		n := uint64(hdr[1] & 0x7f)
		ext := 0
		switch n {
		case 126:
			ext = 2
		case 127:
			ext = 8
		}
		switch {
		case hdr[0]&0x70 != 0:
			// No extension is negotiated, so no reserved bit may be set.
			return 0, nil, w.protocolError("reserved bits set")
		case hdr[1]&0x80 == 0:
			return 0, nil, w.protocolError("unmasked client frame")
		}
		if _, err := io.ReadFull(w.nc, hdr[2:2+ext+4]); err != nil {
			return 0, nil, err
		}
		switch ext {
		case 2:
			n = uint64(binary.BigEndian.Uint16(hdr[2:]))
		case 8:
			n = binary.BigEndian.Uint64(hdr[2:])
		}
		mask := hdr[2+ext : 2+ext+4]
		control := op >= websocket.CloseMessage
		switch {
		case control && (!fin || n > 125):
			return 0, nil, w.protocolError("bad control frame")
		case op == 0 && typ == 0:
			return 0, nil, w.protocolError("continuation without a message")
		case (op == websocket.TextMessage || op == websocket.BinaryMessage) && typ != 0:
			return 0, nil, w.protocolError("a message began before the last one ended")
		case op != 0 && op != websocket.TextMessage && op != websocket.BinaryMessage && !control,
			op > websocket.PongMessage:
			return 0, nil, w.protocolError(fmt.Sprintf("unknown opcode %d", op))
		}
		if !control && uint64(len(data))+n > uint64(w.maxPayload) {
			// As gorilla's read limit did: 1009, "message too big".
			w.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""), false)
			return 0, nil, errReadLimit
		}
		var payload []byte
		if control {
			payload = make([]byte, n)
		} else {
			start := len(data)
			data = append(data, make([]byte, n)...)
			payload = data[start:]
		}
		if _, err := io.ReadFull(w.nc, payload); err != nil {
			return 0, nil, err
		}
		for i := range payload {
			payload[i] ^= mask[i&3]
		}
		switch op {
		case websocket.PingMessage:
			if err := w.writeControl(websocket.PongMessage, payload, true); err != nil {
				return 0, nil, err
			}
			continue
		case websocket.PongMessage:
			continue
		case websocket.CloseMessage:
			// Echo the client's code, as gorilla's close handler does.
			code := websocket.CloseNoStatusReceived
			if len(payload) >= 2 {
				code = int(binary.BigEndian.Uint16(payload))
			}
			msg := []byte{}
			if code != websocket.CloseNoStatusReceived {
				msg = websocket.FormatCloseMessage(code, "")
			}
			w.writeControl(websocket.CloseMessage, msg, false)
			return 0, nil, errWSClosed
		}
		if op != 0 {
			typ = op
		}
		if fin {
			if data == nil {
				data = []byte{}
			}
			return typ, data, nil
		}
	}
}

// protocolError closes with 1002, as gorilla does on a broken frame.
func (w *wsConn) protocolError(why string) error {
	w.writeControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseProtocolError, why), false)
	return fmt.Errorf("%w: %s", errWSProtocol, why)
}

// writeControl writes a control frame (at most 125 bytes of payload)
// between whole messages, under the write deadline the data frames keep.
// (gorilla's WriteControl would set a deadline of its own on the TCP
// connection, one that the data writes do not know to renew.) A pong
// waits for a write in progress; a close frame, sent as the connection
// ends, is skipped when a write holds the connection, which a dead peer
// may do until the write timeout.
func (w *wsConn) writeControl(op int, payload []byte, wait bool) error {
	if wait {
		w.writeMu.Lock()
	} else if !w.writeMu.TryLock() {
		return nil
	}
	defer w.writeMu.Unlock()
	if err := w.deadline(); err != nil {
		return err
	}
	frame := make([]byte, 0, 2+len(payload))
	frame = append(frame, 0x80|byte(op), byte(len(payload)))
	_, err := w.nc.Write(append(frame, payload...))
	return err
}
