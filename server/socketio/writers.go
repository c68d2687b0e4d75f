package socketio

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
)

// writers write what the hub queues for WebSocket clients: one goroutine
// per core takes the clients the hub woke and writes each one's posts
// with a system call that does not wait. A client whose socket is full
// gets a goroutine of its own that waits (its drain), so one slow client
// never holds up a writer. Polling clients do not come here (conn.wake).
//
// Why not a goroutine per wake, as before: at 1,000 clients × 100
// posts/s (twprof, Engine.IO 4) starting one for every post and client,
// and growing its stack through the write path, cost 13% of the server's
// CPU (runtime.newstack 8.5%, newproc and the scheduler the rest).
//
// The writers wait delay after the first client is woken before they
// write: posts that arrive meanwhile for a woken client go out in the
// same writev. The write system call is most of the server's CPU (57% of
// it at 1,000 × 100/s), one per client and write, so at 100 posts/s a
// 10 ms window halves it for 10 ms of latency at most.
type writers struct {
	delay time.Duration
	// signal wakes a writer: capacity 1, sent to when the list becomes
	// non-empty and when a writer leaves part of it to the others.
	signal chan struct{}

	mu    sync.Mutex
	ready []*conn
	first time.Time // when ready last became non-empty
}

// writerChunk is how many clients a writer takes at a time, so that the
// others share a long list.
const writerChunk = 256

func newWriters(delay time.Duration) *writers {
	return &writers{delay: delay, signal: make(chan struct{}, 1)}
}

// add queues c, whose hub client has posts and no drain running; the hub
// calls it (through conn.wake) with its lock held, so it never blocks.
func (w *writers) add(c *conn) {
	w.mu.Lock()
	if len(w.ready) == 0 {
		w.first = time.Now()
	}
	w.ready = append(w.ready, c)
	n := len(w.ready)
	w.mu.Unlock()
	if n == 1 {
		w.wake()
	}
}

func (w *writers) wake() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// run starts one writer per core; they end with ctx.
func (w *writers) run(ctx context.Context) {
	for range runtime.GOMAXPROCS(0) {
		go w.loop(ctx)
	}
}

func (w *writers) loop(ctx context.Context) {
	var mine []*conn
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-w.signal:
		case <-ctx.Done():
			return
		}
		for {
			w.mu.Lock()
			if len(w.ready) == 0 {
				w.mu.Unlock()
				break
			}
			if wait := w.delay - time.Since(w.first); wait > 0 {
				w.mu.Unlock()
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return
				}
				continue
			}
			n := min(len(w.ready), writerChunk)
			mine = append(mine[:0], w.ready[:n]...)
			rest := copy(w.ready, w.ready[n:])
			clear(w.ready[rest:])
			w.ready = w.ready[:rest]
			w.mu.Unlock()
			if rest > 0 {
				w.wake() // another writer takes the next chunk
			}
			for _, c := range mine {
				c.flush()
			}
			clear(mine)
		}
	}
}

// flush writes what c's client has queued, without waiting: on a writer,
// for WebSocket clients. What cannot be written at once goes on in a
// goroutine of c's own (finish, then drain).
func (c *conn) flush() {
	c.mu.Lock()
	client := c.client
	c.mu.Unlock()
	if client == nil {
		return
	}
	// Never nil: conn.wake hands only WebSocket sessions to the writers,
	// and a session never leaves WebSocket.
	ws := c.sess.webSocket()
	var small [8]*hub.Message
	for {
		batch, ok := client.Take(small[:0])
		if !ok {
			return
		}
		left, err := ws.writeFramesNow(batch)
		if err != nil {
			c.s.log.Debug("write failed; closing the connection", "sid", c.sess.id, "err", err)
			c.sess.close("write failed", eioClose)
			return
		}
		if left != nil {
			// The socket is full (or another write holds it): a
			// goroutine waits to write the rest, then drains on.
			batch = append([]*hub.Message(nil), batch...)
			go c.finish(ws, batch, left)
			return
		}
		c.wrote(batch)
		clear(batch)
	}
}

// finish writes what writeFramesNow left of batch, with the connection's
// write lock that it left held, then drains on.
func (c *conn) finish(ws *wsConn, batch []*hub.Message, left *pendingWrite) {
	if err := ws.finishWrite(left); err != nil {
		c.s.log.Debug("write failed; closing the connection", "sid", c.sess.id, "err", err)
		c.sess.close("write failed", eioClose)
		return
	}
	c.wrote(batch)
	c.drain(false)
}

// wrote reports a written batch to OnWrite.
func (c *conn) wrote(batch []*hub.Message) {
	if c.s.cfg.OnWrite != nil {
		for _, m := range batch {
			c.s.cfg.OnWrite(m)
		}
	}
}
