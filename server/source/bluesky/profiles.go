package bluesky

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
)

// Profile is what a post shows of its author.
type Profile struct {
	Handle      string `json:"handle"`
	DisplayName string `json:"displayName"`
	Avatar      string `json:"avatar"`
}

// profiles resolves DIDs to profiles through app.bsky.actor.getProfile,
// without ever holding up the stream:
//
//   - lookups run on a few workers fed by a bounded queue; when the queue is
//     full, get returns nil at once and the post goes out without a profile
//     rather than wait;
//   - answers are kept in a bounded LRU cache, a resolved profile for an
//     hour and a failure for a minute, so an author who posts a lot costs
//     one lookup an hour and an AppView outage is not hammered;
//   - a 429 pauses the workers for the Retry-After the AppView asks.
type profiles struct {
	client  *http.Client
	base    string // AppView URL, without a trailing "/"
	log     *slog.Logger
	now     func() time.Time
	timeout time.Duration // of one HTTP lookup
	ttl     time.Duration
	failTTL time.Duration
	max     int

	queue chan *lookup

	mu    sync.Mutex
	cache map[string]*lookup // by DID, in flight or done
	lru   *list.List         // of *lookup, most recent first; done ones only
}

// lookup is one DID's resolution. done is closed once profile and ok are
// set; they do not change after, so readers need no lock.
type lookup struct {
	did     string
	done    chan struct{}
	profile Profile
	ok      bool
	expires time.Time
	elem    *list.Element
}

const (
	profileWorkers  = 4
	profileQueue    = 64
	profileCacheMax = 10000
)

func newProfiles(client *http.Client, base string, log *slog.Logger) *profiles {
	return &profiles{
		client:  client,
		base:    base,
		log:     log,
		now:     time.Now,
		timeout: 10 * time.Second,
		ttl:     time.Hour,
		failTTL: time.Minute,
		max:     profileCacheMax,
		queue:   make(chan *lookup, profileQueue),
		cache:   map[string]*lookup{},
		lru:     list.New(),
	}
}

// run works the queue until ctx is done.
func (p *profiles) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range profileWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case l := <-p.queue:
					wait := p.resolve(ctx, l)
					if wait > 0 && !reconnect.Sleep(ctx, wait) {
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// get returns did's lookup, starting one when the cache has none. It
// returns nil when the queue is full. It never blocks.
func (p *profiles) get(did string) *lookup {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.cache[did]; ok {
		select {
		case <-l.done:
			if p.now().Before(l.expires) {
				p.lru.MoveToFront(l.elem)
				return l
			}
			p.remove(l)
		default:
			return l // in flight
		}
	}
	l := &lookup{did: did, done: make(chan struct{})}
	select {
	case p.queue <- l:
		p.cache[did] = l
		return l
	default:
		return nil
	}
}

// forget drops did's cached profile, after Jetstream said its identity
// changed.
func (p *profiles) forget(did string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.cache[did]; ok {
		// An answer still in flight may hold the old handle: it is
		// handed to the posts waiting for it, but not cached.
		p.remove(l)
	}
}

func (p *profiles) remove(l *lookup) {
	delete(p.cache, l.did)
	if l.elem != nil {
		p.lru.Remove(l.elem)
	}
}

// resolve fetches l's profile, caches the answer and returns how long the
// workers should pause (after a 429).
func (p *profiles) resolve(ctx context.Context, l *lookup) (pause time.Duration) {
	prof, pause, err := p.fetch(ctx, l.did)
	p.mu.Lock()
	defer p.mu.Unlock()
	l.profile, l.ok = prof, err == nil
	ttl := p.ttl
	if err != nil {
		ttl = p.failTTL
		if ctx.Err() == nil {
			p.log.Debug("bluesky: profile lookup failed; the post shows the DID", "did", l.did, "err", err)
		}
	}
	l.expires = p.now().Add(ttl)
	close(l.done)
	if p.cache[l.did] != l {
		return pause // forgotten meanwhile
	}
	if pause > 0 || ctx.Err() != nil {
		// Not the profile's fault: the next post tries again.
		delete(p.cache, l.did)
		return pause
	}
	l.elem = p.lru.PushFront(l)
	for p.lru.Len() > p.max {
		p.remove(p.lru.Back().Value.(*lookup))
	}
	return 0
}

var errRateLimited = errors.New("rate limited")

func (p *profiles) fetch(ctx context.Context, did string) (Profile, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	u := p.base + "/xrpc/app.bsky.actor.getProfile?actor=" + url.QueryEscape(did)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Profile{}, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return Profile{}, 0, err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 1<<20)
	if resp.StatusCode == http.StatusTooManyRequests {
		pause := 10 * time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			pause = min(time.Duration(s)*time.Second, 5*time.Minute)
		}
		p.log.Warn("bluesky: the AppView rate-limits profile lookups; posts show DIDs meanwhile", "pause", pause)
		return Profile{}, pause, errRateLimited
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, body)
		return Profile{}, 0, fmt.Errorf("getProfile answered %s", resp.Status)
	}
	var prof Profile
	if err := json.NewDecoder(body).Decode(&prof); err != nil {
		return Profile{}, 0, fmt.Errorf("getProfile answer: %w", err)
	}
	if prof.Handle == "handle.invalid" {
		prof.Handle = ""
	}
	return prof, 0, nil
}
