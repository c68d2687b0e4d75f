//go:build !linux

package socketio

import (
	"errors"
	"net"
	"syscall"
)

// poller is Linux's epoll; elsewhere each WebSocket keeps a reader
// goroutine (newPoller fails and the engine falls back to one).
type poller struct{}

type pollWatch struct{}

func newPoller() (*poller, error) { return nil, errors.New("no poller on this system") }

func (p *poller) watch(net.Conn, func()) (*pollWatch, error) {
	return nil, errors.New("no poller on this system")
}

func (w *pollWatch) arm() error { return errors.New("no poller on this system") }

func (w *pollWatch) stop() {}

func (p *poller) close() {}

// tryWrite writes nothing here: every batch goes to a goroutine that
// waits (finishWrite).
func tryWrite(syscall.RawConn, [][]byte) (int, error) { return 0, nil }
