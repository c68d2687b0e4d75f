package socketio

import (
	"testing"
)

// The Socket.IO protocol's own examples decode as it says, and encode
// back to the same header.
func TestParsePacketSpecExamples(t *testing.T) {
	for _, tc := range []struct {
		in          string
		typ         byte
		attachments int
		nsp         string
		id          int64
		data        string
	}{
		{`0`, sioConnect, 0, "/", -1, ``},
		{`0/admin,{"token":"123"}`, sioConnect, 0, "/admin", -1, `{"token":"123"}`},
		{`0/admin`, sioConnect, 0, "/admin", -1, ``},
		{`0/admin?a=b,`, sioConnect, 0, "/admin", -1, ``}, // socket.io-client 2.x
		{`1`, sioDisconnect, 0, "/", -1, ``},
		{`1/admin,`, sioDisconnect, 0, "/admin", -1, ``},
		{`2["foo"]`, sioEvent, 0, "/", -1, `["foo"]`},
		{`212["foo"]`, sioEvent, 0, "/", 12, `["foo"]`},
		{`3/admin,13["bar"]`, sioAck, 0, "/admin", 13, `["bar"]`},
		{`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, sioBinaryEvent, 2, "/admin", -1,
			`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
		{`61-15["bar",{"_placeholder":true,"num":0}]`, sioBinaryAck, 1, "/", 15, `["bar",{"_placeholder":true,"num":0}]`},
		{`2["tweet","Привет 🎉 שלום"]`, sioEvent, 0, "/", -1, `["tweet","Привет 🎉 שלום"]`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := parsePacket([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if p.typ != tc.typ || p.attachments != tc.attachments || p.nsp != tc.nsp || p.id != tc.id || string(p.data) != tc.data {
				t.Fatalf("got %+v (data %s)", p, p.data)
			}
			if tc.nsp != "/admin" || tc.typ == sioConnect || tc.typ == sioDisconnect {
				return
			}
			if got := string(appendPacketHeader(nil, p.typ, p.attachments, p.nsp, p.id)) + string(p.data); got != tc.in {
				t.Fatalf("encoded back as %q", got)
			}
		})
	}
}

// What socket.io-parser refuses, and the official test suite expects
// to close the connection.
func TestParsePacketRefuses(t *testing.T) {
	for _, in := range []string{
		``, `abc`, `7`, `42{}`[1:], `2{}`, `2[]`, `2[{}]`, `2abc["message-with-ack",1]`, `2["a"`,
		`0[]`, `0"str"`, `1{}`, `3[1]`, `3{}`, `4{"message":"x"}`, `5["a"]`, `5x-["a"]`, `5-1-["a"]`,
	} {
		if p, err := parsePacket([]byte(in)); err == nil {
			t.Errorf("%q parsed as %+v", in, p)
		}
	}
}

func FuzzParsePacket(f *testing.F) {
	for _, s := range []string{`0`, `0/admin,{"token":"123"}`, `212["foo"]`, `3/admin,13["bar"]`, `61-15["bar",{"_placeholder":true,"num":0}]`, `2abc[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePacket(b)
		if err != nil {
			return
		}
		if p.attachments < 0 || (p.attachments > 0 && p.typ != sioBinaryEvent && p.typ != sioBinaryAck) {
			t.Fatalf("%q: attachments %d on type %c", b, p.attachments, p.typ)
		}
	})
}
