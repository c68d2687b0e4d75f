package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Statistics counters.
//
// Stats reads counters, not posts: reading every post of the event on
// each call costs a full transfer of the event per node per refresh on a
// shared MongoDB. Save adds a post to its event's counters once its insert
// has succeeded (a duplicate changes nothing; the counts go through the
// batch of batch.go), Delete takes a removed post
// out, and Hide and Unhide move a post between the public figures and the
// hidden count. Every update is a plain $inc on documents found by _id,
// with upsert: both MongoDB and FerretDB take it, and concurrent writers
// on several nodes add up without reading anything first.
//
// The first and last public posts are kept in full, one document per event
// in the stats_edges collection, so that Stats reads no post at all (a
// lookup by _id reads every row on FerretDB): a post replaces the first
// (last) if its key is smaller
// (greater), by a conditional $set. (FerretDB pushes down a filter that
// is only {_id: v} and scans the collection for any other, which is why the
// conditional updates have a collection of their own, of one small
// document per event, and the counters' updates filter by _id alone.) When
// the first or last post is deleted or hidden its key is unset: the edge
// is unknown, saves leave it
// alone (a post older than the deleted newest is not necessarily the
// newest left), and the next Stats finds it with one sorted query. A post
// saved between that query and its write can be missed as the edge until
// a newer (older) one comes or a recount.
//
// An event's counters are several documents of the stats collection, so
// that none nears the 16 MB document limit and an update rewrites a small
// document (MongoDB's storage engine and FerretDB both write whole
// documents), and a post touches two of them (each update statement costs
// FerretDB a transaction):
//
//	main|<event>    "complete" once built by a recount or created with
//	                the event; the hidden count
//	d<day>|<event>  the posts of one day: total, retweets, per source, per
//	                language, per minute (at most 1,440 minutes)
//	sNN|<event>     per author, per hashtag and per spelling of a hashtag
//	                other than its lower case, for the posts whose
//	                author's key hashes to shard NN (of counterShards)
//
// Every figure is the sum of its fields over all the event's documents,
// so where a key is counted does not matter: a recount puts the totals in
// the main document and each author and hashtag in the shard of its own
// hash.
//
// The counters are exact only if every write that reaches the posts also
// reaches them: a process that dies between the two, or a counter update
// that fails, leaves a post out of the statistics until Recount rebuilds
// them from one scan of the posts (`tweetwire stats --recount`).

// statsName is the collection of the counters, edgesName that of the
// first and last posts.
const statsName, edgesName = "stats", "stats_edges"

// counterShards is how many documents an event's authors are spread over.
// At about 40 bytes a key, one document holds some 400,000 keys before the
// 16 MB limit; a shard holds a 32nd of the authors and, at worst, every
// distinct hashtag, so an event can have about 12 million distinct
// authors, or 400,000 distinct hashtags, before an update fails. Stats
// reads the 32 shards, one document per day and the main one.
const counterShards = 32

// counterTimeout bounds a counter update after its post's write: the
// write has happened, so the caller's cancellation must not skip it.
const counterTimeout = 10 * time.Second

// counterDoc is one document of an event's counters; which fields it uses
// depends on its part (see above). The edges document, _id the event's
// name, uses First to LastPost.
type counterDoc struct {
	ID       string           `bson:"_id"`
	Event    string           `bson:"event"`
	Complete bool             `bson:"complete,omitempty"`
	Total    int64            `bson:"total,omitempty"`
	Retweets int64            `bson:"retweets,omitempty"`
	Hidden   int64            `bson:"hidden,omitempty"`
	Sources  map[string]int64 `bson:"sources,omitempty"`
	Langs    map[string]int64 `bson:"langs,omitempty"`
	// First and Last are edgeKey of the oldest and newest public post,
	// noFirst and noLast when there is none, absent when unknown (see
	// above); FirstPost and LastPost are those posts.
	First     *string          `bson:"first,omitempty"`
	Last      *string          `bson:"last,omitempty"`
	FirstPost *postDoc         `bson:"first_post,omitempty"`
	LastPost  *postDoc         `bson:"last_post,omitempty"`
	Minutes   map[string]int64 `bson:"m,omitempty"`
	Authors   map[string]int64 `bson:"a,omitempty"`
	Tags      map[string]int64 `bson:"t,omitempty"`
	// Spellings counts the hashtags written otherwise than in lower
	// case, per spelling (see tally.spellings). A post adds at most one
	// per tag it has, so they grow no faster than Tags.
	Spellings map[string]int64 `bson:"tc,omitempty"`
	// Reposted, Reported and Repost count the reposted posts, per
	// original's id (see reposts.go).
	Reposted map[string]int64  `bson:"ro,omitempty"`
	Reported map[string]int64  `bson:"rr,omitempty"`
	Repost   map[string]string `bson:"rw,omitempty"`
	// Who holds, per author, whoValue of their newest post: one string
	// per author, kept by $max, so its order must be the posts'. A
	// post that is deleted or hidden leaves it (it is the author's name,
	// not the post's); a recount takes it from the posts left.
	Who map[string]string `bson:"w,omitempty"`
}

// noFirst and noLast are the edges of an event without public posts:
// every edgeKey sorts before noFirst (it starts with a hex digit) and
// after noLast, so the first post saved replaces both.
const noFirst, noLast = "g", ""

const mainPart = "main"

// counterID is the _id of part of event's counters: the part never holds
// "|", so the first "|" ends it whatever the event's name.
func counterID(part, event string) string { return part + "|" + event }

func shardPart(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("s%02d", h.Sum32()%counterShards)
}

func dayPart(minute int64) string { return "d" + strconv.FormatInt(floorDiv(minute, 24*60), 10) }

// fieldName turns a counter key (an author, a hashtag, a language, a
// source, a minute: any text) into a field name that MongoDB and FerretDB
// accept: never empty, no ".", no leading "$", valid UTF-8 without control
// characters. "%", ".", "$", control characters and bytes that are not
// UTF-8 are percent-escaped, so fieldKey gives the key back exactly.
func fieldName(key string) string {
	var b strings.Builder
	b.Grow(len(key) + 1)
	b.WriteByte('k')
	for i := 0; i < len(key); {
		r, size := utf8.DecodeRuneInString(key[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '%', r == '.', r == '$', r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, "%%%02X", key[i])
		default:
			b.WriteString(key[i : i+size])
		}
		i += size
	}
	return b.String()
}

// fieldKey undoes fieldName; false for a name fieldName cannot make.
func fieldKey(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "k")
	if !ok {
		return "", false
	}
	key, err := url.PathUnescape(rest)
	return key, err == nil
}

// edgeKey orders posts as Recent does, oldest first, as plain strings
// (which both databases compare byte by byte, so $min and $max keep the
// first and last post): the time in milliseconds as 16 hex digits, its
// sign bit flipped so that instants before 1970 sort first, then the id.
func edgeKey(at time.Time, id string) string {
	return fmt.Sprintf("%016x", uint64(at.UnixMilli())^(1<<63)) + id
}

func edgeID(key string) string {
	if len(key) < 16 {
		return ""
	}
	return key[16:]
}

// counterUpdates are the updates that add p to event's counters (sign 1;
// full is then the post as stored) or take it out (sign -1), or neither
// (0), and add hidden to the hidden count; and those of its edges.
func counterUpdates(event string, p statsDoc, full *postDoc, sign, hidden int64) (models, edges []mongo.WriteModel) {
	upsert := func(part string, update bson.D) mongo.WriteModel {
		update = append(update, bson.E{Key: "$setOnInsert", Value: bson.D{{Key: "event", Value: event}}})
		return mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: counterID(part, event)}}).
			SetUpdate(update).SetUpsert(true)
	}
	if hidden != 0 {
		models = append(models, upsert(mainPart, bson.D{{Key: "$inc", Value: bson.D{{Key: "hidden", Value: hidden}}}}))
	}
	if sign == 0 {
		// A hidden post deleted: only the hidden count knew it.
		return models, nil
	}
	day := bson.D{{Key: "total", Value: sign}}
	if p.Retweet {
		day = append(day, bson.E{Key: "retweets", Value: sign})
	}
	day = append(day,
		bson.E{Key: "sources." + fieldName(p.Source), Value: sign},
		bson.E{Key: "langs." + fieldName(langKey(p.Lang)), Value: sign},
		bson.E{Key: "m." + fieldName(strconv.FormatInt(p.Minute, 10)), Value: sign})
	shard := bson.D{{Key: "a." + fieldName(p.Author), Value: sign}}
	for _, h := range p.Hashtags { // distinct: normalised when stored
		shard = append(shard, bson.E{Key: "t." + fieldName(h), Value: sign})
	}
	for _, sp := range p.Spellings { // one per tag
		shard = append(shard, bson.E{Key: "tc." + fieldName(sp), Value: sign})
	}
	shardUpdate := bson.D{{Key: "$inc", Value: shard}}
	if sign > 0 {
		shardUpdate = append(shardUpdate, bson.E{Key: "$max", Value: bson.D{{Key: "w." + fieldName(p.Author), Value: whoValue(p)}}})
	}
	models = append(models,
		upsert(dayPart(p.Minute), bson.D{{Key: "$inc", Value: day}}),
		upsert(shardPart(p.Author), shardUpdate))
	if o := p.original(); o != nil {
		f := fieldName(o.ID)
		update := bson.D{{Key: "$inc", Value: bson.D{{Key: "ro." + f, Value: sign}}}}
		if sign > 0 {
			update = append(update, bson.E{Key: "$max", Value: bson.D{{Key: "rr." + f, Value: o.Reposts}, {Key: "rw." + f, Value: repostValue(p)}}})
		}
		models = append(models, upsert(shardPart(o.ID), update))
	}
	key := edgeKey(p.CreatedAt, p.ID)
	for _, e := range []struct{ field, post, beats string }{{"first", "first_post", "$gt"}, {"last", "last_post", "$lt"}} {
		edge := func(match any, update bson.D) mongo.WriteModel {
			return mongo.NewUpdateOneModel().
				SetFilter(bson.D{{Key: "_id", Value: event}, {Key: e.field, Value: match}}).
				SetUpdate(update)
		}
		if sign > 0 {
			// p becomes the edge if it beats the known one.
			edges = append(edges, edge(bson.D{{Key: e.beats, Value: key}},
				bson.D{{Key: "$set", Value: bson.D{{Key: e.field, Value: key}, {Key: e.post, Value: full}}}}))
		} else {
			// The edge leaves: it is unknown until Stats looks.
			edges = append(edges, edge(key,
				bson.D{{Key: "$unset", Value: bson.D{{Key: e.field, Value: ""}, {Key: e.post, Value: ""}}}}))
		}
	}
	return models, edges
}

// whoValue is what counterDoc.Who keeps of a post: its edgeKey, so that
// $max keeps the newest post's, then its author's name and picture,
// after a separator that sorts before every byte of an id, so that the
// order is edgeKey's. Control characters, which no name or URL needs,
// are dropped, and both are cut to a bounded length.
func whoValue(p statsDoc) string {
	return edgeKey(p.CreatedAt, p.ID) + whoSep + clean(p.Name, 200) + whoSep + clean(p.Picture, 2048)
}

const whoSep = "\x01"

// whoParts returns the name and picture of a whoValue.
func whoParts(v string) (name, picture string) {
	parts := strings.SplitN(v, whoSep, 3)
	if len(parts) != 3 {
		return "", ""
	}
	return parts[1], parts[2]
}

func langKey(lang string) string {
	if lang == "" {
		return "und"
	}
	return lang
}

// counterHealth remembers failed counter updates: the post is stored all
// the same, and the log says so once per event.
type counterHealth struct {
	failures atomic.Uint64
	mu       sync.Mutex
	logged   map[string]bool
}

// CounterFailures counts the posts whose counter update failed since
// Open: each leaves the statistics of its event off by one post until
// `tweetwire stats --recount`.
func (db *DB) CounterFailures() uint64 { return db.counters.failures.Load() }

// adjust applies counterUpdates. It returns nothing: the post's own write
// has happened, and failing it now would make the spool write it again,
// which a duplicate key turns into nothing. A failure is counted and
// logged once per event.
func (db *DB) adjust(ctx context.Context, event string, p statsDoc, full *postDoc, sign, hidden int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), counterTimeout)
	defer cancel()
	models, edges := counterUpdates(event, p, full, sign, hidden)
	_, err := db.stats.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if len(edges) > 0 {
		_, edgeErr := db.edges.BulkWrite(ctx, edges, options.BulkWrite().SetOrdered(false))
		err = errors.Join(err, edgeErr)
	}
	if err != nil {
		db.counterFailed(event, 1, err)
	}
}

// counterFailed counts posts whose counter update failed and logs the
// first failure of each event.
func (db *DB) counterFailed(event string, posts int, err error) {
	db.counters.failures.Add(uint64(posts))
	h := &db.counters
	h.mu.Lock()
	first := !h.logged[event]
	if h.logged == nil {
		h.logged = map[string]bool{}
	}
	h.logged[event] = true
	h.mu.Unlock()
	if first {
		db.log.Warn("statistics miss posts: their counters could not be updated; run `tweetwire stats --recount --event NAME` to rebuild them (logged once per event; tweetwire_stats_counter_failures_total counts every post)",
			"event", event, "posts", posts, "err", err)
	}
}

// Hide takes the post out of its event's public statistics and counts it
// as hidden, for moderation; hiding a hidden or absent post changes
// nothing. Recent and the wall do not look at it (yet): that is the
// moderation's business.
func (db *DB) Hide(ctx context.Context, id string) error {
	return db.setHidden(ctx, id, true)
}

// Unhide undoes Hide.
func (db *DB) Unhide(ctx context.Context, id string) error {
	return db.setHidden(ctx, id, false)
}

func (db *DB) setHidden(ctx context.Context, id string, hide bool) error {
	op := map[bool]string{true: "hide", false: "unhide"}[hide]
	if id == "" {
		return tweet.Errorf(tweet.EINVALID, "name the post to %s", op)
	}
	// Matching only a post in the other state makes the change happen
	// once however many callers race: the one whose update matched
	// moves the counters, with the post as it was (no projection:
	// FerretDB 1.24 has none on findAndModify).
	filter := bson.D{{Key: "_id", Value: id}, {Key: "hidden", Value: bson.D{{Key: "$ne", Value: true}}}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "hidden", Value: true}}}}
	if !hide {
		filter = bson.D{{Key: "_id", Value: id}, {Key: "hidden", Value: true}}
		update = bson.D{{Key: "$unset", Value: bson.D{{Key: "hidden", Value: ""}}}}
	}
	raw, err := db.posts.FindOneAndUpdate(ctx, filter, update).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	var p statsDoc
	var full postDoc
	if err == nil {
		err = errors.Join(bson.Unmarshal(raw, &p), bson.Unmarshal(raw, &full))
	}
	if err != nil {
		return classify(op+" post "+id, err)
	}
	db.flush(ctx) // the post's own counts first (batch.go)
	if hide {
		db.adjust(ctx, p.Event, p, nil, -1, 1)
	} else {
		db.adjust(ctx, p.Event, p, &full, 1, -1)
	}
	return nil
}

// uncount takes a post that Delete removed out of its counters.
func (db *DB) uncount(ctx context.Context, p statsDoc) {
	if p.Hidden {
		db.adjust(ctx, p.Event, p, nil, 0, -1)
		return
	}
	db.adjust(ctx, p.Event, p, nil, -1, 0)
}

// readCounters reads event's counters into a tally, and its edges; ok is
// false when the counters were never built (see Stats).
func (db *DB) readCounters(ctx context.Context, event string) (t tally, edges counterDoc, ok bool, err error) {
	t.init()
	edges = counterDoc{ID: event, Event: event}
	if err := db.edges.FindOne(ctx, bson.D{{Key: "_id", Value: event}}).Decode(&edges); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return t, edges, false, err
	}
	edges.ID, edges.Event = event, event
	cur, err := db.stats.Find(ctx, bson.D{{Key: "event", Value: event}})
	if err != nil {
		return t, edges, false, err
	}
	var docs []counterDoc
	if err := cur.All(ctx, &docs); err != nil {
		return t, edges, false, err
	}
	add := func(dst map[string]int64, src map[string]int64) {
		for name, n := range src {
			if k, ok := fieldKey(name); ok {
				dst[k] += n
			}
		}
	}
	minutes := map[string]int64{}
	for _, d := range docs {
		if part, _, _ := strings.Cut(d.ID, "|"); part == mainPart {
			ok = d.Complete
		}
		t.total += d.Total
		t.retweets += d.Retweets
		t.hidden += d.Hidden
		add(t.sources, d.Sources)
		add(t.langs, d.Langs)
		add(t.authors, d.Authors)
		add(t.tags, d.Tags)
		add(t.spellings, d.Spellings)
		for name, v := range d.Who {
			if k, ok := fieldKey(name); ok {
				t.newer(k, v)
			}
		}
		add(t.reposts.seen, d.Reposted)
		for name, n := range d.Reported {
			if k, ok := fieldKey(name); ok {
				t.reposts.reported[k] = max(t.reposts.reported[k], n)
			}
		}
		for name, v := range d.Repost {
			if k, ok := fieldKey(name); ok && v > t.reposts.newest[k] {
				t.reposts.newest[k] = v
			}
		}
		add(minutes, d.Minutes)
	}
	// A key counted down to zero stays in its document (taking it out
	// would need a read); it counts as absent, as in a recount.
	positive := func(m map[string]int64) map[string]int64 {
		for k, n := range m {
			if n <= 0 {
				delete(m, k)
			}
		}
		return m
	}
	positive(t.sources)
	positive(t.langs)
	positive(t.authors)
	positive(t.tags)
	positive(t.spellings)
	for k, n := range positive(minutes) {
		if m, err := strconv.ParseInt(k, 10, 64); err == nil {
			t.minutes[m] = n
		}
	}
	return t, edges, ok, nil
}

// Recount rebuilds the named event's counters (the latest event for "")
// from one scan of its posts, and returns the event. Writes that happen
// while it runs may be counted twice or not at all: run it with the
// writers stopped, or run it again after.
func (db *DB) Recount(ctx context.Context, name string) (tweet.Event, error) {
	ev, err := db.Event(ctx, name)
	if err != nil {
		return tweet.Event{}, err
	}
	db.flush(ctx) // or the counts of posts it reads would come on top
	if err := db.recount(ctx, ev.Name); err != nil {
		return tweet.Event{}, classify(fmt.Sprintf("recount the statistics of event %q", ev.Name), err)
	}
	return ev, nil
}

func (db *DB) recount(ctx context.Context, event string) error {
	t, lo, hi, err := db.scanTally(ctx, event)
	if err != nil {
		return err
	}
	names := func(m map[string]int64) map[string]int64 {
		out := make(map[string]int64, len(m))
		for k, n := range m {
			out[fieldName(k)] = n
		}
		return out
	}
	parts := map[string]*counterDoc{}
	part := func(id string) *counterDoc {
		d, ok := parts[id]
		if !ok {
			d = &counterDoc{ID: counterID(id, event), Event: event, Minutes: map[string]int64{}, Authors: map[string]int64{}, Tags: map[string]int64{}, Spellings: map[string]int64{}, Who: map[string]string{},
				Reposted: map[string]int64{}, Reported: map[string]int64{}, Repost: map[string]string{}}
			parts[id] = d
		}
		return d
	}
	for k, n := range t.authors {
		part(shardPart(k)).Authors[fieldName(k)] = n
	}
	for k, n := range t.tags {
		part(shardPart(k)).Tags[fieldName(k)] = n
	}
	for k, v := range t.who {
		part(shardPart(k)).Who[fieldName(k)] = v
	}
	for sp, n := range t.spellings {
		part(shardPart(tweet.NormalizeHashtag(sp))).Spellings[fieldName(sp)] = n
	}
	for m, n := range t.minutes {
		part(dayPart(m)).Minutes[fieldName(strconv.FormatInt(m, 10))] = n
	}
	for id, v := range t.reposts.newest {
		d := part(shardPart(id))
		d.Repost[fieldName(id)] = v
		d.Reported[fieldName(id)] = t.reposts.reported[id]
		d.Reposted[fieldName(id)] = t.reposts.seen[id]
	}
	ids := bson.A{counterID(mainPart, event)}
	for _, d := range parts {
		if _, err := db.stats.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d, options.Replace().SetUpsert(true)); err != nil {
			return err
		}
		ids = append(ids, d.ID)
	}
	// Parts the posts no longer fill (a day whose posts were all
	// deleted) go.
	if _, err := db.stats.DeleteMany(ctx, bson.D{{Key: "event", Value: event}, {Key: "_id", Value: bson.D{{Key: "$nin", Value: ids}}}}); err != nil {
		return err
	}
	// The main document last: until it says complete, Stats does not
	// trust the rest.
	first, last := noFirst, noLast
	edges := counterDoc{ID: event, First: &first, Last: &last}
	if t.total > 0 {
		first, last = edgeKey(lo.CreatedAt, lo.ID), edgeKey(hi.CreatedAt, hi.ID)
		// Deleted since the scan, they are left unknown.
		if edges.FirstPost, err = db.postByID(ctx, lo.ID); edges.FirstPost == nil {
			edges.First = nil
		}
		if err != nil {
			return err
		}
		if edges.LastPost, err = db.postByID(ctx, hi.ID); edges.LastPost == nil {
			edges.Last = nil
		}
		if err != nil {
			return err
		}
	}
	if _, err := db.edges.ReplaceOne(ctx, bson.D{{Key: "_id", Value: event}}, edges, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	main := counterDoc{
		ID: counterID(mainPart, event), Event: event, Complete: true,
		Total: t.total, Retweets: t.retweets, Hidden: t.hidden,
		Sources: names(t.sources), Langs: names(t.langs),
	}
	_, err = db.stats.ReplaceOne(ctx, bson.D{{Key: "_id", Value: main.ID}}, main, options.Replace().SetUpsert(true))
	return err
}

// markCounted records that the new event's counters are complete: it has
// no posts yet, so the upserts of Save build them from nothing.
func (db *DB) markCounted(ctx context.Context, event string) error {
	_, err := db.edges.UpdateOne(ctx, bson.D{{Key: "_id", Value: event}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "first", Value: noFirst}, {Key: "last", Value: noLast}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return err
	}
	_, err = db.stats.UpdateOne(ctx, bson.D{{Key: "_id", Value: counterID(mainPart, event)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "complete", Value: true}, {Key: "event", Value: event}}}},
		options.UpdateOne().SetUpsert(true))
	return err
}

// edgePost returns the first (oldest) or last public post of the event:
// the one the counters keep or, when they do not know it (see above), the
// one a sorted query finds, which then goes into the counters unless a
// write made the edge known meanwhile.
func (db *DB) edgePost(ctx context.Context, edges counterDoc, oldest bool) (*tweet.Tweet, error) {
	key, post, field, dir := edges.Last, edges.LastPost, "last", -1
	if oldest {
		key, post, field, dir = edges.First, edges.FirstPost, "first", 1
	}
	if key != nil && post != nil {
		t := post.tweet()
		return &t, nil
	}
	var d postDoc
	err := db.posts.FindOne(ctx,
		bson.D{{Key: "event", Value: edges.Event}, {Key: "hidden", Value: bson.D{{Key: "$ne", Value: true}}}},
		options.FindOne().SetSort(bson.D{{Key: "created_at", Value: dir}, {Key: "_id", Value: dir}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_, err = db.edges.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: edges.ID}, {Key: field, Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: edgeKey(d.CreatedAt, d.ID)}, {Key: field + "_post", Value: d}}}})
	if err != nil {
		return nil, err
	}
	t := d.tweet()
	return &t, nil
}
