// Package ingest is the path every post takes from a source to the clients
// and the store: drop what was already seen, encode once, hand to the
// broker, then to the store's writer. It is the tweet.Sink that sources
// write into, and it remembers the source's health.
package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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
	// Store, when set, receives every post and delete after it was
	// broadcast, tagged with Event. Clients never wait for the database:
	// the store's writer spools what the database cannot take now.
	Store tweet.Writer
	Event string
	// OnPost, when set, is called for every post published (metrics).
	OnPost func(t *tweet.Tweet)
	// OnState, when set, is called with each change of the source's
	// state, outside any lock, in order: the application tells the
	// clients.
	OnState func(h Health)
	// Moderate, when set, sees every new post before it is published and
	// reports whether to publish it. A post it holds back (blocked, or
	// queued for approval) is stored all the same, and not published;
	// Moderate records why.
	Moderate func(ctx context.Context, t *tweet.Tweet) bool
	// Now is the clock; tests inject one.
	Now    func() time.Time
	Logger *slog.Logger
}

// Health is the source's state as /healthz reports it.
type Health struct {
	State      tweet.State `json:"state"`
	Error      string      `json:"error,omitempty"`
	Since      time.Time   `json:"since"`
	Posts      uint64      `json:"posts"`
	Deletes    uint64      `json:"deletes"`
	Duplicates uint64      `json:"duplicates"`
	// Reconnects counts the times the source went to reconnecting.
	Reconnects uint64 `json:"reconnects"`
}

// Pipeline implements tweet.Sink.
type Pipeline struct {
	broker hub.Broker
	store  tweet.Writer
	event  string
	now    func() time.Time
	log    *slog.Logger
	onPost func(t *tweet.Tweet)
	// moderate is Config.Moderate.
	moderate func(ctx context.Context, t *tweet.Tweet) bool
	// onState is Config.OnState; stateMu keeps its calls in order.
	onState func(h Health)
	stateMu sync.Mutex

	// remember is how many ids seen holds.
	remember int

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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Pipeline{
		broker:   broker,
		store:    cfg.Store,
		event:    cfg.Event,
		now:      cfg.Now,
		log:      cfg.Logger,
		onPost:   cfg.OnPost,
		onState:  cfg.OnState,
		moderate: cfg.Moderate,
		seen:     newSeenSet(cfg.Remember),
		remember: cfg.Remember,
		health:   Health{State: tweet.StateStarting, Since: cfg.Now().UTC()},
	}
}

// Emit drops an event already seen, then encodes and publishes it.
func (p *Pipeline) Emit(ctx context.Context, ev tweet.Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ev.Kind == tweet.KindPost {
		// Whatever the source, clients get only links and images they can
		// use safely (http(s), inside the text, bounded in number).
		tweet.CleanRich(&ev.Tweet)
	}
	key, m, err := encode(ev)
	if err != nil {
		return err
	}
	if ev.Kind == tweet.KindDelete {
		key = deleteKey(ev.ID)
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
	held := ev.Kind == tweet.KindPost && p.moderate != nil && !p.moderate(ctx, &ev.Tweet)
	if !held {
		if err := p.broker.Publish(ctx, m); err != nil {
			return fmt.Errorf("publish %s: %w", ev.ID, err)
		}
		if p.onPost != nil && ev.Kind == tweet.KindPost {
			p.onPost(&ev.Tweet)
		}
	}
	if p.store == nil {
		return nil
	}
	switch ev.Kind {
	case tweet.KindDelete:
		err = p.store.Delete(ctx, ev.ID)
	default:
		err = p.store.Save(ctx, p.event, ev.Tweet)
	}
	if err != nil && ctx.Err() == nil {
		// The writer spools what the database cannot take; an error here
		// means the post cannot be stored at all (the spool is full, or
		// the database refuses it). The wall goes on; the writer says so
		// once per spell in the log and /healthz counts what was lost,
		// so one line per post would only flood the log.
		p.log.Debug("post not stored", "id", ev.ID, "err", err)
	}
	return nil
}

// Remember marks ids as seen without publishing them: posts stored before
// a restart must not be broadcast again when the source repeats them.
func (p *Pipeline) Remember(ids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		p.seen.add(id)
	}
}

// Encode returns the wire message for a post, encoded as every client
// receives it.
func Encode(t tweet.Tweet) (*hub.Message, error) {
	_, m, err := encode(tweet.Post(t))
	return m, err
}

// EncodeDelete returns the wire message that retracts the post with the
// given id.
func EncodeDelete(id string) (*hub.Message, error) {
	_, m, err := encode(tweet.Delete(id))
	return m, err
}

// deleteKey gives deletes keys of their own: a post and its retraction
// are both published once.
func deleteKey(id string) string { return "delete:" + id }

// SetState records the source's health.
func (p *Pipeline) SetState(s tweet.State, err error) {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	p.mu.Lock()
	changed := s != p.health.State || (err != nil) != (p.health.Error != "")
	if s != p.health.State {
		p.health.Since = p.now().UTC()
		if s == tweet.StateReconnecting {
			p.health.Reconnects++
		}
	}
	p.health.State = s
	p.health.Error = ""
	if err != nil {
		p.health.Error = err.Error()
	}
	h := p.health
	p.mu.Unlock()
	if changed && p.onState != nil {
		p.onState(h)
	}
}

// Health returns a snapshot of the source's health.
func (p *Pipeline) Health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

// encode returns the dedupe key and the wire message for ev.
func encode(ev tweet.Update) (string, *hub.Message, error) {
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
		return t.ID, &hub.Message{Kind: hub.KindTweet, ID: t.ID, Data: data, Ingested: time.Now()}, nil
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
		return ev.ID, &hub.Message{Kind: hub.KindDelete, ID: ev.ID, Data: data}, nil
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
