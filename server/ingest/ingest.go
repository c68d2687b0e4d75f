// Package ingest is the path every post takes from a source to the clients:
// drop what was already seen, encode once, hand to the broker. It is the
// tweet.Sink that sources write into, and it remembers the source's health.
package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Config tunes a Pipeline. Zero values mean "use the default".
type Config struct {
	// Remember is how many recent ids are remembered to drop duplicates
	// (default 100000).
	Remember int
	// Now is the clock; tests inject one.
	Now func() time.Time
}

// Health is the source's state as /healthz reports it.
type Health struct {
	State      tweet.State `json:"state"`
	Error      string      `json:"error,omitempty"`
	Since      time.Time   `json:"since"`
	Posts      uint64      `json:"posts"`
	Deletes    uint64      `json:"deletes"`
	Duplicates uint64      `json:"duplicates"`
}

// Pipeline implements tweet.Sink.
type Pipeline struct {
	broker hub.Broker
	now    func() time.Time

	mu     sync.Mutex
	seen   *seenSet
	health Health
}

var _ tweet.Sink = (*Pipeline)(nil)

// New returns a Pipeline that publishes through broker.
func New(broker hub.Broker, cfg Config) *Pipeline {
	if cfg.Remember <= 0 {
		cfg.Remember = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Pipeline{
		broker: broker,
		now:    cfg.Now,
		seen:   newSeenSet(cfg.Remember),
		health: Health{State: tweet.StateStarting, Since: cfg.Now().UTC()},
	}
}

// Emit drops an event already seen, then encodes and publishes it.
func (p *Pipeline) Emit(ctx context.Context, ev tweet.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, m, err := encode(ev)
	if err != nil {
		return err
	}
	p.mu.Lock()
	fresh := p.seen.add(key)
	switch {
	case !fresh:
		p.health.Duplicates++
	case ev.Kind == tweet.KindDelete:
		p.health.Deletes++
	default:
		p.health.Posts++
	}
	p.mu.Unlock()
	if !fresh {
		return nil
	}
	if err := p.broker.Publish(ctx, m); err != nil {
		return fmt.Errorf("publish %s: %w", ev.ID, err)
	}
	return nil
}

// SetState records the source's health.
func (p *Pipeline) SetState(s tweet.State, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s != p.health.State {
		p.health.Since = p.now().UTC()
	}
	p.health.State = s
	p.health.Error = ""
	if err != nil {
		p.health.Error = err.Error()
	}
}

// Health returns a snapshot of the source's health.
func (p *Pipeline) Health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

// encode returns the dedupe key and the wire message for ev.
func encode(ev tweet.Event) (string, *hub.Message, error) {
	switch ev.Kind {
	case tweet.KindPost:
		t := ev.Tweet
		if t.ID == "" {
			return "", nil, tweet.Errorf(tweet.EINVALID, "a post without an id cannot be published")
		}
		t.CreatedAt = t.CreatedAt.UTC()
		if t.Hashtags == nil {
			t.Hashtags = []string{}
		}
		data, err := json.Marshal(t)
		if err != nil {
			return "", nil, fmt.Errorf("encode post %s: %w", t.ID, err)
		}
		return t.ID, &hub.Message{Event: hub.EventTweet, ID: t.ID, Data: data}, nil
	case tweet.KindDelete:
		if ev.ID == "" {
			return "", nil, tweet.Errorf(tweet.EINVALID, "a delete without an id cannot be published")
		}
		data, err := json.Marshal(struct {
			ID string `json:"id"`
		}{ev.ID})
		if err != nil {
			return "", nil, fmt.Errorf("encode delete %s: %w", ev.ID, err)
		}
		// Deletes have keys of their own: a post and its retraction are
		// both published once.
		return "delete:" + ev.ID, &hub.Message{Event: hub.EventDelete, ID: ev.ID, Data: data}, nil
	default:
		return "", nil, tweet.Errorf(tweet.EINVALID, "unknown event kind %d", ev.Kind)
	}
}

// seenSet remembers the last n keys, forgetting the oldest first, so
// memory stays bounded on a stream that runs for days.
type seenSet struct {
	keys  map[string]struct{}
	order []string
	next  int
}

func newSeenSet(n int) *seenSet {
	return &seenSet{keys: make(map[string]struct{}, n), order: make([]string, n)}
}

// add reports whether key is new, remembering it.
func (s *seenSet) add(key string) bool {
	if _, ok := s.keys[key]; ok {
		return false
	}
	if old := s.order[s.next]; old != "" {
		delete(s.keys, old)
	}
	s.order[s.next] = key
	s.next = (s.next + 1) % len(s.order)
	s.keys[key] = struct{}{}
	return true
}
