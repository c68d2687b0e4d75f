package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Socket.IO packet types: the same digits in protocol 4 (socket.io 2.x,
// over EIO 3) and 5 (socket.io 3.x and later, over EIO 4).
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// sioPacket is a decoded Socket.IO packet:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
type sioPacket struct {
	typ         byte
	attachments int
	nsp         string
	id          int64 // -1 without an ack id
	data        []byte
}

var errPacket = errors.New("invalid Socket.IO packet")

// parsePacket decodes and validates p as socket.io-parser does; any
// error means the connection must be closed.
func parsePacket(p []byte) (sioPacket, error) {
	sp := sioPacket{nsp: "/", id: -1}
	if len(p) == 0 || p[0] < sioConnect || p[0] > sioBinaryAck {
		return sp, fmt.Errorf("%w: unknown type", errPacket)
	}
	sp.typ, p = p[0], p[1:]
	if sp.typ == sioBinaryEvent || sp.typ == sioBinaryAck {
		dash := bytes.IndexByte(p, '-')
		if dash <= 0 || dash > 6 {
			return sp, fmt.Errorf("%w: no attachment count", errPacket)
		}
		n, err := strconv.Atoi(string(p[:dash]))
		if err != nil || n < 0 || p[0] == '+' {
			return sp, fmt.Errorf("%w: bad attachment count", errPacket)
		}
		sp.attachments, p = n, p[dash+1:]
	}
	if len(p) > 0 && p[0] == '/' {
		end := bytes.IndexByte(p, ',')
		if end < 0 {
			end = len(p)
		}
		sp.nsp, p = string(p[:end]), p[end:]
		if len(p) > 0 {
			p = p[1:]
		}
		// socket.io 2.x clients append the namespace's query: "/nsp?a=b".
		if q := bytes.IndexByte([]byte(sp.nsp), '?'); q >= 0 {
			sp.nsp = sp.nsp[:q]
		}
	}
	digits := 0
	for digits < len(p) && p[digits] >= '0' && p[digits] <= '9' {
		digits++
	}
	if digits > 0 {
		id, err := strconv.ParseInt(string(p[:digits]), 10, 64)
		if err != nil {
			return sp, fmt.Errorf("%w: bad ack id", errPacket)
		}
		sp.id, p = id, p[digits:]
	}
	sp.data = p
	if len(p) > 0 && !json.Valid(p) {
		return sp, fmt.Errorf("%w: data is not JSON", errPacket)
	}
	first := firstByte(p)
	switch sp.typ {
	case sioConnect:
		if first != 0 && first != '{' {
			return sp, fmt.Errorf("%w: CONNECT data must be an object", errPacket)
		}
	case sioDisconnect:
		if first != 0 {
			return sp, fmt.Errorf("%w: DISCONNECT carries no data", errPacket)
		}
	case sioEvent, sioBinaryEvent:
		var args []json.RawMessage
		if first != '[' || json.Unmarshal(p, &args) != nil || len(args) == 0 {
			return sp, fmt.Errorf("%w: EVENT data must be a non-empty array", errPacket)
		}
		if f := firstByte(args[0]); f != '"' && (f < '0' || f > '9') {
			return sp, fmt.Errorf("%w: an event name must be a string", errPacket)
		}
	case sioAck, sioBinaryAck:
		if first != '[' {
			return sp, fmt.Errorf("%w: ACK data must be an array", errPacket)
		}
		if sp.id < 0 {
			return sp, fmt.Errorf("%w: ACK without an id", errPacket)
		}
	case sioConnectError:
		// Only servers send it.
		return sp, fmt.Errorf("%w: CONNECT_ERROR from a client", errPacket)
	}
	return sp, nil
}

// firstByte is the first non-space byte of JSON b, 0 when there is none.
func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

// appendPacketHeader appends what precedes a packet's data.
func appendPacketHeader(dst []byte, typ byte, attachments int, nsp string, id int64) []byte {
	dst = append(dst, typ)
	if attachments > 0 {
		dst = strconv.AppendInt(dst, int64(attachments), 10)
		dst = append(dst, '-')
	}
	if nsp != "/" && nsp != "" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	return dst
}
