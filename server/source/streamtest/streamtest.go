// Package streamtest scripts the server side of a streaming HTTP endpoint
// for tests. Each request waits until the test accepts it; the test then
// answers with an error status, or opens a chunked response and writes it
// message by message, with keep-alives, silences, clean closes and aborted
// connections, exactly when it wants to. The fake servers of the live
// sources (twittertest, xtest) are built on it.
package streamtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// ErrGone is returned by a Conn method once the connection has ended:
// the client went away, the response was closed, or the endpoint closed.
var ErrGone = errors.New("streamtest: the connection has ended")

// Endpoint is an http.Handler whose requests the test answers one by one
// through Accept.
type Endpoint struct {
	conns    chan *Conn
	closed   chan struct{}
	once     sync.Once
	requests atomic.Int64
}

// NewEndpoint returns an endpoint with no request waiting.
func NewEndpoint() *Endpoint {
	return &Endpoint{conns: make(chan *Conn), closed: make(chan struct{})}
}

// Requests is how many requests arrived so far.
func (e *Endpoint) Requests() int { return int(e.requests.Load()) }

// Close ends every connection and makes later requests fail with 503, so
// that an httptest.Server holding the endpoint can close.
func (e *Endpoint) Close() { e.once.Do(func() { close(e.closed) }) }

// Accept waits for the next request and returns its connection.
func (e *Endpoint) Accept(ctx context.Context) (*Conn, error) {
	select {
	case c := <-e.conns:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.closed:
		return nil, ErrGone
	}
}

// Open accepts the next request and opens its stream with contentType,
// as the service answers a request it takes.
func (e *Endpoint) Open(ctx context.Context, contentType string) (*Conn, error) {
	c, err := e.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return c, c.Open(contentType)
}

// cmd runs in the handler's goroutine, the only one that may touch the
// ResponseWriter. end says the response is over.
type cmd struct {
	run   func(w http.ResponseWriter) (end bool, err error)
	abort bool
	done  chan error
}

// Conn is one request, held open until the test ends it.
type Conn struct {
	// Request is the request as received; its body has been read into
	// Body.
	Request *http.Request
	Body    []byte

	cmds   chan cmd
	ended  chan struct{} // closed when the handler returned
	gone   chan struct{} // closed when the client went away
	opened bool          // touched by the handler's goroutine only
}

func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	c := &Conn{Request: r, Body: body, cmds: make(chan cmd), ended: make(chan struct{}), gone: make(chan struct{})}
	defer close(c.ended)
	select {
	case e.conns <- c:
	case <-r.Context().Done():
		return
	case <-e.closed:
		http.Error(w, "the test endpoint is closed", http.StatusServiceUnavailable)
		return
	}
	for {
		select {
		case <-r.Context().Done():
			close(c.gone)
			return
		case <-e.closed:
			return
		case cm := <-c.cmds:
			if cm.abort {
				close(cm.done)
				// The server closes the TCP connection without ending
				// the chunked body: the client sees an unexpected EOF.
				panic(http.ErrAbortHandler)
			}
			end, err := cm.run(w)
			cm.done <- err
			if end || err != nil {
				return
			}
		}
	}
}

// do runs f in the handler's goroutine and waits for it.
func (c *Conn) do(cm cmd) error {
	cm.done = make(chan error, 1)
	select {
	case c.cmds <- cm:
	case <-c.ended:
		return ErrGone
	}
	return <-cm.done
}

// Gone is closed when the client closed the connection.
func (c *Conn) Gone() <-chan struct{} { return c.gone }

// Reject answers with status and body, and ends the response.
func (c *Conn) Reject(status int, contentType, body string) error {
	return c.do(cmd{run: func(w http.ResponseWriter) (bool, error) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, err := io.WriteString(w, body)
		return true, err
	}})
}

// Open answers 200 with contentType and flushes the headers, so the
// client sees the stream open before any message.
func (c *Conn) Open(contentType string) error {
	return c.do(cmd{run: func(w http.ResponseWriter) (bool, error) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		c.opened = true
		return false, http.NewResponseController(w).Flush()
	}})
}

// Write sends raw bytes on an open stream and flushes them, as one chunk.
func (c *Conn) Write(p string) error {
	return c.do(cmd{run: func(w http.ResponseWriter) (bool, error) {
		if !c.opened {
			return false, errors.New("streamtest: Write before Open")
		}
		if _, err := io.WriteString(w, p); err != nil {
			return false, err
		}
		return false, http.NewResponseController(w).Flush()
	}})
}

// Send writes each message followed by "\r\n", the delimiter of Twitter's
// and X's streams.
func (c *Conn) Send(msgs ...string) error {
	for _, m := range msgs {
		if err := c.Write(m + "\r\n"); err != nil {
			return err
		}
	}
	return nil
}

// KeepAlive sends the blank line both streams send when they have
// nothing else to say.
func (c *Conn) KeepAlive() error { return c.Write("\r\n") }

// Close ends the response cleanly: the chunked body ends and the client
// reads io.EOF, as when the service closes a stream on purpose.
func (c *Conn) Close() error {
	return c.do(cmd{run: func(w http.ResponseWriter) (bool, error) { return true, nil }})
}

// Drop aborts the connection mid-stream, as a network failure or a
// crashed server would.
func (c *Conn) Drop() error { return c.do(cmd{abort: true}) }
