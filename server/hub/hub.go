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

// Event names on the wire, shared with every transport adapter.
const (
	EventTweet   = "tweet"
	EventDelete  = "delete"
	EventBacklog = "backlog"
)

// Message is one broadcast, encoded once for all clients.
type Message struct {
	// Event is EventTweet or EventDelete.
	Event string
	// ID is the post's id: the key for `since` and for deletes.
	ID string
	// Data is the event's JSON argument, encoded once by the publisher.
	Data json.RawMessage
	// Ingested is when the post entered this system, for the fan-out
	// latency metric; zero when unknown.
	Ingested time.Time
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
	}
}

// Client is one subscriber. Read Backlog first, then Messages until Done.
type Client struct {
	// Backlog holds the posts the client must show before anything from
	// Messages, oldest first.
	Backlog []*Message

	queue chan *Message
	done  chan struct{}
	err   error  // set before done is closed
	kick  func() // disconnects the client's transport when it is dropped
}

// Messages delivers the posts and deletes published after the backlog.
func (c *Client) Messages() <-chan *Message { return c.queue }

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
// history; a delete also removes the post from the history. A post the
// history already holds is dropped: with several nodes, a source that
// moved to another node may repeat what the last one sent.
func (h *Hub) Publish(_ context.Context, m *Message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch m.Event {
	case EventDelete:
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
		select {
		case c.queue <- m:
		default:
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
// every post after since. When the client is dropped as slow, kick (if not
// nil) runs in a goroutine of its own: the client's writer may be blocked
// on its transport and never see Done, so the transport must be closed
// from outside.
func (h *Hub) Subscribe(since string, kick func()) *Client {
	c := &Client{
		queue: make(chan *Message, h.cfg.QueueSize),
		done:  make(chan struct{}),
		kick:  kick,
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
