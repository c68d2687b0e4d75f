package socketio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Engine.IO packet types, the same in protocol versions 3 and 4. On the
// wire a text packet is its type as an ASCII digit followed by its data.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// packet is one Engine.IO packet. binary marks a MESSAGE whose data is
// bytes rather than text; only MESSAGE packets are ever binary.
type packet struct {
	typ    byte
	data   []byte
	binary bool
}

// errPayload is wrapped by every decoding error: the request that carried
// the payload is answered 400 and the session is closed, as Node's server
// does on a "parser error".
var errPayload = errors.New("invalid Engine.IO payload")

// utf16Len is the length JavaScript gives to the UTF-8 text b: its count
// of UTF-16 code units. A character outside the Basic Multilingual Plane
// (🎉, most emoji) is two units; an invalid byte is decoded as U+FFFD, as
// Node decodes a request body, and so counts one.
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			n++
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		n++
		if r > 0xFFFF {
			n++
		}
		b = b[size:]
	}
	return n
}

// utf16Prefix returns how many bytes of b hold its first n UTF-16 code
// units, or false when b is shorter or unit n falls inside a surrogate
// pair (a length no JavaScript client writes).
func utf16Prefix(b []byte, n int) (int, bool) {
	i := 0
	for n > 0 {
		if i >= len(b) {
			return 0, false
		}
		if b[i] < utf8.RuneSelf {
			i++
			n--
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		units := 1
		if r > 0xFFFF {
			units = 2
		}
		if units > n {
			return 0, false
		}
		i += size
		n -= units
	}
	return i, true
}

// decodePacket reads one text-encoded packet: the type digit and its
// data, or, for a binary MESSAGE inside a text payload, "b" and base64
// (EIO 3 writes the type after the "b": "b4AQID"; EIO 4 leaves it out:
// "bAQID").
func decodePacket(msg []byte, eio int) (packet, error) {
	if len(msg) == 0 {
		return packet{}, fmt.Errorf("%w: empty packet", errPayload)
	}
	if msg[0] == 'b' {
		enc := msg[1:]
		if eio == 3 {
			if len(enc) == 0 || enc[0] != eioMessage {
				return packet{}, fmt.Errorf("%w: base64 packet is not a message", errPayload)
			}
			enc = enc[1:]
		}
		data := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
		n, err := base64.StdEncoding.Decode(data, enc)
		if err != nil {
			return packet{}, fmt.Errorf("%w: base64: %w", errPayload, err)
		}
		return packet{typ: eioMessage, data: data[:n], binary: true}, nil
	}
	if msg[0] < eioOpen || msg[0] > eioNoop {
		return packet{}, fmt.Errorf("%w: unknown packet type %q", errPayload, msg[0])
	}
	return packet{typ: msg[0], data: msg[1:]}, nil
}

// appendPacketText appends p as it travels in a text payload.
func appendPacketText(dst []byte, p packet, eio int) []byte {
	if p.binary {
		dst = append(dst, 'b')
		if eio == 3 {
			dst = append(dst, eioMessage)
		}
		return base64.StdEncoding.AppendEncode(dst, p.data)
	}
	dst = append(dst, p.typ)
	return append(dst, p.data...)
}

// textLen is the UTF-16 length of p in an EIO 3 text payload.
func textLen(p packet) int {
	if p.binary {
		return 2 + base64.StdEncoding.EncodedLen(len(p.data))
	}
	return 1 + utf16Len(p.data)
}

// appendPayloadV3Text encodes packets as an Engine.IO 3 text payload, what
// a client that asked for b64=1 gets: each packet as "<length>:<packet>",
// the length counted in UTF-16 code units because the JavaScript parser
// takes it as a string length. go-socket.io counts bytes here, which
// breaks the client on the first non-ASCII character.
func appendPayloadV3Text(dst []byte, pkts []packet) []byte {
	for _, p := range pkts {
		dst = strconv.AppendInt(dst, int64(textLen(p)), 10)
		dst = append(dst, ':')
		dst = appendPacketText(dst, p, 3)
	}
	return dst
}

// appendPayloadV3Binary encodes packets as an Engine.IO 3 binary payload,
// what clients that did not ask for b64 get: each packet as a 0 (text) or
// 1 (binary) byte, its length as one byte per decimal digit, 0xFF, then
// the packet. Lengths here are in bytes: the JavaScript encoder measures
// the UTF-8 encoded string.
func appendPayloadV3Binary(dst []byte, pkts []packet) []byte {
	for _, p := range pkts {
		n := 1 + len(p.data)
		if p.binary {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
		var digits [20]byte
		for _, d := range strconv.AppendInt(digits[:0], int64(n), 10) {
			dst = append(dst, d-'0')
		}
		dst = append(dst, 0xFF)
		if p.binary {
			dst = append(dst, 4) // the type as a number, not a digit
		} else {
			dst = append(dst, p.typ)
		}
		dst = append(dst, p.data...)
	}
	return dst
}

// appendPayloadV4 encodes packets as an Engine.IO 4 payload: packets
// separated by the record separator 0x1E, binary ones in base64.
func appendPayloadV4(dst []byte, pkts []packet) []byte {
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, 0x1E)
		}
		dst = appendPacketText(dst, p, 4)
	}
	return dst
}

// decodePayloadV3Text decodes an Engine.IO 3 text payload: what every
// 2.x client POSTs unless it has binary data to send. Lengths are UTF-16
// code units; empty packets ("0:") are skipped, as engine.io-parser does.
func decodePayloadV3Text(b []byte) ([]packet, error) {
	var pkts []packet
	for len(b) > 0 {
		colon := bytes.IndexByte(b, ':')
		if colon <= 0 || colon > 10 {
			return nil, fmt.Errorf("%w: no length", errPayload)
		}
		n, err := strconv.Atoi(string(b[:colon]))
		if err != nil || n < 0 || b[0] == '+' || b[0] == '-' {
			return nil, fmt.Errorf("%w: bad length %q", errPayload, b[:colon])
		}
		b = b[colon+1:]
		size, ok := utf16Prefix(b, n)
		if !ok {
			return nil, fmt.Errorf("%w: length %d runs past the payload", errPayload, n)
		}
		if size > 0 {
			p, err := decodePacket(b[:size], 3)
			if err != nil {
				return nil, err
			}
			pkts = append(pkts, p)
		}
		b = b[size:]
	}
	return pkts, nil
}

// decodePayloadV3Binary decodes an Engine.IO 3 binary payload (see
// appendPayloadV3Binary): what a 2.x browser client POSTs when it sends
// binary data.
func decodePayloadV3Binary(b []byte) ([]packet, error) {
	var pkts []packet
	for len(b) > 0 {
		kind := b[0]
		if kind > 1 {
			return nil, fmt.Errorf("%w: packet kind %d", errPayload, kind)
		}
		b = b[1:]
		n := 0
		digits := 0
		for ; digits < len(b) && b[digits] != 0xFF; digits++ {
			// Node gives up past 310 digits; ten already exceed any body.
			if b[digits] > 9 || digits >= 10 {
				return nil, fmt.Errorf("%w: bad length", errPayload)
			}
			n = n*10 + int(b[digits])
		}
		if digits == 0 || digits == len(b) {
			return nil, fmt.Errorf("%w: no length", errPayload)
		}
		b = b[digits+1:]
		if n > len(b) || n == 0 {
			return nil, fmt.Errorf("%w: length %d runs past the payload", errPayload, n)
		}
		msg := b[:n]
		b = b[n:]
		if kind == 1 {
			if msg[0] != 4 {
				return nil, fmt.Errorf("%w: binary packet type %d", errPayload, msg[0])
			}
			pkts = append(pkts, packet{typ: eioMessage, data: msg[1:], binary: true})
			continue
		}
		p, err := decodePacket(msg, 3)
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// decodePayloadV4 decodes an Engine.IO 4 payload (see appendPayloadV4).
func decodePayloadV4(b []byte) ([]packet, error) {
	var pkts []packet
	for {
		end := bytes.IndexByte(b, 0x1E)
		last := end < 0
		if last {
			end = len(b)
		}
		p, err := decodePacket(b[:end], 4)
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
		if last {
			return pkts, nil
		}
		b = b[end+1:]
	}
}
