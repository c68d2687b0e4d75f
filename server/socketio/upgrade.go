package socketio

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/googollee/go-socket.io/engineio/session"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/googollee/go-socket.io/engineio/transport/polling"
)

// upgradeGrace is how long a polling connection that was paused for an
// upgrade stays open after the session lets go of it.
const upgradeGrace = 2 * time.Second

// pollingTransport works around a race in go-socket.io v1.7.0's upgrade
// from polling to WebSocket. The session swaps in the WebSocket connection
// and at once closes the polling one; a reader or writer that picked up
// the polling connection just before the swap then gets io.EOF instead of
// the retryable "paused" error, and the session closes itself: the client
// sees "transport close" right after upgrading. Under CPU load this hit
// one upgrade in a few dozen here.
//
// Keeping a paused connection open for a grace period after Close lets
// those late callers get "paused", retry, and find the WebSocket.
type pollingTransport struct {
	*polling.Transport
}

func (t pollingTransport) Accept(w http.ResponseWriter, r *http.Request) (transport.Conn, error) {
	c, err := t.Transport.Accept(w, r)
	if err != nil {
		return nil, err
	}
	return &graceConn{Conn: c}, nil
}

// graceConn is a polling connection whose Close is deferred while paused.
type graceConn struct {
	transport.Conn
	paused atomic.Bool
}

func (c *graceConn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.Conn.(http.Handler).ServeHTTP(w, r)
}

func (c *graceConn) Pause() {
	c.paused.Store(true)
	c.Conn.(session.Pauser).Pause()
}

func (c *graceConn) Resume() {
	c.Conn.(session.Pauser).Resume()
	c.paused.Store(false)
}

func (c *graceConn) Close() error {
	if c.paused.Load() {
		time.AfterFunc(upgradeGrace, func() { _ = c.Conn.Close() })
		return nil
	}
	return c.Conn.Close()
}
