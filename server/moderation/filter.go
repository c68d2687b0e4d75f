package moderation

import (
	"context"
	"slices"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Filtered is a tweet.Store whose reads show only what moderation lets
// through: the public API, the backlog loaded at start-up (ingest.Seed)
// and the stats page read through it. IDs is not filtered: duplicate
// detection must know moderated posts too, or a source that repeats one
// would broadcast it.
type Filtered struct {
	tweet.Store
	Moderation *Service
}

var _ tweet.Store = Filtered{}

// maxPages bounds the reads of one Recent: a page of posts that are
// almost all moderated (a spam wave) ends short rather than reading on.
const maxPages = 20

// Recent reads pages from the store until it has limit visible posts,
// each page as long as what is missing plus every moderated post, so
// that one read is enough unless the moderated posts cluster.
func (f Filtered) Recent(ctx context.Context, event string, limit int, before string) ([]tweet.Tweet, error) {
	if limit <= 0 {
		return f.Store.Recent(ctx, event, limit, before)
	}
	out := make([]tweet.Tweet, 0, limit)
	for range maxPages {
		n := limit - len(out) + min(f.Moderation.moderated(), 1000)
		page, err := f.Store.Recent(ctx, event, n, before)
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			if f.Moderation.Visible(p.ID) && len(out) < limit {
				out = append(out, p)
			}
		}
		if len(out) == limit || len(page) < n {
			break
		}
		before = page[len(page)-1].ID
	}
	return out, nil
}

// Stats leaves blocked authors and tags out of the top lists, a reposted
// post that is moderated itself, or that a block would keep off the wall,
// out of the top posts, and a moderated first or last post out of the
// summary. The counts include
// every stored post: they say how busy the event was.
func (f Filtered) Stats(ctx context.Context, event string) (tweet.Stats, error) {
	s, err := f.Store.Stats(ctx, event)
	if err != nil {
		return s, err
	}
	f.Moderation.mu.RLock()
	r := f.Moderation.st.rules
	f.Moderation.mu.RUnlock()
	s.TopAuthors = slices.DeleteFunc(s.TopAuthors, func(a tweet.AuthorCount) bool {
		_, blocked := r.authors[AuthorKey(a.Source, a.User)]
		return blocked
	})
	s.TopHashtags = slices.DeleteFunc(s.TopHashtags, func(c tweet.Count) bool {
		for _, w := range r.words {
			if w.matches(fold("#"+c.Key), []string{c.Key}) {
				return true
			}
		}
		return false
	})
	s.TopPosts = slices.DeleteFunc(s.TopPosts, func(p tweet.PostCount) bool {
		_, blocked := r.blocked(&tweet.Tweet{ID: p.ID, Source: p.Source, User: p.User, Name: p.Name, Text: p.Text})
		return blocked || !f.Moderation.Visible(p.ID)
	})
	if s.First != nil && !f.Moderation.Visible(s.First.ID) {
		s.First = nil
	}
	if s.Last != nil && !f.Moderation.Visible(s.Last.ID) {
		s.Last = nil
	}
	return s, nil
}
