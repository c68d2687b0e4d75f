// Package redis shares one wall between several servers through Redis:
// a pub/sub broker that brings every post to every node's hub, and a lease
// that lets one node at a time consume the source.
//
// go-socket.io's own Redis adapter is not used: it drops the connection
// error, races on its request map and stops for good on one bad message.
package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tweetwire/tweetwire/server/hub"
)

// Broker publishes through a Redis channel and delivers what comes back to
// the local hub: a post ingested on any node reaches the clients of every
// node, once.
type Broker struct {
	rdb     *goredis.Client
	channel string
	recent  string // list of the last keep messages, newest first
	keep    int
	local   *hub.Hub
	log     *slog.Logger
	sub     *goredis.PubSub

	// failing is set while publishing fails, so that an outage is
	// logged once, not once a post.
	failing atomic.Bool
}

var _ hub.Broker = (*Broker)(nil)

// NewBroker returns a broker on channel that delivers to local and keeps
// the last keep messages in Redis for nodes that join (see Recent).
func NewBroker(rdb *goredis.Client, channel string, keep int, local *hub.Hub, log *slog.Logger) *Broker {
	return &Broker{rdb: rdb, channel: channel, recent: channel + ":recent", keep: max(keep, 1), local: local, log: log}
}

// envelope is a message on the channel. Data stays raw: it was encoded
// once by the ingesting node and is written to clients as it is.
type envelope struct {
	Event    string          `json:"e"`
	ID       string          `json:"i"`
	Data     json.RawMessage `json:"d"`
	Ingested int64           `json:"t,omitempty"` // Unix nanoseconds
}

// Publish sends m to every node. While Redis is away this node's own
// clients still get it: a wall that keeps serving its audience beats one
// that waits for Redis.
func (b *Broker) Publish(ctx context.Context, m *hub.Message) error {
	env := envelope{Event: m.Kind, ID: m.ID, Data: m.Data}
	if !m.Ingested.IsZero() {
		env.Ingested = m.Ingested.UnixNano()
	}
	payload, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encode %s for redis: %w", m.ID, err)
	}
	// The list and the channel change in one transaction, so a node that
	// subscribes and then reads the list sees every message in one or
	// the other.
	_, err = b.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.LPush(ctx, b.recent, payload)
		p.LTrim(ctx, b.recent, 0, int64(b.keep-1))
		p.Expire(ctx, b.recent, 24*time.Hour)
		p.Publish(ctx, b.channel, payload)
		return nil
	})
	if err != nil {
		if !b.failing.Swap(true) {
			b.log.Error("redis: cannot publish; serving this node's clients only until it is back", "err", err)
		}
		return b.local.Publish(ctx, m)
	}
	if b.failing.Swap(false) {
		b.log.Info("redis: publishing again")
	}
	return nil
}

// Subscribe starts listening and waits until Redis confirms it, or for
// ctx. Call it before loading the newest posts (from the store, then
// Recent): whatever is published from then on arrives here, and whatever
// was published before is in the store or in Redis's list of recent
// messages, so a node that joins misses nothing. (The hub drops a post it
// holds twice.) The store alone is not enough: a post is broadcast before
// it is stored, so one published just before the subscription may not be
// stored yet when the store is read. An unreachable Redis is not fatal:
// go-redis keeps trying, and the node serves its own clients meanwhile.
func (b *Broker) Subscribe(ctx context.Context) error {
	b.sub = b.rdb.Subscribe(ctx, b.channel)
	if _, err := b.sub.Receive(ctx); err != nil {
		return fmt.Errorf("subscribe to redis channel %s: %w", b.channel, err)
	}
	return nil
}

// Recent returns the last messages published through Redis, oldest first:
// posts, and the deletes that followed them.
func (b *Broker) Recent(ctx context.Context) ([]*hub.Message, error) {
	payloads, err := b.rdb.LRange(ctx, b.recent, 0, int64(b.keep-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("read the recent posts from redis: %w", err)
	}
	out := make([]*hub.Message, 0, len(payloads))
	for i := len(payloads) - 1; i >= 0; i-- {
		if m := decode(payloads[i]); m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// decode returns the message in payload, or nil for something that is not
// a Tweetwire message.
func decode(payload string) *hub.Message {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil || env.ID == "" || len(env.Data) == 0 {
		return nil
	}
	m := &hub.Message{Kind: env.Event, ID: env.ID, Data: env.Data}
	if env.Ingested != 0 {
		m.Ingested = time.Unix(0, env.Ingested)
	}
	return m
}

// Run delivers the channel's messages to the local hub until ctx is done.
// go-redis reconnects and subscribes again by itself after a drop.
func (b *Broker) Run(ctx context.Context) error {
	if b.sub == nil {
		b.sub = b.rdb.Subscribe(ctx, b.channel)
	}
	sub := b.sub
	defer sub.Close()
	ch := sub.Channel(goredis.WithChannelSize(4096))
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-ch:
			if !ok {
				return nil
			}
			m := decode(msg.Payload)
			if m == nil {
				// One bad message must not stop the broker.
				b.log.Warn("redis: skipping a message that is not a Tweetwire post", "channel", msg.Channel)
				continue
			}
			_ = b.local.Publish(ctx, m)
		}
	}
}
