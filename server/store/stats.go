package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// topN is how many authors, hashtags and posts Stats ranks.
const topN = 10

// Stats summarises an event's public posts from its counters (see
// counters.go): a few small documents, however many posts the event has,
// on MongoDB and FerretDB alike. Counters never built (a store written
// before they existed) are built once, by Recount's scan.
func (db *DB) Stats(ctx context.Context, name string) (tweet.Stats, error) {
	ev, err := db.Event(ctx, name)
	if err != nil {
		return tweet.Stats{}, err
	}
	fail := func(what string, err error) (tweet.Stats, error) {
		return tweet.Stats{}, classify(fmt.Sprintf("compute the %s of event %q", what, ev.Name), err)
	}
	db.flush(ctx) // this process's own posts count at once (batch.go)
	t, edges, ok, err := db.readCounters(ctx, ev.Name)
	if err != nil {
		return fail("statistics", err)
	}
	if !ok {
		db.log.Info("statistics: building the counters of the event from its posts, once", "event", ev.Name)
		if err := db.recount(ctx, ev.Name); err != nil {
			return fail("statistics", err)
		}
		if t, edges, _, err = db.readCounters(ctx, ev.Name); err != nil {
			return fail("statistics", err)
		}
	}
	s := t.stats(ev)
	if s.Total <= 0 {
		return s, nil
	}
	if s.First, err = db.edgePost(ctx, edges, true); err != nil {
		return fail("first post", err)
	}
	if s.Last, err = db.edgePost(ctx, edges, false); err != nil {
		return fail("last post", err)
	}
	return s, nil
}

// statsProjection is the part of a post that statistics read: see
// statsDoc.
var statsProjection = bson.D{
	{Key: "_id", Value: 1}, {Key: "source", Value: 1}, {Key: "author", Value: 1}, {Key: "lang", Value: 1},
	{Key: "hashtags", Value: 1}, {Key: "minute", Value: 1}, {Key: "retweet", Value: 1}, {Key: "created_at", Value: 1},
	{Key: "hidden", Value: 1}, {Key: "tag_spellings", Value: 1}, {Key: "name", Value: 1}, {Key: "picture", Value: 1},
	{Key: "repost_of", Value: 1}, {Key: "text", Value: 1},
}

// scanTally reads the event's posts once and counts them, hidden posts
// apart; it also returns the first and last public posts in the order of
// Recent. One pass is what matters: FerretDB's SQLite backend pushes no
// filter but _id down, so every query decodes the whole collection.
func (db *DB) scanTally(ctx context.Context, event string) (t tally, lo, hi statsDoc, err error) {
	t.init()
	err = db.scan(ctx, event, func(p statsDoc) {
		t.newer(p.Author, whoValue(p))
		t.reposts.read(p)
		if p.Hidden {
			t.hidden++
			return
		}
		t.add(p)
		if t.total == 1 || before(p, lo) {
			lo = p
		}
		if t.total == 1 || before(hi, p) {
			hi = p
		}
	})
	return t, lo, hi, err
}

// scan calls fn with every post of the event, decoded as statsDoc.
func (db *DB) scan(ctx context.Context, event string, fn func(statsDoc)) error {
	cur, err := db.posts.Find(ctx, bson.D{{Key: "event", Value: event}}, options.Find().SetProjection(statsProjection))
	if err != nil {
		return err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var p statsDoc
		if err := cur.Decode(&p); err != nil {
			return err
		}
		fn(p)
	}
	return cur.Err()
}

// statsDoc is the part of a stored post that statistics read.
type statsDoc struct {
	ID        string    `bson:"_id"`
	Source    string    `bson:"source"`
	Author    string    `bson:"author"`
	Lang      string    `bson:"lang"`
	Hashtags  []string  `bson:"hashtags"`
	Spellings []string  `bson:"tag_spellings"`
	Name      string    `bson:"name"`
	Picture   string    `bson:"picture"`
	Minute    int64     `bson:"minute"`
	Retweet   bool      `bson:"retweet"`
	CreatedAt time.Time `bson:"created_at"`
	// Event is read where a write needs it (Delete, Hide); scans leave
	// it out.
	Event string `bson:"event,omitempty"`
	// Hidden is set while moderation hides the post (Hide).
	Hidden bool `bson:"hidden,omitempty"`
	// RepostOf and Text make the most reposted posts (see original).
	RepostOf *authorDoc `bson:"repost_of,omitempty"`
	Text     string     `bson:"text"`
}

// tally holds the counters of Stats, read from the counter documents or
// filled by a scan, so that both rank and tie-break with the same code.
type tally struct {
	total, retweets int64
	// hidden counts the hidden posts, which count nowhere else.
	hidden         int64
	sources, langs map[string]int64
	authors, tags  map[string]int64
	// spellings counts the posts that write a hashtag otherwise than in
	// lower case, per spelling ("GoConf"); the tag is its lower case.
	spellings map[string]int64
	// who holds, per author, whoValue of their newest post, hidden ones
	// included (see counterDoc.Who).
	who     map[string]string
	minutes map[int64]int64
	reposts reposts
}

func (t *tally) init() {
	t.sources, t.langs = map[string]int64{}, map[string]int64{}
	t.authors, t.tags, t.spellings = map[string]int64{}, map[string]int64{}, map[string]int64{}
	t.minutes = map[int64]int64{}
	t.who = map[string]string{}
	t.reposts.init()
}

// newer keeps the newest whoValue of each author.
func (t *tally) newer(author, who string) {
	if who > t.who[author] {
		t.who[author] = who
	}
}

func (t *tally) add(p statsDoc) {
	t.total++
	if p.Retweet {
		t.retweets++
	}
	t.sources[p.Source]++
	t.langs[cmp.Or(p.Lang, "und")]++
	t.authors[p.Author]++
	for _, h := range p.Hashtags {
		t.tags[h]++
	}
	for _, sp := range p.Spellings {
		t.spellings[sp]++
	}
	t.minutes[p.Minute]++
	t.reposts.count(p)
}

// before is the order of Recent, oldest first: by time, then id.
func before(a, b statsDoc) bool {
	return compareRecent(a.CreatedAt, a.ID, b.CreatedAt, b.ID) < 0
}

// compareRecent is the order of Recent reversed (see newestFirst): by
// time, then id, oldest first. The scan's first and last post must agree
// with it.
func compareRecent(aAt time.Time, aID string, bAt time.Time, bID string) int {
	return cmp.Or(aAt.Compare(bAt), cmp.Compare(aID, bID))
}

func (t *tally) stats(ev tweet.Event) tweet.Stats {
	s := tweet.Stats{
		Event:       ev,
		Total:       t.total,
		Authors:     int64(len(t.authors)),
		Retweets:    t.retweets,
		Sources:     ranked(t.sources, 0),
		Langs:       ranked(t.langs, 0),
		TopAuthors:  []tweet.AuthorCount{},
		TopHashtags: ranked(t.tags, topN),
		TopPosts:    t.reposts.top(topN),
		Hidden:      t.hidden,
	}
	if t.total > 0 {
		s.RetweetShare = float64(t.retweets) / float64(t.total)
	}
	for _, c := range ranked(t.authors, topN) {
		source, user, _ := strings.Cut(c.Key, ":")
		name, picture := whoParts(t.who[c.Key])
		s.TopAuthors = append(s.TopAuthors, tweet.AuthorCount{Source: source, User: user, Count: c.Count, Name: name, Picture: picture})
	}
	s.Timeline, s.Peak = Timeline(t.minutes)
	t.display(s.TopHashtags)
	return s
}

// display sets each hashtag's Display to its most common spelling: the
// lower case one counts the posts that no other spelling counts.
func (t *tally) display(tags []tweet.Count) {
	if len(t.spellings) == 0 {
		return
	}
	byTag := map[string][]string{}
	for sp := range t.spellings {
		tag := tweet.NormalizeHashtag(sp)
		byTag[tag] = append(byTag[tag], sp)
	}
	for i, c := range tags {
		best, most := c.Key, c.Count
		for _, sp := range byTag[c.Key] {
			most -= t.spellings[sp]
		}
		for _, sp := range byTag[c.Key] {
			if n := t.spellings[sp]; n > most || (n == most && sp < best) {
				best, most = sp, n
			}
		}
		if best != c.Key {
			tags[i].Display = best
		}
	}
}

// ranked returns counts most first, ties by key, the first n (all for 0).
func ranked(m map[string]int64, n int) []tweet.Count {
	out := make([]tweet.Count, 0, len(m))
	for k, v := range m {
		out = append(out, tweet.Count{Key: k, Count: v})
	}
	slices.SortFunc(out, func(a, b tweet.Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// postByID returns the stored post with the given id, or nil if there is
// none.
func (db *DB) postByID(ctx context.Context, id string) (*postDoc, error) {
	var d postDoc
	err := db.posts.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// MaxTimeline bounds the timeline: 31 days of minutes. One post with a
// wild date (a replayed archive, a broken clock) must not make Stats build
// millions of empty minutes; past the bound the timeline keeps its end.
const MaxTimeline = 31 * 24 * 60

// Timeline turns per-minute counts (keyed by minutes since the Unix epoch)
// into a timeline from the first minute to the last with zeros between,
// at most MaxTimeline long, and finds the busiest minute (the earliest of
// equals).
func Timeline(perMinute map[int64]int64) (timeline []tweet.MinuteCount, peak tweet.MinuteCount) {
	timeline = []tweet.MinuteCount{}
	if len(perMinute) == 0 {
		return timeline, peak
	}
	keys := slices.Sorted(maps.Keys(perMinute))
	for _, m := range keys {
		if n := perMinute[m]; n > peak.Count {
			peak = tweet.MinuteCount{Minute: time.Unix(m*60, 0).UTC(), Count: n}
		}
	}
	first, last := keys[0], keys[len(keys)-1]
	first = max(first, last-MaxTimeline+1)
	timeline = make([]tweet.MinuteCount, 0, last-first+1)
	for m := first; m <= last; m++ {
		timeline = append(timeline, tweet.MinuteCount{Minute: time.Unix(m*60, 0).UTC(), Count: perMinute[m]})
	}
	return timeline, peak
}
