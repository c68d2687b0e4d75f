// Package cluster is how one node shares the wall with others: the broker
// that carries every post to every node's hub, the lease that picks the one
// node that consumes the source, and where a resumable source stands.
//
// A node alone is a cluster of one: its broker is the in-process one
// (MemoryBroker, as centrifuge's memory broker), its lease is always held
// (Alone) and its source's position lives in a file (FilePositions). With
// several nodes, server/redis provides all three. The application wires
// either set through the same interfaces, so nothing asks "am I alone?".
package cluster

import (
	"context"
	"log/slog"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Broker carries messages to every node's hub, and has a life of its own.
type Broker interface {
	hub.Broker
	// Subscribe starts listening before the hub is seeded from the
	// store, so that a joining node misses nothing in between.
	Subscribe(ctx context.Context) error
	// Recent returns the messages published shortly before this node
	// subscribed, oldest first, which the store may not hold yet.
	Recent(ctx context.Context) ([]*hub.Message, error)
	// Run delivers what other nodes publish until ctx is done.
	Run(ctx context.Context) error
}

// Lease lets one node at a time consume the source.
type Lease interface {
	// Run calls work, under a context that ends when the lease is lost,
	// each time this node gains the lease, until ctx is done.
	Run(ctx context.Context, work func(ctx context.Context))
	// Holding reports whether this node holds the lease now.
	Holding() bool
}

// Positions keeps where a resumable source stands (Jetstream's cursor,
// X's backfill), so that its next run starts there instead of live.
type Positions interface {
	// Load returns the saved position, "" when there is none.
	Load(ctx context.Context) (string, error)
	Save(ctx context.Context, pos string) error
}

// MemoryBroker is the broker of a node alone: a post goes straight to its
// own hub.
type MemoryBroker struct{ Hub *hub.Hub }

var _ Broker = MemoryBroker{}

func (b MemoryBroker) Publish(ctx context.Context, m *hub.Message) error {
	return b.Hub.Publish(ctx, m)
}

// Subscribe has nothing to listen to.
func (MemoryBroker) Subscribe(context.Context) error { return nil }

// Recent is empty: nothing is published but through this node.
func (MemoryBroker) Recent(context.Context) ([]*hub.Message, error) { return nil, nil }

// Run has nothing to deliver; it returns when ctx is done.
func (MemoryBroker) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Alone is the lease of a node without peers: always held.
type Alone struct{}

var _ Lease = Alone{}

// Run calls work once, under ctx.
func (Alone) Run(ctx context.Context, work func(ctx context.Context)) { work(ctx) }

func (Alone) Holding() bool { return true }

// Replay hands the broker's recent messages to the hub and marks their
// posts seen. It runs after the store's posts are seeded and before
// clients connect, so the replay reaches no one: the hub only keeps what
// it lacks.
func Replay(ctx context.Context, b Broker, h *hub.Hub, remember func(ids ...string), log *slog.Logger) {
	recentCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msgs, err := b.Recent(recentCtx)
	if err != nil {
		log.Error("cannot read the posts published while this node started; one of them may be missing from its backlog", "err", err)
		return
	}
	for _, m := range msgs {
		_ = h.Publish(ctx, m)
		if m.Kind == hub.KindTweet {
			remember(m.ID)
		}
	}
}

// Runner runs the source on the node that holds the lease, where the last
// run of it stood.
type Runner struct {
	Lease     Lease
	Positions Positions
	Logger    *slog.Logger
}

// Run runs src whenever this node holds the lease, until ctx is done,
// standing by (and saying so to sink) while another node does. run is the
// source's own run, which reports how it ended. A source that can resume
// starts where it last stood and its position is saved every second.
func (r Runner) Run(ctx context.Context, src tweet.Source, sink tweet.Sink, run func(ctx context.Context)) {
	if !r.Lease.Holding() {
		sink.SetState(tweet.StateStandby, nil)
	}
	r.Lease.Run(ctx, func(leaseCtx context.Context) {
		if res, ok := src.(tweet.Resumable); ok {
			r.resume(leaseCtx, res)
			// Saving stops only once run has returned, not when the
			// lease ends: the source may emit one more event while it
			// stops, and the last position saved must include it.
			keepCtx, stop := context.WithCancel(context.WithoutCancel(leaseCtx))
			kept := make(chan struct{})
			go func() { r.keepPosition(keepCtx, res); close(kept) }()
			// The last position is saved before the lease or the
			// server goes.
			defer func() { stop(); <-kept }()
		}
		run(leaseCtx)
		// Keep the lease while the source is finished or failed: another
		// node would only do the same again.
		<-leaseCtx.Done()
		if ctx.Err() == nil {
			// The lease went to another node; this one serves its
			// clients.
			sink.SetState(tweet.StateStandby, nil)
		}
	})
}
