package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Engine.IO packet types, as the digit that starts a text packet; the
// same in v3 and v4 (v4 only reverses who pings).
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// Socket.IO packet types, the digit after an Engine.IO MESSAGE; the same
// in v2 (over Engine.IO v3) and v5 (over v4), where 4 is CONNECT_ERROR.
const (
	sioConnect    = '0'
	sioDisconnect = '1'
	sioEvent      = '2'
	sioError      = '4'
)

// eioPacket is one Engine.IO packet: its type digit and what follows.
type eioPacket struct {
	Type byte
	Data []byte
}

// decodePayload splits the body of a polling response into packets.
// Engine.IO v3 has two payload encodings and the server picks one: the
// binary one (go-socket.io, whenever the client did not ask for b64) and
// the text one (the Node.js server when no packet is binary). The content
// type tells them apart; the first byte does too (0 or 1 against a digit),
// which covers a server that labels its payload oddly.
func decodePayload(body []byte, contentType string) ([]eioPacket, error) {
	if len(body) == 0 {
		return nil, nil
	}
	if body[0] <= 1 || bytes.HasPrefix([]byte(contentType), []byte("application/octet-stream")) {
		return decodeBinaryPayload(body)
	}
	return decodeTextPayload(body)
}

// decodeTextPayload parses `<length>:<packet>` repeated. The length counts
// characters as JavaScript does, in UTF-16 code units, which is what the
// Node.js server writes. (go-socket.io's text mode counts bytes instead;
// the two agree on ASCII, and go-socket.io uses text only with b64=1,
// which the load generator never sends.)
func decodeTextPayload(body []byte) ([]eioPacket, error) {
	var out []eioPacket
	for len(body) > 0 {
		colon := bytes.IndexByte(body, ':')
		if colon <= 0 {
			return out, fmt.Errorf("text payload: no length before %q", clip(body))
		}
		n, err := strconv.Atoi(string(body[:colon]))
		if err != nil || n < 1 {
			return out, fmt.Errorf("text payload: bad length %q", clip(body[:colon]))
		}
		body = body[colon+1:]
		size, ok := utf16Prefix(body, n)
		if !ok {
			return out, fmt.Errorf("text payload: %d characters announced, fewer left", n)
		}
		out = append(out, eioPacket{Type: body[0], Data: body[1:size]})
		body = body[size:]
	}
	return out, nil
}

// utf16Prefix returns how many bytes of b hold its first n UTF-16 code
// units; false when b is shorter or n ends inside a surrogate pair.
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
		units := utf16.RuneLen(r)
		if units < 1 {
			units = 1 // invalid UTF-8: JavaScript would see U+FFFD
		}
		if units > n {
			return 0, false
		}
		i += size
		n -= units
	}
	return i, true
}

// decodeBinaryPayload parses the binary encoding: a marker byte (0 for a
// string packet, 1 for a binary one), the length as one byte per decimal
// digit, 255, then that many bytes. A binary packet's type is a raw byte
// (0-6) rather than a digit; it is turned into the digit here.
func decodeBinaryPayload(body []byte) ([]eioPacket, error) {
	var out []eioPacket
	for len(body) > 0 {
		if body[0] > 1 {
			return out, fmt.Errorf("binary payload: marker %d is neither 0 nor 1", body[0])
		}
		binary := body[0] == 1
		n, i := 0, 1
		for ; i < len(body) && body[i] != 0xff; i++ {
			if body[i] > 9 || i > 10 {
				return out, errors.New("binary payload: bad length digits")
			}
			n = n*10 + int(body[i])
		}
		if i == 1 || i >= len(body) || n < 1 {
			return out, errors.New("binary payload: missing length")
		}
		body = body[i+1:]
		if n > len(body) {
			return out, fmt.Errorf("binary payload: %d bytes announced, %d left", n, len(body))
		}
		t := body[0]
		if binary {
			t += '0'
		}
		out = append(out, eioPacket{Type: t, Data: body[1:n]})
		body = body[n:]
	}
	return out, nil
}

// encodeTextPayload frames text packets (each with its type digit) for a
// polling POST. It counts UTF-16 code units, as the Node.js server
// expects; the load generator only sends ASCII, where bytes agree.
func encodeTextPayload(packets ...string) []byte {
	var b []byte
	for _, p := range packets {
		n := 0
		for _, r := range p {
			n += max(utf16.RuneLen(r), 1)
		}
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ':')
		b = append(b, p...)
	}
	return b
}

// recordSeparator ends each packet but the last of an Engine.IO v4
// polling payload. JSON escapes it, so it never occurs inside a text
// packet, and base64 has no use for it either.
const recordSeparator = '\x1e'

// decodePayloadV4 splits the body of an Engine.IO v4 polling response
// into packets: no lengths, text packets joined by \x1e. A binary packet
// arrives as `b<base64>`; its type stays 'b', which the client ignores
// (bench posts are JSON).
func decodePayloadV4(body []byte) ([]eioPacket, error) {
	if len(body) == 0 {
		return nil, nil
	}
	var out []eioPacket
	for p := range bytes.SplitSeq(body, []byte{recordSeparator}) {
		if len(p) == 0 {
			return out, errors.New("v4 payload: an empty packet")
		}
		out = append(out, eioPacket{Type: p[0], Data: p[1:]})
	}
	return out, nil
}

// encodePayloadV4 frames text packets (each with its type digit) for an
// Engine.IO v4 polling POST.
func encodePayloadV4(packets ...string) []byte {
	var b []byte
	for i, p := range packets {
		if i > 0 {
			b = append(b, recordSeparator)
		}
		b = append(b, p...)
	}
	return b
}

// openInfo is the part of the Engine.IO open packet the client needs.
type openInfo struct {
	SID          string `json:"sid"`
	PingInterval int    `json:"pingInterval"` // milliseconds
	PingTimeout  int    `json:"pingTimeout"`  // milliseconds
}

// sioEventName returns the event name of a Socket.IO v2 EVENT packet on
// the root namespace, `2["name",...]` (the data after the Engine.IO
// MESSAGE digit), and what follows the name's comma; ok is false for
// anything else.
func sioEventName(data []byte) (name string, args []byte, ok bool) {
	if len(data) < 4 || data[0] != sioEvent || data[1] != '[' || data[2] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(data[3:], '"')
	if end < 0 {
		return "", nil, false
	}
	name = string(data[3 : 3+end])
	rest := data[3+end+1:]
	if len(rest) > 0 && rest[0] == ',' {
		rest = rest[1:]
	}
	return name, rest, true
}

var (
	idKey = []byte(`"id":"bench:`)
	tsKey = []byte(`"ts":"`)
)

// scanPosts calls fn with the sequence number (the N of "bench:N") and the
// publish time (ts, Unix nanoseconds) of every bench post in data, one
// post or an array of them, in order. It scans bytes instead of decoding
// JSON: at 100,000 deliveries a second a decoder would take a core that
// the server under test needs. The scan is exact for these posts: a string
// value cannot hold an unescaped `"`, so `"id":"` and `"ts":"` only match
// keys. Posts that are not bench posts (a live source's) are skipped.
func scanPosts(data []byte, fn func(seq, ts int64)) {
	for {
		i := bytes.Index(data, idKey)
		if i < 0 {
			return
		}
		data = data[i+len(idKey):]
		seq, n := leadingInt(data)
		if n == 0 {
			continue
		}
		data = data[n:]
		// ts belongs to this post when it comes before the next post's id.
		j := bytes.Index(data, tsKey)
		if j < 0 {
			return
		}
		if bytes.Contains(data[:j], idKey) {
			continue // this post has no ts
		}
		ts, m := leadingInt(data[j+len(tsKey):])
		if m == 0 {
			continue
		}
		fn(seq, ts)
		data = data[j+len(tsKey)+m:]
	}
}

// leadingInt parses the decimal digits that start b; n is how many.
func leadingInt(b []byte) (v int64, n int) {
	for n < len(b) && n < 19 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	return v, n
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
