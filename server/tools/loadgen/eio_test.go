package main

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func packets(ps ...string) []eioPacket {
	var out []eioPacket
	for _, p := range ps {
		out = append(out, eioPacket{Type: p[0], Data: []byte(p[1:])})
	}
	return out
}

// decodeCase is one payload to decode: the packets it holds, or a part of
// the error it must give.
type decodeCase struct {
	name string
	body string
	want []eioPacket
	err  string
}

// runDecodeCases runs decode on each case's body, one subtest a case.
func runDecodeCases(t *testing.T, tests []decodeCase, decode func([]byte) ([]eioPacket, error)) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decode([]byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeTextPayload(t *testing.T) {
	tests := []decodeCase{
		{name: "one packet", body: "1:6", want: packets("6")},
		{name: "open and connect, as the Node.js server sends them",
			body: `69:0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}2:40`,
			want: packets(`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`, "40")},
		{name: "two events", body: `13:42["tweet",1]13:42["tweet",2]`, want: packets(`42["tweet",1]`, `42["tweet",2]`)},
		// JavaScript counts UTF-16 code units: é is one (two bytes in
		// UTF-8), 😀 is two (four bytes).
		{name: "length in UTF-16 code units", body: `9:42["é😀"]1:6`, want: packets(`42["é😀"]`, "6")},
		{name: "colon inside a packet", body: `6:4a:b:c1:3`, want: packets("4a:b:c", "3")},
		{name: "no length", body: `:42`, err: "no length"},
		{name: "length not a number", body: `x:42`, err: "bad length"},
		{name: "zero length", body: `0:`, err: "bad length"},
		{name: "truncated", body: `10:42["a"]`, err: "fewer left"},
		{name: "length ends inside a surrogate pair", body: `3:42😀`, err: "fewer left"},
	}
	runDecodeCases(t, tests, decodeTextPayload)
}

// binaryFrame builds one packet of the binary payload encoding.
func binaryFrame(marker byte, data string) string {
	b := []byte{marker}
	for _, d := range fmt.Sprint(len(data)) {
		b = append(b, byte(d-'0'))
	}
	return string(append(append(b, 0xff), data...))
}

func TestDecodeBinaryPayload(t *testing.T) {
	long := `42["tweet",` + strings.Repeat("x", 300) + `]` // a three-digit length
	tests := []decodeCase{
		{name: "noop, as go-socket.io sends it", body: "\x00\x01\xff6", want: packets("6")},
		{name: "open, connect and an event, as go-socket.io sends them",
			body: binaryFrame(0, `0{"sid":"1"}`) + binaryFrame(0, "40") + binaryFrame(0, long),
			want: packets(`0{"sid":"1"}`, "40", long)},
		// Lengths count bytes here, not characters.
		{name: "non-ASCII", body: binaryFrame(0, `42["é"]`), want: packets(`42["é"]`)},
		{name: "binary packet: raw type byte", body: "\x01\x03\xff\x04\xab\xcd", want: []eioPacket{{Type: '4', Data: []byte{0xab, 0xcd}}}},
		{name: "bad marker", body: "\x02\x01\xff6", err: "marker"},
		{name: "no 255", body: "\x00\x01\x02", err: "missing length"},
		{name: "no digits", body: "\x00\xff6", err: "missing length"},
		{name: "digit out of range", body: "\x00\x0a\xff6", err: "length digits"},
		{name: "truncated", body: "\x00\x05\xff6", err: "5 bytes announced"},
	}
	runDecodeCases(t, tests, decodeBinaryPayload)
}

func TestDecodePayloadPicksTheEncoding(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{"go-socket.io: octet-stream", "application/octet-stream", binaryFrame(0, "40")},
		{"Node.js: text/plain", "text/plain; charset=UTF-8", "2:40"},
		{"binary mislabelled as text", "text/plain; charset=UTF-8", binaryFrame(0, "40")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePayload([]byte(tc.body), tc.contentType)
			if err != nil {
				t.Fatal(err)
			}
			if want := packets("40"); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
	if got, err := decodePayload(nil, "text/plain"); got != nil || err != nil {
		t.Fatalf("empty body: got %q, %v; want nothing", got, err)
	}
}

func TestEncodeTextPayloadRoundTrips(t *testing.T) {
	in := []string{"2", `42["é😀"]`, "1"}
	body := encodeTextPayload(in...)
	if want := `1:29:42["é😀"]1:1`; string(body) != want {
		t.Fatalf("encoded %q, want %q", body, want)
	}
	got, err := decodeTextPayload(body)
	if err != nil {
		t.Fatal(err)
	}
	if want := packets(in...); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip: got %q, want %q", got, want)
	}
}

func TestSioEventName(t *testing.T) {
	tests := []struct {
		data, name, args string
		ok               bool
	}{
		{`2["tweet",{"id":"a"}]`, "tweet", `{"id":"a"}]`, true},
		{`2["backlog",[]]`, "backlog", `[]]`, true},
		{`2["ping"]`, "ping", `]`, true},
		{`0`, "", "", false},
		{`2/admin,["tweet",1]`, "", "", false},
		{`21["tweet",1]`, "", "", false}, // with an ack id
		{`2["unterminated`, "", "", false},
	}
	for _, tc := range tests {
		name, args, ok := sioEventName([]byte(tc.data))
		if name != tc.name || string(args) != tc.args || ok != tc.ok {
			t.Errorf("sioEventName(%q) = %q, %q, %v; want %q, %q, %v", tc.data, name, args, ok, tc.name, tc.args, tc.ok)
		}
	}
}

func TestScanPosts(t *testing.T) {
	type post struct{ seq, ts int64 }
	tests := []struct {
		name string
		data string
		want []post
	}{
		{name: "one post, Tweetwire's field order",
			data: `{"id":"bench:7","source":"bench","text":"Post 7","created_at":"2026-01-01T00:00:00Z","ts":"1700000000000000007"}]`,
			want: []post{{7, 1700000000000000007}}},
		{name: "one post, the Node.js server's field order",
			data: `{"id":"bench:12","user":"author12","hashtags":["goconf"],"ts":"1700000000123456789"}]`,
			want: []post{{12, 1700000000123456789}}},
		{name: "a backlog",
			data: `[{"id":"bench:1","ts":"11"},{"id":"bench:2","ts":"22"},{"id":"bench:3","ts":"33"}]]`,
			want: []post{{1, 11}, {2, 22}, {3, 33}}},
		{name: "text that looks like keys is escaped and does not match",
			data: `{"id":"bench:4","text":"say \"ts\":\"99\" and \"id\":\"bench:5\"","ts":"44"}]`,
			want: []post{{4, 44}}},
		{name: "a post without ts is skipped, not paired with the next one's",
			data: `[{"id":"bench:1"},{"id":"bench:2","ts":"22"}]]`,
			want: []post{{2, 22}}},
		{name: "posts from a live source are skipped",
			data: `[{"id":"twitter:1","ts":"5"},{"id":"bench:2","ts":"22"}]]`,
			want: []post{{2, 22}}},
		{name: "nothing", data: `[]]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []post
			scanPosts([]byte(tc.data), func(seq, ts int64) { got = append(got, post{seq, ts}) })
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecodePayloadV4(t *testing.T) {
	tests := []decodeCase{
		{name: "open alone, as the handshake answers",
			body: `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
			want: packets(`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)},
		{name: "connect, ping and two events",
			body: "40{\"sid\":\"x\"}\x1e2\x1e42[\"tweet\",1]\x1e42[\"tweet\",2]",
			want: packets(`40{"sid":"x"}`, "2", `42["tweet",1]`, `42["tweet",2]`)},
		// No lengths to count: non-ASCII text and colons pass as they are.
		{name: "non-ASCII", body: "42[\"tweet\",{\"text\":\"é😀 日本語: ok\"}]\x1e6",
			want: packets(`42["tweet",{"text":"é😀 日本語: ok"}]`, "6")},
		{name: "a binary packet keeps its b", body: "bAQID\x1e6", want: packets("bAQID", "6")},
		{name: "empty packet in the middle", body: "6\x1e\x1e6", err: "empty packet"},
		{name: "trailing separator", body: "6\x1e", err: "empty packet"},
	}
	runDecodeCases(t, tests, decodePayloadV4)
	if got, err := decodePayloadV4(nil); got != nil || err != nil {
		t.Fatalf("empty body: got %q, %v; want nothing", got, err)
	}
}

func TestEncodePayloadV4RoundTrips(t *testing.T) {
	in := []string{"40", `42["é😀"]`, "3"}
	body := encodePayloadV4(in...)
	if want := "40\x1e42[\"é😀\"]\x1e3"; string(body) != want {
		t.Fatalf("encoded %q, want %q", body, want)
	}
	got, err := decodePayloadV4(body)
	if err != nil {
		t.Fatal(err)
	}
	if want := packets(in...); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip: got %q, want %q", got, want)
	}
	if got := encodePayloadV4("40"); string(got) != "40" {
		t.Fatalf("one packet: %q, want no separator", got)
	}
}
