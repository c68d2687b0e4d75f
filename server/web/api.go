package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/moderation"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Limits of GET /api/tweets.
const (
	DefaultTweetsLimit = 50
	MaxTweetsLimit     = 200
	// maxParam bounds the event and before parameters: an id or a name
	// is short, and a long one is a mistake or an attack.
	maxParam = 256
)

// APIConfig wires the JSON API and the stats page. Store is required.
type APIConfig struct {
	Store tweet.Store
	// Event is the event this server follows: the default of
	// /api/tweets and /api/stats, and the one POST /api/event/end ends.
	// Empty means the store's latest event.
	Event string
	// OnEnd, when set, is called after POST /api/event/end has recorded
	// the end: main may stop the sources there.
	OnEnd func(tweet.Event)
	// AdminToken must come as "Authorization: Bearer <token>" with
	// POST /api/event/end. Empty, nobody may end the event here: no
	// state changes without a secret (the application always sets one).
	AdminToken string
	// Moderation, when set, serves the moderation API under /api/admin/
	// behind AdminToken; Store should then be its moderation.Filtered.
	Moderation *moderation.Service
	// StatsTTL is how long computed statistics are served again before
	// being recomputed (default 2s): the stats page polls, and several
	// open pages must not each cost a round of aggregations.
	StatsTTL time.Duration
	// MaxReads bounds the pages of posts read from the store at once
	// (default 4): a deep page of a big event is a scan, and a few in
	// parallel must not take every core. A request that finds no room
	// within ReadWait (default 5 s) gets 503.
	MaxReads int
	ReadWait time.Duration
	// Timeout bounds one request's work on the store (default 30s: the
	// statistics of a big event take seconds on the embedded database).
	Timeout time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
}

// RegisterAPI adds the JSON API and the stats page to mux:
//
//	GET  /api/tweets?limit=N&before=ID&event=NAME  recent posts, newest first
//	GET  /api/stats?event=NAME                     an event's statistics
//	GET  /api/events                               every event, latest first
//	GET  /api/event                                the current event
//	POST /api/event/end                            end the current event
//	GET  /stats                                    the stats page
func RegisterAPI(mux *http.ServeMux, cfg APIConfig) {
	if cfg.StatsTTL <= 0 {
		cfg.StatsTTL = 2 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxReads <= 0 {
		cfg.MaxReads = 4
	}
	if cfg.ReadWait <= 0 {
		cfg.ReadWait = 5 * time.Second
	}
	a := &api{cfg: cfg, stats: map[string]cachedStats{}, reads: make(chan struct{}, cfg.MaxReads), guard: newAdminGuard(cfg.AdminToken, cfg.Now)}
	mux.HandleFunc("GET /api/tweets", a.tweets)
	mux.HandleFunc("GET /api/stats", a.statsHandler)
	mux.HandleFunc("GET /api/events", a.events)
	mux.HandleFunc("GET /api/event", a.event)
	mux.HandleFunc("POST /api/event/end", a.endEvent)
	mux.Handle("GET /stats", securityHeaders(page("stats.html")))
	registerAdmin(mux, cfg, a.guard)
}

type api struct {
	cfg APIConfig

	// statsMu makes concurrent requests for the same statistics wait
	// for one computation instead of each starting their own.
	statsMu sync.Mutex
	stats   map[string]cachedStats
	// reads holds a place for each page being read from the store.
	reads chan struct{}
	// guard checks the admin token of every state change.
	guard *adminGuard
}

// errBusy answers a read that found no room among MaxReads.
var errBusy = tweet.Errorf(tweet.EUNAVAILABLE, "the server is busy reading other pages of posts: try again in a moment")

type cachedStats struct {
	s     tweet.Stats
	until time.Time
}

// tweetsPage is the body of GET /api/tweets. Next is the before of the
// following page, empty on the last one.
type tweetsPage struct {
	Tweets []tweet.Tweet `json:"tweets"`
	Next   string        `json:"next,omitempty"`
}

func (a *api) tweets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultTweetsLimit
	s, err := param(q, "limit")
	if err != nil {
		Error(w, err)
		return
	}
	if s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || n <= 0:
			Error(w, tweet.Errorf(tweet.EINVALID, "limit=%q is not a positive whole number: ask for 1 to %d posts", s, MaxTweetsLimit))
			return
		case n > MaxTweetsLimit:
			Error(w, tweet.Errorf(tweet.EINVALID, "limit=%d is more than a page holds: ask for at most %d posts, and page with before", n, MaxTweetsLimit))
			return
		}
		limit = n
	}
	before, err := param(q, "before")
	if err != nil {
		Error(w, err)
		return
	}
	event, err := a.eventParam(q)
	if err != nil {
		Error(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
	defer cancel()
	if q.Has("event") {
		// An unknown event is 404, as for /api/stats, and costs no read
		// of the posts.
		if _, err := a.cfg.Store.Event(ctx, event); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	wait := time.NewTimer(a.cfg.ReadWait)
	select {
	case a.reads <- struct{}{}:
		wait.Stop()
	case <-wait.C:
		a.fail(w, r, errBusy)
		return
	case <-ctx.Done():
		wait.Stop()
		a.fail(w, r, errBusy)
		return
	}
	posts, err := a.cfg.Store.Recent(ctx, event, limit, before)
	<-a.reads
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page := tweetsPage{Tweets: posts}
	if page.Tweets == nil {
		page.Tweets = []tweet.Tweet{}
	}
	if len(posts) == limit {
		page.Next = posts[len(posts)-1].ID
	}
	noStore(w)
	writeJSON(w, http.StatusOK, page)
}

func (a *api) statsHandler(w http.ResponseWriter, r *http.Request) {
	event, err := a.eventParam(r.URL.Query())
	if err != nil {
		Error(w, err)
		return
	}
	s, err := a.statsFor(r.Context(), event)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, s)
}

// statsFor returns the event's statistics, computed at most once per
// StatsTTL, or per four times as long as the last computation took: with
// the embedded database a big event takes seconds to count, and polling
// pages must not keep it busy.
func (a *api) statsFor(ctx context.Context, event string) (tweet.Stats, error) {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	start := a.cfg.Now()
	if c, ok := a.stats[event]; ok && start.Before(c.until) {
		return c.s, nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	s, err := a.cfg.Store.Stats(ctx, event)
	if err != nil {
		return tweet.Stats{}, err
	}
	if len(a.stats) > 100 {
		clear(a.stats) // names come from the query string: keep it bounded
	}
	took := a.cfg.Now().Sub(start)
	a.stats[event] = cachedStats{s: s, until: start.Add(max(a.cfg.StatsTTL, 4*took))}
	return s, nil
}

func (a *api) events(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
	defer cancel()
	evs, err := a.cfg.Store.Events(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, evs)
}

func (a *api) event(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
	defer cancel()
	ev, err := a.cfg.Store.Event(ctx, a.cfg.Event)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, ev)
}

func (a *api) endEvent(w http.ResponseWriter, r *http.Request) {
	if !a.guard.authorize(w, r, "ending the event") {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
	defer cancel()
	name := a.cfg.Event
	if name == "" {
		cur, err := a.cfg.Store.Event(ctx, "")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		name = cur.Name
	}
	ev, err := a.cfg.Store.EndEvent(ctx, name, a.cfg.Now())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.statsMu.Lock()
	clear(a.stats) // the page must see the end at once
	a.statsMu.Unlock()
	a.cfg.Logger.Info("event ended", "event", ev.Name, "end", ev.End)
	if a.cfg.OnEnd != nil {
		a.cfg.OnEnd(ev)
	}
	writeJSON(w, http.StatusOK, ev)
}

// eventParam returns the event query parameter, or the configured event.
func (a *api) eventParam(q url.Values) (string, error) {
	event, err := param(q, "event")
	if err != nil || event != "" {
		return event, err
	}
	return a.cfg.Event, nil
}

// param returns a short, single query parameter.
func param(q url.Values, name string) (string, error) {
	vs := q[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", tweet.Errorf(tweet.EINVALID, "%s is given %d times: give it once", name, len(vs))
	case len(vs[0]) > maxParam:
		return "", tweet.Errorf(tweet.EINVALID, "%s is %d bytes long: at most %d are allowed", name, len(vs[0]), maxParam)
	}
	return vs[0], nil
}

// fail writes err; errors the user cannot act on are logged here, the one
// place they are handled.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	if code := tweet.ErrorCode(err); code == tweet.EINTERNAL || code == tweet.EUNAVAILABLE {
		a.cfg.Logger.Error("api request failed", "path", r.URL.Path, "err", err)
	}
	Error(w, err)
}

// noStore keeps proxies and browsers from serving stale answers: the
// page polls for fresh ones.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }
