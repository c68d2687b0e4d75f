package store

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Saves are counted in batches. Each counter update costs FerretDB a
// transaction that reads and rewrites a document (about 8 ms of CPU for a
// post's three, against 0.7 ms for its insert), so Save adds its post's
// counts to a batch in memory, and the batch is written every flushEvery,
// a document's counts summed into one $inc: at a hundred posts a second,
// some 35 updates a second instead of 300. Stats, Recount and Close write
// the batch first, and so do Delete, Hide and Unhide when they changed a
// post (a flush waits for one under way), so that this process always
// sees its own posts and a removal never overtakes the post's own counts;
// other nodes see them within flushEvery. The cost: a crash loses the
// counts of up to flushEvery of posts (stored all the same), which is what
// `tweetwire stats --recount` repairs.

// flushEvery is how long a post's counts may wait in memory.
const flushEvery = time.Second

// batch is the counts of saved posts not yet written.
type batch struct {
	// flushing serialises flushes, so that a removal that flushes first
	// waits for a flush already under way.
	flushing sync.Mutex

	mu     sync.Mutex
	events map[string]*eventBatch
}

// eventBatch is one event's pending counts.
type eventBatch struct {
	posts int
	// docs maps a counter document's part to its field paths' deltas.
	docs map[string]map[string]int64
	// maxes and maxInts map a counter document's part to its field
	// paths' $max.
	maxes       map[string]map[string]string
	maxInts     map[string]map[string]int64
	first, last *postDoc
}

// add counts a stored post: the same fields as counterUpdates with sign 1.
func (b *batch) add(event string, p statsDoc, full *postDoc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.events == nil {
		b.events = map[string]*eventBatch{}
	}
	e := b.events[event]
	if e == nil {
		e = &eventBatch{docs: map[string]map[string]int64{}, maxes: map[string]map[string]string{}, maxInts: map[string]map[string]int64{}}
		b.events[event] = e
	}
	e.posts++
	inc := func(part, path string) {
		d := e.docs[part]
		if d == nil {
			d = map[string]int64{}
			e.docs[part] = d
		}
		d[path]++
	}
	day, shard := dayPart(p.Minute), shardPart(p.Author)
	inc(day, "total")
	if p.Retweet {
		inc(day, "retweets")
	}
	inc(day, "sources."+fieldName(p.Source))
	inc(day, "langs."+fieldName(langKey(p.Lang)))
	inc(day, "m."+fieldName(strconv.FormatInt(p.Minute, 10)))
	inc(shard, "a."+fieldName(p.Author))
	for _, h := range p.Hashtags {
		inc(shard, "t."+fieldName(h))
	}
	for _, sp := range p.Spellings {
		inc(shard, "tc."+fieldName(sp))
	}
	maxString := func(part, path, v string) {
		if e.maxes[part] == nil {
			e.maxes[part] = map[string]string{}
		}
		if old, ok := e.maxes[part][path]; !ok || v > old {
			e.maxes[part][path] = v
		}
	}
	maxString(shard, "w."+fieldName(p.Author), whoValue(p))
	if o := p.original(); o != nil {
		part, f := shardPart(o.ID), fieldName(o.ID)
		inc(part, "ro."+f)
		maxString(part, "rw."+f, repostValue(p))
		if e.maxInts[part] == nil {
			e.maxInts[part] = map[string]int64{}
		}
		if old, ok := e.maxInts[part]["rr."+f]; !ok || o.Reposts > old {
			e.maxInts[part]["rr."+f] = o.Reposts
		}
	}
	key := edgeKey(p.CreatedAt, p.ID)
	if e.first == nil || key < edgeKey(e.first.CreatedAt, e.first.ID) {
		e.first = full
	}
	if e.last == nil || key > edgeKey(e.last.CreatedAt, e.last.ID) {
		e.last = full
	}
}

// take empties the batch and returns what it held.
func (b *batch) take() map[string]*eventBatch {
	b.mu.Lock()
	defer b.mu.Unlock()
	events := b.events
	b.events = nil
	return events
}

// flush writes the pending counts. Failures are counted and logged, not
// returned: the posts are stored (see adjust).
func (db *DB) flush(ctx context.Context) {
	db.batch.flushing.Lock()
	defer db.batch.flushing.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), counterTimeout)
	defer cancel()
	for event, e := range db.batch.take() {
		var models []mongo.WriteModel
		for _, part := range slices.Sorted(maps.Keys(e.docs)) {
			var inc bson.D
			for _, path := range slices.Sorted(maps.Keys(e.docs[part])) {
				inc = append(inc, bson.E{Key: path, Value: e.docs[part][path]})
			}
			update := bson.D{{Key: "$inc", Value: inc}}
			var m bson.D
			for _, path := range slices.Sorted(maps.Keys(e.maxes[part])) {
				m = append(m, bson.E{Key: path, Value: e.maxes[part][path]})
			}
			for _, path := range slices.Sorted(maps.Keys(e.maxInts[part])) {
				m = append(m, bson.E{Key: path, Value: e.maxInts[part][path]})
			}
			if len(m) > 0 {
				update = append(update, bson.E{Key: "$max", Value: m})
			}
			update = append(update, bson.E{Key: "$setOnInsert", Value: bson.D{{Key: "event", Value: event}}})
			models = append(models, mongo.NewUpdateOneModel().
				SetFilter(bson.D{{Key: "_id", Value: counterID(part, event)}}).
				SetUpdate(update).
				SetUpsert(true))
		}
		_, err := db.stats.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
		if err == nil {
			_, err = db.edges.BulkWrite(ctx, []mongo.WriteModel{
				edgeUpdate(event, "first", "$gt", e.first),
				edgeUpdate(event, "last", "$lt", e.last),
			}, options.BulkWrite().SetOrdered(false))
		}
		if err != nil {
			db.counterFailed(event, e.posts, err)
		}
	}
}

// edgeUpdate makes p the event's first (beats "$gt") or last ("$lt")
// post if it beats the known one.
func edgeUpdate(event, field, beats string, p *postDoc) mongo.WriteModel {
	key := edgeKey(p.CreatedAt, p.ID)
	return mongo.NewUpdateOneModel().
		SetFilter(bson.D{{Key: "_id", Value: event}, {Key: field, Value: bson.D{{Key: beats, Value: key}}}}).
		SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: key}, {Key: field + "_post", Value: p}}}})
}

// flushLoop writes the batch every flushEvery until stop is closed.
func (db *DB) flushLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			db.flush(context.Background())
		}
	}
}
