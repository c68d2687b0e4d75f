package socketio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

// realWorld is text that posts carry. Each is sent as a Socket.IO event
// inside an Engine.IO MESSAGE.
var realWorld = []struct{ name, text string }{
	{"ascii", "hello, world"},
	{"emoji, astral plane", "Party 🎉 time 👍🏽 🇫🇷"},
	{"accents", "Café crème brûlée, naïve façade, Ångström"},
	{"cyrillic", "Привет, мир! Ёлка"},
	{"cjk", "東京で会いましょう。한국어 中文"},
	{"arabic rtl", "مرحبا بالعالم"},
	{"hebrew rtl", "שלום עולם"},
	{"markup", `<b>&amp;</b> "quoted" \ back<script>`},
	{"mixed", "€ 🎉 é Ж 東 ع ש <i>"},
}

// jsLen is String.prototype.length: the UTF-16 code units of s, counted
// with the standard library rather than with the code under test.
func jsLen(s string) int { return len(utf16.Encode([]rune(s))) }

// eventMessage is the Engine.IO MESSAGE data a post becomes.
func eventMessage(text string) []byte {
	b, _ := json.Marshal([]string{"tweet", text})
	return append([]byte("2"), b...)
}

func TestUTF16Len(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0}, {"a", 1}, {"é", 1}, {"€", 1}, {"🎉", 2}, {"Ж", 1}, {"東", 1},
		{"👍🏽", 4}, {"\xff", 1}, // an invalid byte decodes to U+FFFD
	} {
		if got := utf16Len([]byte(tc.s)); got != tc.want {
			t.Errorf("utf16Len(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
	for _, tc := range realWorld {
		if got, want := utf16Len([]byte(tc.text)), jsLen(tc.text); got != want {
			t.Errorf("%s: utf16Len = %d, want %d", tc.name, got, want)
		}
	}
}

// EIO 3 text payloads (b64=1) count each packet's length in UTF-16 code
// units: the protocol's own example is "€", encoded "2:4€".
func TestPayloadV3TextLengthsAreUTF16(t *testing.T) {
	if got := string(appendPayloadV3Text(nil, []packet{{typ: eioMessage, data: []byte("€")}})); got != "2:4€" {
		t.Fatalf("€ encoded as %q, want %q", got, "2:4€")
	}
	if got := string(appendPayloadV3Text(nil, []packet{{typ: eioMessage, data: []byte("🎉")}})); got != "3:4🎉" {
		t.Fatalf("🎉 encoded as %q, want %q", got, "3:4🎉")
	}
	for _, tc := range realWorld {
		t.Run(tc.name, func(t *testing.T) {
			msg := eventMessage(tc.text)
			pkts := []packet{{typ: eioMessage, data: msg}, {typ: eioPong}, {typ: eioMessage, data: msg}}
			got := appendPayloadV3Text(nil, pkts)
			one := fmt.Sprintf("%d:4%s", 1+jsLen(string(msg)), msg)
			if want := one + "1:3" + one; string(got) != want {
				t.Fatalf("encoded %q\nwant    %q", got, want)
			}
			back, err := decodePayloadV3Text(got)
			if err != nil {
				t.Fatal(err)
			}
			if !samePackets(back, pkts) {
				t.Fatalf("decoded %v, want %v", back, pkts)
			}
		})
	}
}

// What 2.x clients POST on polling: the same framing, client to server.
func TestPayloadV3TextDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []packet
	}{
		{"ping", "1:2", []packet{{typ: eioPing}}},
		{"probe", "6:2probe", []packet{{typ: eioPing, data: []byte("probe")}}},
		{"euro", "2:4€", []packet{{typ: eioMessage, data: []byte("€")}}},
		{"astral", "5:4🎉🎉", []packet{{typ: eioMessage, data: []byte("🎉🎉")}}},
		{"two", "3:4Жa1:6", []packet{{typ: eioMessage, data: []byte("Жa")}, {typ: eioNoop}}},
		{"empty packets are skipped", "0:1:2", []packet{{typ: eioPing}}},
		{"base64 binary", "6:b4AQID", []packet{{typ: eioMessage, data: []byte{1, 2, 3}, binary: true}}},
		{"rtl and markup", "16:42[\"שלום\",\"<b>\"]", []packet{{typ: eioMessage, data: []byte(`2["שלום","<b>"]`)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodePayloadV3Text([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !samePackets(got, tc.want) {
				t.Fatalf("decoded %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, in string }{
		{"byte length instead of UTF-16", "4:4€"},
		{"length splits a surrogate pair", "2:4🎉"},
		{"runs past the end", "9:4abc"},
		{"no colon", "42"},
		{"empty length", ":4a"},
		{"negative length", "-1:4"},
		{"unknown packet type", "1:9"},
		{"bad base64", "4:b4!!"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			if got, err := decodePayloadV3Text([]byte(tc.in)); err == nil {
				t.Fatalf("decoded %v, want an error", got)
			}
		})
	}
}

// EIO 3 binary payloads count bytes, one byte per decimal digit.
func TestPayloadV3Binary(t *testing.T) {
	got := appendPayloadV3Binary(nil, []packet{
		{typ: eioMessage, data: []byte("€")},
		{typ: eioMessage, data: []byte{1, 2, 3}, binary: true},
	})
	want := []byte{0, 4, 0xFF, '4', 0xE2, 0x82, 0xAC, 1, 4, 0xFF, 4, 1, 2, 3}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoded % x\nwant    % x", got, want)
	}
	for _, tc := range realWorld {
		msg := eventMessage(tc.text)
		pkts := []packet{{typ: eioMessage, data: msg}, {typ: eioMessage, data: []byte(tc.text), binary: true}}
		back, err := decodePayloadV3Binary(appendPayloadV3Binary(nil, pkts))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !samePackets(back, pkts) {
			t.Fatalf("%s: decoded %v, want %v", tc.name, back, pkts)
		}
	}
	for _, bad := range [][]byte{{2, 1, 0xFF, '4'}, {0, 5, 0xFF, '4'}, {0, 0xFF, '4'}, {0, 1, 2}, {1, 1, 0xFF, 3}} {
		if got, err := decodePayloadV3Binary(bad); err == nil {
			t.Errorf("% x decoded to %v, want an error", bad, got)
		}
	}
}

// EIO 4 payloads separate packets with 0x1E and carry binary in base64.
func TestPayloadV4(t *testing.T) {
	pkts := []packet{{typ: eioMessage, data: []byte("hello")}, {typ: eioMessage, data: []byte{1, 2, 3, 4}, binary: true}}
	if got, want := string(appendPayloadV4(nil, pkts)), "4hello\x1ebAQIDBA=="; got != want {
		t.Fatalf("encoded %q, want %q", got, want)
	}
	for _, tc := range realWorld {
		msg := eventMessage(tc.text)
		in := []packet{{typ: eioMessage, data: msg}, {typ: eioPing}, {typ: eioMessage, data: []byte(tc.text), binary: true}}
		b := appendPayloadV4(nil, in)
		if want := "4" + string(msg) + "\x1e2\x1eb"; !strings.HasPrefix(string(b), want) {
			t.Fatalf("%s: encoded %q, want it to start %q", tc.name, b, want)
		}
		back, err := decodePayloadV4(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !samePackets(back, in) {
			t.Fatalf("%s: decoded %v, want %v", tc.name, back, in)
		}
	}
	for _, bad := range []string{"", "abc", "4a\x1e", "b!!"} {
		if got, err := decodePayloadV4([]byte(bad)); err == nil {
			t.Errorf("%q decoded to %v, want an error", bad, got)
		}
	}
}

func samePackets(a, b []packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].typ != b[i].typ || a[i].binary != b[i].binary || !bytes.Equal(a[i].data, b[i].data) {
			return false
		}
	}
	return true
}

// The decoders take what any client sends: they must never panic, and
// what they accept must encode back to something that decodes the same.
func FuzzDecodePayloadV3Text(f *testing.F) {
	for _, s := range []string{"1:2", "2:4€", "3:4🎉", "6:b4AQID", "0:", "16:42[\"שלום\",\"<b>\"]", "4:4€", "2:4🎉"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := decodePayloadV3Text(b)
		if err != nil {
			return
		}
		again, err := decodePayloadV3Text(appendPayloadV3Text(nil, pkts))
		if err != nil {
			t.Fatalf("re-encoded payload does not decode: %v", err)
		}
		if !samePackets(again, pkts) && !reflect.DeepEqual(again, pkts) {
			t.Fatalf("round trip changed %v into %v", pkts, again)
		}
	})
}

func FuzzDecodePayloadV3Binary(f *testing.F) {
	f.Add([]byte{0, 4, 0xFF, '4', 0xE2, 0x82, 0xAC})
	f.Add([]byte{1, 4, 0xFF, 4, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := decodePayloadV3Binary(b)
		if err != nil {
			return
		}
		again, err := decodePayloadV3Binary(appendPayloadV3Binary(nil, pkts))
		if err != nil || !samePackets(again, pkts) {
			t.Fatalf("round trip of %v: %v, %v", pkts, again, err)
		}
	})
}

func FuzzDecodePayloadV4(f *testing.F) {
	for _, s := range []string{"4hello\x1ebAQIDBA==", "2", "3\x1e4€🎉"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := decodePayloadV4(b)
		if err != nil {
			return
		}
		for _, p := range pkts {
			if !p.binary && bytes.IndexByte(p.data, 0x1E) >= 0 {
				t.Fatalf("a packet holds the separator: %q", p.data)
			}
		}
		again, err := decodePayloadV4(appendPayloadV4(nil, pkts))
		if err != nil || !samePackets(again, pkts) {
			t.Fatalf("round trip of %v: %v, %v", pkts, again, err)
		}
	})
}
