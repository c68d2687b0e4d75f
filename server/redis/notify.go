package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Notifier tells the other nodes that shared state changed, so that they
// read it again from the database: moderation's decisions, blocks and
// switches live there, and every node, the one that consumes the source
// above all, must apply them at once. Only a ping travels: the database
// stays the one truth, so a node that misses pings (Redis away) catches
// up at the next one, or at the periodic reload.
type Notifier struct {
	rdb     *goredis.Client
	channel string
	node    string
	log     *slog.Logger
	// Every reads the state again even without a ping (default 30 s).
	Every time.Duration

	sub     *goredis.PubSub
	pending chan struct{}
}

// NewNotifier returns a notifier on channel for this node.
func NewNotifier(rdb *goredis.Client, channel, node string, log *slog.Logger) *Notifier {
	// The node's name with a random tail: two nodes given one name by
	// mistake must still hear each other.
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	node += "/" + hex.EncodeToString(b)
	return &Notifier{rdb: rdb, channel: channel, node: node, log: log, Every: 30 * time.Second, pending: make(chan struct{}, 1)}
}

// Subscribe starts listening and waits until Redis confirms it. Call it
// before loading the state the first time: a change made in between then
// reaches Run.
func (n *Notifier) Subscribe(ctx context.Context) error {
	n.sub = n.rdb.Subscribe(ctx, n.channel)
	if _, err := n.sub.Receive(ctx); err != nil {
		return fmt.Errorf("subscribe to redis channel %s: %w", n.channel, err)
	}
	return nil
}

// Notify says that this node changed the state. It never blocks: pings
// that pile up while one is being sent go out as one.
func (n *Notifier) Notify() {
	select {
	case n.pending <- struct{}{}:
	default:
	}
}

// Run sends this node's pings and calls reload for the other nodes' ones
// (several pings that arrive during one reload cause one more), and every
// Every, until ctx is done.
func (n *Notifier) Run(ctx context.Context, reload func(ctx context.Context)) {
	if n.sub == nil {
		n.sub = n.rdb.Subscribe(ctx, n.channel)
	}
	sub := n.sub
	defer sub.Close()
	changed := make(chan struct{}, 1)
	go func() {
		tick := time.NewTicker(n.Every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-tick.C:
			}
			reload(ctx)
		}
	}()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.pending:
			if err := n.rdb.Publish(ctx, n.channel, n.node).Err(); err != nil && ctx.Err() == nil {
				n.log.Error("redis: cannot tell the other nodes that moderation changed; they catch up within their periodic reload", "err", err)
			}
		case msg, ok := <-ch:
			if !ok {
				return
			}
			if msg.Payload == n.node {
				continue
			}
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}
}
