package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/ingest"
	"github.com/tweetwire/tweetwire/server/redis"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// cluster is how this node shares the wall: alone, the hub is its own
// broker and the source always runs; with --redis-url, posts go through
// Redis and a lease picks the one node that consumes the source.
type cluster struct {
	broker hub.Broker
	rb     *redis.Broker
	lease  *redis.Lease
	rdb    *goredis.Client
	// positions keeps where a resumable source stands: for the next
	// lease holder, or for this server's next start.
	positions positions
	log       *slog.Logger
}

func joinCluster(cfg Config, event string, h *hub.Hub, log *slog.Logger) (*cluster, error) {
	if cfg.RedisURL == "" {
		return &cluster{broker: h, positions: newFilePositions(cfg.DataDir, event, cfg.Source), log: log}, nil
	}
	opts, err := goredis.ParseURL(cfg.RedisURL)
	if err != nil {
		// The URL may hold a password: do not repeat it.
		return nil, fmt.Errorf("--redis-url is not a valid Redis URL: write it like redis://[:password@]host:6379/0")
	}
	rdb := goredis.NewClient(opts)
	log = log.With("component", "redis", "node", cfg.NodeID)
	rb := redis.NewBroker(rdb, "tweetwire:posts:"+event, seedPosts, h, log)
	return &cluster{
		broker:    rb,
		rb:        rb,
		rdb:       rdb,
		lease:     redis.NewLease(rdb, "tweetwire:lease:"+event, cfg.NodeID, cfg.LeaseTTL, log),
		positions: redisPositions{rdb: rdb, key: "tweetwire:position:" + event},
		log:       log,
	}, nil
}

// subscribe listens on Redis before the hub is seeded from the store, so
// that a joining node misses nothing in between.
func (c *cluster) subscribe(ctx context.Context, log *slog.Logger) {
	if c.rb == nil {
		return
	}
	subCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.rb.Subscribe(subCtx); err != nil {
		log.Error("redis unreachable at start-up; serving this node's clients until it is back", "err", err)
	}
}

// seedRecent replays the posts (and deletes) published through Redis
// shortly before this node subscribed, which the store may not hold yet.
// It runs after the store's posts are seeded and before clients connect,
// so the replay reaches no one: the hub only keeps what it lacks.
func (c *cluster) seedRecent(ctx context.Context, h *hub.Hub, p *ingest.Pipeline, log *slog.Logger) {
	if c.rb == nil {
		return
	}
	recentCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msgs, err := c.rb.Recent(recentCtx)
	if err != nil {
		log.Error("cannot read the recent posts from redis; a post published while this node started may be missing from its backlog", "err", err)
		return
	}
	for _, m := range msgs {
		_ = h.Publish(ctx, m)
		if m.Event != hub.EventDelete {
			p.Remember(m.ID)
		}
	}
}

func (c *cluster) runBroker(ctx context.Context) error { return c.rb.Run(ctx) }

// runSource runs the source: at once when alone, otherwise whenever this
// node holds the lease, standing by while another node does. A source that
// can resume starts where it last stood (Jetstream's cursor, X's
// backfill): see positions.
func (c *cluster) runSource(ctx context.Context, src tweet.Source, sink tweet.Sink, run func(ctx context.Context)) {
	start := func(ctx context.Context) {
		if r, ok := src.(tweet.Resumable); ok {
			c.resume(ctx, r)
			keepCtx, stop := context.WithCancel(ctx)
			kept := make(chan struct{})
			go func() { c.keepPosition(keepCtx, r); close(kept) }()
			// The last position is saved before the server exits.
			defer func() { stop(); <-kept }()
		}
		run(ctx)
	}
	if c.lease == nil {
		start(ctx)
		return
	}
	sink.SetState(tweet.StateStandby, nil)
	c.lease.Run(ctx, func(ctx context.Context) {
		start(ctx)
		// Keep the lease while the source is finished or failed: another
		// node would only do the same again.
		<-ctx.Done()
		sink.SetState(tweet.StateStandby, nil)
	})
}

func (c *cluster) holding() bool { return c.lease == nil || c.lease.Holding() }

func (c *cluster) Close() {
	if c.rdb != nil {
		_ = c.rdb.Close()
	}
}
