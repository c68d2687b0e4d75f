package redis

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Lease lets one node at a time do a piece of work (consume the source: a
// source account allows one stream connection). The holder renews it;
// when the holder dies the key expires and another node takes over.
type Lease struct {
	rdb  *goredis.Client
	key  string
	node string
	ttl  time.Duration
	log  *slog.Logger

	holding atomic.Bool
}

// NewLease returns a lease on key for this node; ttl is how long a dead
// holder keeps it (default 5 s).
func NewLease(rdb *goredis.Client, key, node string, ttl time.Duration, log *slog.Logger) *Lease {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	return &Lease{rdb: rdb, key: key, node: node, ttl: ttl, log: log}
}

// Holding reports whether this node holds the lease now.
func (l *Lease) Holding() bool { return l.holding.Load() }

// renew keeps the lease when this node holds it, takes it when nobody
// does (Redis restarted empty), and reports whether this node holds it.
var renew = goredis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v == ARGV[1] then
	redis.call("PEXPIRE", KEYS[1], ARGV[2])
	return 1
end
if not v then
	redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
	return 1
end
return 0`)

var release = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// Run calls work, under a context that ends when the lease is lost, each
// time this node gains the lease, until ctx is done.
//
// While Redis cannot be reached the holder goes on working: nobody else
// can take the lease meanwhile, and its clients keep getting posts. When
// Redis is back it renews, or stops if another node took over.
func (l *Lease) Run(ctx context.Context, work func(ctx context.Context)) {
	tick := l.ttl / 3
	for ctx.Err() == nil {
		ok, err := l.rdb.SetNX(ctx, l.key, l.node, l.ttl).Result()
		if err != nil || !ok {
			sleep(ctx, tick)
			continue
		}
		l.hold(ctx, work, tick)
	}
}

// hold runs work while renewing the lease.
func (l *Lease) hold(ctx context.Context, work func(ctx context.Context), tick time.Duration) {
	l.holding.Store(true)
	defer l.holding.Store(false)
	l.log.Info("lease: this node consumes the source", "node", l.node)
	workCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(workCtx)
	}()
	defer func() {
		stop()
		<-done
	}()
	unreachable := false
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			// Hand over at once rather than after the TTL.
			relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = release.Run(relCtx, l.rdb, []string{l.key}, l.node).Err()
			cancel()
			return
		case <-t.C:
		}
		held, err := renew.Run(ctx, l.rdb, []string{l.key}, l.node, l.ttl.Milliseconds()).Int()
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			if !unreachable {
				l.log.Warn("lease: redis unreachable; going on as holder until it is back", "err", err)
			}
			unreachable = true
		case err == nil && held == 0:
			l.log.Warn("lease: another node took over the source", "node", l.node)
			return
		case err == nil:
			unreachable = false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Positions keeps where a resumable source stands under one key per event,
// so that the next lease holder resumes it (cluster.Positions).
type Positions struct {
	rdb *goredis.Client
	key string
}

// NewPositions keeps the position under key.
func NewPositions(rdb *goredis.Client, key string) Positions {
	return Positions{rdb: rdb, key: key}
}

// Load returns the saved position, "" when there is none.
func (p Positions) Load(ctx context.Context) (string, error) {
	pos, err := p.rdb.Get(ctx, p.key).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	return pos, err
}

// Save keeps pos for a day: a position older than that is too old for any
// service to resume from.
func (p Positions) Save(ctx context.Context, pos string) error {
	return p.rdb.Set(ctx, p.key, pos, 24*time.Hour).Err()
}
