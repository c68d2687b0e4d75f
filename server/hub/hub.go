// Package hub fans posts out to every connected client. Each client gets a
// bounded queue of its own; a client whose queue overflows is dropped as
// slow, so no client ever waits for another. Posts are encoded once by the
// publisher and the same bytes go to every client.
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Message kinds, which are also their Socket.IO event names on the wire,
// shared with every transport adapter.
const (
	KindTweet   = "tweet"
	KindDelete  = "delete"
	KindBacklog = "backlog"
	// KindPins carries the JSON array of the pinned posts, most recently
	// pinned first; it is sticky.
	KindPins = "pins"
	// KindStatus carries the source's state, {state, error?, since}: what
	// a wall says when the stream reconnects, fails or ends; it is sticky.
	KindStatus = "status"
)

// sticky are the kinds of which the hub keeps only the latest message,
// outside the history, and sends it to every new client right after its
// backlog: state a client needs whenever it arrives, not a stream.
var sticky = map[string]bool{KindPins: true, KindStatus: true}

// Message is one broadcast, encoded once for all clients.
type Message struct {
	// Kind is KindTweet, KindDelete or a sticky kind (KindPins,
	// KindStatus).
	Kind string
	// ID is the post's id: the key for `since` and for deletes.
	ID string
	// Data is the event's JSON argument, encoded once by the publisher.
	Data json.RawMessage
	// Ingested is when the post entered this system, for the fan-out
	// latency metric; zero when unknown.
	Ingested time.Time

	// wire caches the message as a transport puts it on the wire (a whole
	// WebSocket frame): built by the first client's writer, the same
	// bytes then go to every other client.
	wire atomic.Pointer[[]byte]
}

// Wire returns encode(m), calling encode only for the first caller (two
// racing first callers may both encode; either result is kept). A process
// serves one wire format, so one cache is enough.
func (m *Message) Wire(encode func(*Message) []byte) []byte {
	if b := m.wire.Load(); b != nil {
		return *b
	}
	b := encode(m)
	m.wire.CompareAndSwap(nil, &b)
	return *m.wire.Load()
}

// Broker carries messages to the hubs that deliver them. The hub is its own
// broker on a single node; a cross-node broker (Redis) publishes to every
// node and calls Hub.Publish on each when the message comes back.
type Broker interface {
	Publish(ctx context.Context, m *Message) error
}

var _ Broker = (*Hub)(nil)

// ErrSlow is the reason a client is dropped when its queue overflows. The
// client should reconnect with `since` to catch up.
var ErrSlow = errors.New("client too slow: its send queue overflowed; reconnect with since=<last id> to catch up")

// Config tunes a Hub. Zero values mean "use the default".
type Config struct {
	// Backlog is how many recent posts a new client receives (default 50;
	// negative for none).
	Backlog int
	// History is how many recent posts are kept for `since` (default 10000,
	// at least Backlog).
	History int
	// QueueSize bounds each client's queue (default 1024).
	QueueSize int
}

// Hub holds the recent history and the connected clients.
type Hub struct {
	cfg Config

	// mu orders Publish against Subscribe so that a post reaches a new
	// client exactly once: in its backlog or in its queue, never both.
	// Publish never blocks while holding it: queue sends are non-blocking.
	mu      sync.Mutex
	ring    []*Message // posts, oldest first at ring[(head) % len]
	head    int        // sequence number of the oldest kept entry
	next    int        // sequence number the next post gets
	index   map[string]int
	clients map[*Client]struct{}
	// latest holds the last message of each sticky kind.
	latest map[string]*Message

	dropped atomic.Uint64
}

// New returns a Hub with cfg's defaults filled in.
func New(cfg Config) *Hub {
	switch {
	case cfg.Backlog == 0:
		cfg.Backlog = 50
	case cfg.Backlog < 0:
		cfg.Backlog = 0
	}
	if cfg.History <= 0 {
		cfg.History = 10000
	}
	if cfg.History < cfg.Backlog {
		cfg.History = cfg.Backlog
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	return &Hub{
		cfg:     cfg,
		ring:    make([]*Message, cfg.History),
		index:   make(map[string]int),
		clients: make(map[*Client]struct{}),
		latest:  make(map[string]*Message),
	}
}

// JSONArray joins the messages' pre-encoded data into one JSON array, in
// order: the argument of the backlog event.
func JSONArray(ms []*Message) []byte {
	n := 2
	for _, m := range ms {
		n += len(m.Data) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m.Data...)
	}
	return append(b, ']')
}

// Client is one subscriber. Its transport drains it: writes Backlog,
// then Takes what is queued until Take reports nothing left, and starts
// draining again when the hub calls wake.
type Client struct {
	// Backlog holds the posts the client must show before anything it
	// takes from the queue, oldest first.
	Backlog []*Message

	// The queue grows while posts wait and is let go once a burst is
	// taken, and nothing waits on it while it is empty: an idle client
	// holds neither a buffer nor a goroutine. (A buffered channel with a
	// writer parked on it cost about 20 KB per idle connection: more than
	// the whole of a Node.js socket.io connection.)
	mu       sync.Mutex
	queue    []*Message
	limit    int
	draining bool   // a drain is running: the next push needs no wake
	wake     func() // starts a drain; called with the hub's lock held

	done chan struct{}
	err  error  // set before done is closed
	kick func() // disconnects the client's transport when it is dropped
}

// push queues m unless the queue is full; it never blocks. It reports
// whether m was queued.
func (c *Client) push(m *Message) bool {
	c.mu.Lock()
	if len(c.queue) >= c.limit {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, m)
	start := !c.draining
	c.draining = true
	c.mu.Unlock()
	if start && c.wake != nil {
		c.wake()
	}
	return true
}

// Take appends every queued message to dst, oldest first, and empties the
// queue. With nothing queued it returns ok false and the drain is over:
// the next message queued calls wake again. Taking all at once lets a
// writer that fell behind catch up in one write instead of one per post.
func (c *Client) Take(dst []*Message) (_ []*Message, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.draining = false
		return dst, false
	}
	dst = append(dst, c.queue...)
	if cap(c.queue) > 64 {
		c.queue = nil // a burst is over: let its buffer go
	} else {
		clear(c.queue)
		c.queue = c.queue[:0]
	}
	return dst, true
}

// Done is closed when the client is dropped or unsubscribed.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err tells why Done was closed: ErrSlow, or nil after Unsubscribe.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Publish delivers m to every client and, for posts, keeps it in the
// history; a delete also removes the post from the history, and a sticky
// message replaces the last one of its kind. A post the history already
// holds is dropped: with several nodes, a source that moved to another
// node may repeat what the last one sent. A post published again after
// its delete (moderation's unhide) goes at the end of the history, so a
// client resuming with since gets it even when it is older than what the
// client saw; clients place posts by created_at.
func (h *Hub) Publish(_ context.Context, m *Message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case sticky[m.Kind]:
		h.latest[m.Kind] = m
	case m.Kind == KindDelete:
		if seq, ok := h.index[m.ID]; ok {
			h.ring[seq%len(h.ring)] = nil
			delete(h.index, m.ID)
		}
	default:
		if _, dup := h.index[m.ID]; dup {
			return nil
		}
		h.append(m)
	}
	for c := range h.clients {
		if !c.push(m) {
			h.drop(c, ErrSlow)
			h.dropped.Add(1)
			if c.kick != nil {
				go c.kick()
			}
		}
	}
	return nil
}

// Seed fills the history with posts published before this process started
// (e.g. loaded from the store), oldest first, without sending them to
// anyone.
func (h *Hub) Seed(posts []*Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range posts {
		if _, dup := h.index[m.ID]; !dup {
			h.append(m)
		}
	}
}

func (h *Hub) append(m *Message) {
	if h.next-h.head == len(h.ring) {
		if old := h.ring[h.head%len(h.ring)]; old != nil {
			delete(h.index, old.ID)
		}
		h.head++
	}
	h.ring[h.next%len(h.ring)] = m
	h.index[m.ID] = h.next
	h.next++
}

// Subscribe registers a client. With since empty, or naming a post the hub
// no longer holds, its backlog is the last Backlog posts; otherwise it is
// every post after since.
//
// The caller drains the new client once (backlog, then Take until it
// reports nothing left); after that, wake (if not nil) is called each time
// a message is queued while no drain runs. wake runs with the hub's lock
// held: it must only start the drain (e.g. a goroutine), never wait for
// it. When the client is dropped as slow, kick (if not nil) runs in a
// goroutine of its own: the client's writer may be blocked on its
// transport, so the transport must be closed from outside.
func (h *Hub) Subscribe(since string, wake, kick func()) *Client {
	c := &Client{
		limit:    h.cfg.QueueSize,
		draining: true,
		wake:     wake,
		done:     make(chan struct{}),
		kick:     kick,
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	from := max(h.head, h.next-h.cfg.Backlog)
	limit := h.cfg.Backlog
	if seq, ok := h.index[since]; ok && since != "" {
		from, limit = seq+1, h.cfg.History
	}
	for seq := from; seq < h.next && len(c.Backlog) < limit; seq++ {
		if m := h.ring[seq%len(h.ring)]; m != nil {
			c.Backlog = append(c.Backlog, m)
		}
	}
	// Sticky messages wait in the queue, so the first drain sends them
	// right after the backlog.
	for _, m := range h.latest {
		c.queue = append(c.queue, m)
	}
	h.clients[c] = struct{}{}
	return c
}

// Unsubscribe removes c; it is safe to call more than once.
func (h *Hub) Unsubscribe(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(c, nil)
}

// drop must be called with mu held.
func (h *Hub) drop(c *Client, err error) {
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	c.err = err
	close(c.done)
}

// Clients returns how many clients are subscribed.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Dropped returns how many clients were dropped for overflowing.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Recent returns up to n of the newest posts, newest first.
func (h *Hub) Recent(n int) []*Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*Message
	for seq := h.next - 1; seq >= h.head && len(out) < n; seq-- {
		if m := h.ring[seq%len(h.ring)]; m != nil {
			out = append(out, m)
		}
	}
	return out
}
