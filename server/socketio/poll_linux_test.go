//go:build linux

package socketio

import (
	"net"
	"syscall"
	"testing"
)

// A batch of more frames than writev takes (a client a thousand posts
// behind) is written in part, never refused: the caller writes the rest.
func TestTryWriteTakesAtMostIOVMax(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	frames := make([][]byte, 2*maxIOV)
	for i := range frames {
		frames[i] = []byte("é") // two bytes each
	}
	n, err := tryWrite(rc, frames)
	if err != nil || n != 2*maxIOV {
		t.Errorf("tryWrite of %d frames = %d bytes, %v; want the first %d frames' %d bytes", len(frames), n, err, maxIOV, 2*maxIOV)
	}
}
