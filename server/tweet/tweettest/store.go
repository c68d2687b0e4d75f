// Package tweettest holds test doubles of the domain's interfaces and the
// contract tests every implementation must pass. It imports only the
// standard library and package tweet, so that a test of the API, the hub
// or ingestion can use a Store without building a database.
package tweettest

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Store is a tweet.Store in memory, for tests that are about something
// else than storage. It follows the contract of tweet.Store, which
// TestStore checks, and also keeps what the real store (package store)
// does beyond it that a client can see: instants keep milliseconds (BSON
// dates hold no more), hashtags are normalised, and the author of the
// statistics is the handle in lower case. After Close every method fails
// as with an unreachable database. The zero value is not ready: use
// NewStore.
type Store struct {
	mu     sync.Mutex
	posts  map[string]stored
	events map[string]tweet.Event
	closed bool
}

// stored is a post with the event it belongs to.
type stored struct {
	event string
	t     tweet.Tweet
}

var _ tweet.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{posts: map[string]stored{}, events: map[string]tweet.Event{}}
}

// errClosed is what every method returns after Close: the same code as
// an unreachable database, so that a test of "the database is down" can
// close the fake.
var errClosed = tweet.Errorf(tweet.EUNAVAILABLE, "the store is closed")

// lock locks s unless it is closed; the caller unlocks.
func (s *Store) lock() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	return nil
}

// Save stores t unless a post with its id is stored: the first save wins.
func (s *Store) Save(_ context.Context, event string, t tweet.Tweet) error {
	if t.ID == "" {
		return tweet.Errorf(tweet.EINVALID, "a post without an id cannot be stored")
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.posts[t.ID]; ok {
		return nil
	}
	t.CreatedAt = ms(t.CreatedAt)
	t.Hashtags = tweet.NormalizeHashtags(t.Hashtags)
	s.posts[t.ID] = stored{event: event, t: t}
	return nil
}

// Delete removes the post with the given id, if it is stored.
func (s *Store) Delete(_ context.Context, id string) error {
	if id == "" {
		return tweet.Errorf(tweet.EINVALID, "a delete without an id cannot be stored")
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.posts, id)
	return nil
}

// Recent returns up to limit posts of event ("" for all), newest first,
// after before if set.
func (s *Store) Recent(_ context.Context, event string, limit int, before string) ([]tweet.Tweet, error) {
	if limit <= 0 {
		return nil, tweet.Errorf(tweet.EINVALID, "limit must be positive, not %d", limit)
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var from tweet.Tweet
	if before != "" {
		b, ok := s.posts[before]
		if !ok {
			return nil, tweet.Errorf(tweet.EINVALID, "before=%q names no stored post: page with the id of the last post of the previous page", before)
		}
		from = b.t
	}
	posts := s.postsLocked(event)
	slices.SortFunc(posts, NewestFirst)
	out := []tweet.Tweet{}
	for _, p := range posts {
		if before != "" && NewestFirst(p, from) <= 0 {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, clone(p))
	}
	return out, nil
}

// Count returns how many posts event holds ("" for all), as the real
// store's Count does.
func (s *Store) Count(_ context.Context, event string) (int64, error) {
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	return int64(len(s.postsLocked(event))), nil
}

// IDs returns the ids of up to limit of the event's newest posts, newest
// first.
func (s *Store) IDs(_ context.Context, event string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, tweet.Errorf(tweet.EINVALID, "limit must be positive, not %d", limit)
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	posts := s.postsLocked(event)
	slices.SortFunc(posts, NewestFirst)
	out := []string{}
	for _, p := range posts[:min(limit, len(posts))] {
		out = append(out, p.ID)
	}
	return out, nil
}

// postsLocked returns the posts of event ("" for all), in no order.
func (s *Store) postsLocked(event string) []tweet.Tweet {
	var out []tweet.Tweet
	for _, p := range s.posts {
		if event == "" || p.event == event {
			out = append(out, p.t)
		}
	}
	return out
}

// NewestFirst is the order of Recent: by CreatedAt, then by ID, newest
// first. It is total, so that paging neither skips nor repeats posts of
// the same instant.
func NewestFirst(a, b tweet.Tweet) int {
	return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
}

// StartEvent creates the named event, or resumes it: its start is kept,
// its terms replaced, its end cleared.
func (s *Store) StartEvent(_ context.Context, name string, terms []string, at time.Time) (tweet.Event, error) {
	if name == "" {
		return tweet.Event{}, tweet.Errorf(tweet.EINVALID, "an event needs a name")
	}
	if err := s.lock(); err != nil {
		return tweet.Event{}, err
	}
	defer s.mu.Unlock()
	ev, ok := s.events[name]
	if !ok {
		ev = tweet.Event{Name: name, Start: ms(at)}
	}
	ev.Terms = append([]string{}, terms...)
	ev.End = time.Time{}
	s.events[name] = ev
	return cloneEvent(ev), nil
}

// EndEvent records the end of the named event unless it has one.
func (s *Store) EndEvent(_ context.Context, name string, at time.Time) (tweet.Event, error) {
	if name == "" {
		return tweet.Event{}, tweet.Errorf(tweet.EINVALID, "name the event to end")
	}
	if err := s.lock(); err != nil {
		return tweet.Event{}, err
	}
	defer s.mu.Unlock()
	ev, ok := s.events[name]
	if !ok {
		return tweet.Event{}, tweet.Errorf(tweet.ENOTFOUND, "no event named %q", name)
	}
	if ev.Running() {
		ev.End = ms(at)
		s.events[name] = ev
	}
	return cloneEvent(ev), nil
}

// Event returns the named event, or the most recently started for "".
func (s *Store) Event(_ context.Context, name string) (tweet.Event, error) {
	if err := s.lock(); err != nil {
		return tweet.Event{}, err
	}
	defer s.mu.Unlock()
	return s.eventLocked(name)
}

func (s *Store) eventLocked(name string) (tweet.Event, error) {
	if name == "" {
		all := s.eventsLocked()
		if len(all) == 0 {
			return tweet.Event{}, tweet.Errorf(tweet.ENOTFOUND, "no event yet: start the server to begin one")
		}
		return all[0], nil
	}
	ev, ok := s.events[name]
	if !ok {
		return tweet.Event{}, tweet.Errorf(tweet.ENOTFOUND, "no event named %q", name)
	}
	return cloneEvent(ev), nil
}

// Events returns every event, the most recently started first.
func (s *Store) Events(context.Context) ([]tweet.Event, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return s.eventsLocked(), nil
}

// eventsLocked lists the events latest first; of two started at the same
// instant, the greater name first, as the real store sorts them.
func (s *Store) eventsLocked() []tweet.Event {
	out := make([]tweet.Event, 0, len(s.events))
	for _, ev := range s.events {
		out = append(out, cloneEvent(ev))
	}
	slices.SortFunc(out, func(a, b tweet.Event) int {
		return cmp.Or(b.Start.Compare(a.Start), strings.Compare(b.Name, a.Name))
	})
	return out
}

// Stats summarises the posts of the named event ("" for the latest).
func (s *Store) Stats(_ context.Context, name string) (tweet.Stats, error) {
	if err := s.lock(); err != nil {
		return tweet.Stats{}, err
	}
	defer s.mu.Unlock()
	ev, err := s.eventLocked(name)
	if err != nil {
		return tweet.Stats{}, err
	}
	return computeStats(ev, s.postsLocked(ev.Name)), nil
}

// Close makes every later call fail as with an unreachable database.
func (s *Store) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// topN is how many authors and hashtags Stats ranks.
const topN = 10

// maxTimeline bounds the timeline as the real store does (31 days of
// minutes): a post with a wild date must not make Stats build millions of
// empty minutes. Past it the timeline keeps its end.
const maxTimeline = 31 * 24 * 60

// computeStats summarises posts as tweet.Store.Stats does for event ev.
// Written from the contract alone (it shares no code with package store,
// which would bring the database driver into every test that uses the
// fake), it is also a reference the contract tests compare stores with.
func computeStats(ev tweet.Event, posts []tweet.Tweet) tweet.Stats {
	s := tweet.Stats{Event: ev, TopAuthors: []tweet.AuthorCount{}}
	sources, langs, authors, tags := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	type author struct {
		source, user  string
		newest        tweet.Tweet
		name, picture string
	}
	who := map[string]author{}
	minutes := map[int64]int64{}
	for _, p := range posts {
		s.Total++
		if p.Retweet {
			s.Retweets++
		}
		sources[p.Source]++
		langs[cmp.Or(p.Lang, "und")]++
		user := strings.ToLower(strings.TrimPrefix(p.User, "@"))
		key := p.Source + ":" + user
		authors[key]++
		if a, ok := who[key]; !ok || NewestFirst(p, a.newest) < 0 {
			who[key] = author{source: p.Source, user: user, newest: p, name: p.Name, picture: p.Picture}
		}
		for _, h := range p.Hashtags {
			tags[h]++
		}
		minutes[minute(p.CreatedAt)]++
		if s.First == nil || NewestFirst(p, *s.First) > 0 {
			s.First = ptr(clone(p))
		}
		if s.Last == nil || NewestFirst(p, *s.Last) < 0 {
			s.Last = ptr(clone(p))
		}
	}
	if s.Total > 0 {
		s.RetweetShare = float64(s.Retweets) / float64(s.Total)
	}
	s.Authors = int64(len(authors))
	s.Sources = ranked(sources, 0)
	s.Langs = ranked(langs, 0)
	s.TopHashtags = withDisplay(ranked(tags, topN), posts)
	s.TopPosts = topPosts(posts)
	for _, c := range ranked(authors, topN) {
		a := who[c.Key]
		s.TopAuthors = append(s.TopAuthors, tweet.AuthorCount{Source: a.source, User: a.user, Count: c.Count, Name: a.name, Picture: a.picture})
	}
	s.Timeline = []tweet.MinuteCount{}
	if len(minutes) > 0 {
		keys := slices.Sorted(maps.Keys(minutes))
		for _, m := range keys {
			if minutes[m] > s.Peak.Count { // strictly: the earliest of equals
				s.Peak = tweet.MinuteCount{Minute: time.Unix(m*60, 0).UTC(), Count: minutes[m]}
			}
		}
		last := keys[len(keys)-1]
		for m := max(keys[0], last-maxTimeline+1); m <= last; m++ {
			s.Timeline = append(s.Timeline, tweet.MinuteCount{Minute: time.Unix(m*60, 0).UTC(), Count: minutes[m]})
		}
	}
	return s
}

// topPosts ranks the posts that posts repost as the contract says (see
// tweet.PostCount): per original id, the reposts among posts, the highest
// count their source gave, and the newest one's original (its text
// without "RT @author: ", cut to 560 runes); most reposts first, then
// most seen, then by id; the first ten.
func topPosts(posts []tweet.Tweet) []tweet.PostCount {
	byID := map[string]*tweet.PostCount{}
	newest := map[string]tweet.Tweet{}
	for _, p := range posts {
		o := p.RepostOf
		if !p.Retweet || o == nil || o.ID == "" {
			continue
		}
		c := byID[o.ID]
		if c == nil {
			c = &tweet.PostCount{ID: o.ID}
			byID[o.ID] = c
		}
		c.Seen++
		c.Reported = max(c.Reported, o.Reposts)
		if n, ok := newest[o.ID]; !ok || NewestFirst(p, n) < 0 {
			newest[o.ID] = p
			text := []rune(strings.TrimPrefix(p.Text, "RT @"+o.User+": "))
			if len(text) > 560 {
				text = append(text[:559], '…')
			}
			c.Source, c.User, c.Name, c.URL, c.Text = p.Source, o.User, o.Name, o.URL, string(text)
		}
	}
	out := []tweet.PostCount{}
	for _, c := range byID {
		c.Reposts = max(c.Seen, c.Reported)
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b tweet.PostCount) int {
		return cmp.Or(cmp.Compare(b.Reposts, a.Reposts), cmp.Compare(b.Seen, a.Seen), strings.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), topN)]
}

// withDisplay sets each hashtag's Display as the contract says: the
// spelling (tweet.HashtagSpellings) that most of the posts with the tag
// use, the lower case one for posts that write it so or not at all, ties
// to the first in byte order; empty when that is the tag itself.
func withDisplay(tags []tweet.Count, posts []tweet.Tweet) []tweet.Count {
	for i, c := range tags {
		uses := map[string]int64{}
		for _, p := range posts {
			norm := tweet.NormalizeHashtags(p.Hashtags)
			if !slices.Contains(norm, c.Key) {
				continue
			}
			spelling := c.Key
			for _, sp := range tweet.HashtagSpellings(p.Text, norm) {
				if strings.ToLower(sp) == c.Key {
					spelling = sp
				}
			}
			uses[spelling]++
		}
		best := c.Key
		for sp, n := range uses {
			if n > uses[best] || (n == uses[best] && sp < best) {
				best = sp
			}
		}
		if best != c.Key {
			tags[i].Display = best
		}
	}
	return tags
}

// ranked returns counts most first, ties by key, the first n (all for 0).
func ranked(m map[string]int64, n int) []tweet.Count {
	out := make([]tweet.Count, 0, len(m))
	for k, v := range m {
		out = append(out, tweet.Count{Key: k, Count: v})
	}
	slices.SortFunc(out, func(a, b tweet.Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Key, b.Key))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// minute is t in whole minutes since the Unix epoch, rounded down, so
// that instants before 1970 land in the right minute too.
func minute(t time.Time) int64 {
	sec := t.Unix()
	m := sec / 60
	if sec%60 < 0 {
		m--
	}
	return m
}

// ms is at as stored: in UTC, to the millisecond.
func ms(at time.Time) time.Time { return at.UTC().Truncate(time.Millisecond) }

// clone copies t's slice, so that a caller that changes what it got back
// changes nothing stored.
func clone(t tweet.Tweet) tweet.Tweet {
	t.Hashtags = append([]string{}, t.Hashtags...)
	return t
}

func cloneEvent(ev tweet.Event) tweet.Event {
	ev.Terms = append([]string{}, ev.Terms...)
	return ev
}

func ptr[T any](v T) *T { return &v }
