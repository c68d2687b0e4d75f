package store

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"
	"unique"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// The in-memory index (Config.SoleWriter).
//
// FerretDB on SQLite pushes down no filter but {_id: <value>}, so without
// it Recent, Stats and Count read and decode every post of the collection:
// about 0.25 ms of CPU per stored post per call. When this process is the
// database's only writer, every change goes through Save and Delete, so
// an event's posts can be indexed once, by one scan on the first read of
// the event, and kept current from then on. Recent then reads ids from
// memory, and Stats only walks the counters.
//
// Point lookups are not cheap either: FerretDB 1.24 pushes {_id: v} down
// as _ferretdb_sjson->'$._id' = ?, while the SQLite index on _id is built
// on _ferretdb_sjson->"_id", so SQLite parses the JSON of every row (about
// 12 µs a row: a second per lookup at 100,000 posts). So the index also
// keeps the newest posts in full (window, a few thousand), and the oldest,
// which is all the live wall, start-up seeding and Stats read; pages
// deeper than that are fetched with few lookups, or one scan.
//
// Consistency. An index entry is keyed by post id, so adding an id already
// there, or removing one that is not, changes nothing. Writes that happen
// while the building scan runs may or may not be in what it reads; they
// are recorded and applied, in order, once the scan is done, which makes
// the result right in every interleaving. Writes of the same id are
// serialised (lockID) from the database call to the index update, so they
// reach the index in the order the database applied them; writes of
// different ids commute. A write that fails may still have been applied
// (a timeout after the commit), so a failed write drops the index it may
// have changed, and the next read builds it again.

// indexes holds the index of every event read so far.
type indexes struct {
	// mu guards events and every eventIndex in it. It is never held
	// across a database call: a scan builds into a fresh index that
	// nobody reads until it is published under mu.
	mu     sync.RWMutex
	events map[string]*eventIndex

	// ids serialises the writes of one post id; striped, since
	// distinct ids need no order.
	seed maphash.Seed
	ids  [64]sync.Mutex

	// window is how many of the newest posts of an event are kept in
	// full.
	window int
}

// defaultWindow covers start-up seeding (1,000 posts) and the first pages
// of the API (200 at most) with room to spare: at about 2 KB a post, 4 MB
// per event.
const defaultWindow = 2000

// maxLookups is how many posts missing from the window Recent fetches by
// _id one at a time; past it, one scan of the event is cheaper (a lookup
// costs about a twentieth of a scan, see above).
const maxLookups = 16

func newIndexes() *indexes {
	return &indexes{events: map[string]*eventIndex{}, seed: maphash.MakeSeed(), window: defaultWindow}
}

// eventIndex is one event's posts in memory.
type eventIndex struct {
	// done is closed when the building scan ends, well or not.
	done  chan struct{}
	ready bool
	// dropped says that a write failed while the scan ran: the index is
	// unregistered as soon as it is built.
	dropped bool
	// pending holds the writes made while the scan runs, in order.
	pending []indexOp

	byID map[string]*statsDoc
	// order is every post oldest first, in the order of Recent reversed:
	// by created_at, then _id.
	order []*statsDoc
	tally tally
	// docs holds posts in full: at most those in the newest window of
	// order, and the first of order. One missing is fetched when read.
	docs   map[string]*postDoc
	window int
}

// indexOp is a write to apply to an index: an add of doc, or a removal of
// the post with id.
type indexOp struct {
	id  string
	doc *postDoc // nil for a removal
}

// lockID locks the writes of id and returns the unlock.
func (x *indexes) lockID(id string) (unlock func()) {
	m := &x.ids[maphash.String(x.seed, id)%uint64(len(x.ids))]
	m.Lock()
	return m.Unlock
}

// add records a post that Save has just inserted into event.
func (x *indexes) add(event string, d *postDoc) {
	x.apply(event, indexOp{id: d.ID, doc: d})
}

// remove records a post that Delete has just removed from event.
func (x *indexes) remove(event, id string) {
	x.apply(event, indexOp{id: id})
}

// drop forgets the index of event ("" for every event), after a write
// whose outcome is unknown.
func (x *indexes) drop(event string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for name, e := range x.events {
		if event != "" && name != event {
			continue
		}
		if e.ready {
			delete(x.events, name)
		} else {
			e.dropped = true
		}
	}
}

func (x *indexes) apply(event string, op indexOp) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.events[event]
	switch {
	case e == nil:
		// Not indexed yet: the scan that builds it will read this write,
		// since it starts after the index is registered, hence after
		// this write reached the database.
	case !e.ready:
		e.pending = append(e.pending, op)
	default:
		e.apply(op)
	}
}

// apply changes the index; the caller holds indexes.mu (or owns e alone).
func (e *eventIndex) apply(op indexOp) {
	if op.doc != nil {
		e.insert(op.doc.statsDoc(), op.doc)
		return
	}
	p, ok := e.byID[op.id]
	if !ok {
		return
	}
	delete(e.byID, p.ID)
	delete(e.docs, p.ID)
	if i, found := e.search(p.CreatedAt, p.ID); found {
		e.order = slices.Delete(e.order, i, i+1)
	}
	e.tally.remove(*p)
}

// insert adds p, and keeps doc, its full post, if it belongs in docs.
func (e *eventIndex) insert(p statsDoc, doc *postDoc) {
	if _, ok := e.byID[p.ID]; ok {
		return
	}
	p = intern(p)
	e.byID[p.ID] = &p
	// Posts mostly arrive newest last, so this is mostly an append.
	i, _ := e.search(p.CreatedAt, p.ID)
	e.order = slices.Insert(e.order, i, &p)
	e.tally.add(p)
	if !e.keeps(i) {
		return
	}
	e.docs[p.ID] = doc
	// Whatever p pushed out of the window, or off the first place, goes.
	if j := len(e.order) - e.window - 1; j > 0 && i > j {
		delete(e.docs, e.order[j].ID)
	}
	if i == 0 && len(e.order) > 1 && !e.keeps(1) {
		delete(e.docs, e.order[1].ID)
	}
}

// keeps says whether the post at i in order is kept in full.
func (e *eventIndex) keeps(i int) bool {
	return i == 0 || i >= len(e.order)-e.window
}

// cache keeps d, just read from the database, if it still belongs in docs.
func (e *eventIndex) cache(d *postDoc) {
	p, ok := e.byID[d.ID]
	if !ok {
		return
	}
	if i, found := e.search(p.CreatedAt, p.ID); found && e.keeps(i) {
		e.docs[d.ID] = d
	}
}

// search returns where (at, id) is or would be in order.
func (e *eventIndex) search(at time.Time, id string) (int, bool) {
	return slices.BinarySearchFunc(e.order, statsDoc{ID: id, CreatedAt: at}, func(a *statsDoc, b statsDoc) int {
		return compareRecent(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
	})
}

// intern shares the strings that many posts repeat (sources, languages,
// authors, hashtags), so that each post costs its id and little more.
func intern(p statsDoc) statsDoc {
	p.Source = unique.Make(p.Source).Value()
	p.Lang = unique.Make(p.Lang).Value()
	p.Author = unique.Make(p.Author).Value()
	if len(p.Hashtags) == 0 {
		p.Hashtags = nil
	} else {
		tags := make([]string, len(p.Hashtags))
		for i, h := range p.Hashtags {
			tags[i] = unique.Make(h).Value()
		}
		p.Hashtags = tags
	}
	return p
}

func (e *eventIndex) count() int64 {
	return int64(len(e.order))
}

// index returns the event's index, building it first if no call has. Calls
// that come while another builds it wait for that build; if it fails,
// the next of them builds again.
func (db *DB) index(ctx context.Context, event string) (*eventIndex, error) {
	x := db.idx
	for {
		x.mu.Lock()
		e := x.events[event]
		if e == nil {
			e = &eventIndex{done: make(chan struct{})}
			x.events[event] = e
			x.mu.Unlock()
			if err := db.build(ctx, event, e); err != nil {
				return nil, err
			}
			return e, nil
		}
		x.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the index of event %q: %w", event, ctx.Err())
		}
		x.mu.RLock()
		ready := e.ready
		x.mu.RUnlock()
		if ready {
			return e, nil
		}
	}
}

// build fills e, registered but not ready, with one scan of the event,
// then applies the writes made meanwhile and publishes it. On failure it
// unregisters e, so that the next call tries again.
func (db *DB) build(ctx context.Context, event string, e *eventIndex) error {
	start := time.Now()
	x := db.idx
	byID := map[string]*statsDoc{}
	var order []*statsDoc
	var t tally
	t.init()
	// Whole posts, not the projection of Stats: FerretDB decodes them
	// whole anyway, and the newest and the oldest are kept in full.
	var newest []*postDoc
	var oldest *postDoc
	trim := func() {
		slices.SortFunc(newest, func(a, b *postDoc) int { return -compareDocs(a, b) })
		newest = newest[:min(len(newest), x.window)]
	}
	err := db.scanDocs(ctx, bson.D{{Key: "event", Value: event}}, func(d *postDoc) {
		if _, ok := byID[d.ID]; ok {
			return
		}
		p := intern(d.statsDoc())
		byID[p.ID] = &p
		order = append(order, &p)
		t.add(p)
		if oldest == nil || compareDocs(d, oldest) < 0 {
			oldest = d
		}
		if newest = append(newest, d); len(newest) >= 2*x.window+1 {
			trim()
		}
	})
	// An event nobody started and with no posts (a typo in ?event=)
	// gets an answer but no index: otherwise every name asked for would
	// hold one for good.
	keep := true
	if err == nil && len(order) == 0 {
		if _, evErr := db.Event(ctx, event); tweet.ErrorCode(evErr) == tweet.ENOTFOUND {
			keep = false
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	defer close(e.done)
	if err != nil {
		delete(x.events, event)
		return fmt.Errorf("index the posts of event %q: %w", event, err)
	}
	slices.SortFunc(order, func(a, b *statsDoc) int {
		return compareRecent(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
	})
	trim()
	e.byID, e.order, e.tally, e.window = byID, order, t, x.window
	e.docs = make(map[string]*postDoc, len(newest)+1)
	for _, d := range newest {
		e.docs[d.ID] = d
	}
	if oldest != nil {
		e.docs[oldest.ID] = oldest
	}
	for _, op := range e.pending {
		e.apply(op)
	}
	e.pending, e.ready = nil, true
	if e.dropped || !keep {
		// Good for the reads waiting for it, not for the next ones.
		delete(x.events, event)
	}
	db.log.Info("store: indexed the posts of an event in memory", "event", event, "posts", len(e.order),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// compareDocs orders posts as Recent does, oldest first.
func compareDocs(a, b *postDoc) int {
	return compareRecent(a.CreatedAt, a.ID, b.CreatedAt, b.ID)
}

// scanDocs calls fn with every post that filter matches.
func (db *DB) scanDocs(ctx context.Context, filter bson.D, fn func(*postDoc)) error {
	cur, err := db.posts.Find(ctx, filter)
	if err != nil {
		return err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		d := new(postDoc)
		if err := cur.Decode(d); err != nil {
			return err
		}
		fn(d)
	}
	return cur.Err()
}

// indexedRecent is Recent from the index: the ids come from memory, the
// posts mostly too (see fetch).
func (db *DB) indexedRecent(ctx context.Context, event string, limit int, before string) ([]tweet.Tweet, error) {
	e, err := db.index(ctx, event)
	if err != nil {
		return nil, classify("read recent posts", err)
	}
	x := db.idx
	var ids []string
	x.mu.RLock()
	end := len(e.order)
	if before != "" {
		p, ok := e.byID[before]
		if !ok {
			// Not a post of this event: as the scan does, page from
			// wherever the post stands in time, if it exists at all.
			x.mu.RUnlock()
			b, err := db.pageFrom(ctx, before)
			if err != nil {
				return nil, err
			}
			x.mu.RLock()
			end, _ = e.search(b.CreatedAt, b.ID)
		} else {
			end, _ = e.search(p.CreatedAt, p.ID)
		}
	}
	for i := end - 1; i >= 0 && len(ids) < limit; i-- {
		ids = append(ids, e.order[i].ID)
	}
	x.mu.RUnlock()
	out, err := db.fetch(ctx, e, ids)
	if err != nil {
		return nil, classify("read recent posts", err)
	}
	return out, nil
}

// fetch returns the posts with the given ids in that order, skipping any
// deleted meanwhile: from docs when there, else by _id one at a time, or
// with one scan when too many are missing.
func (db *DB) fetch(ctx context.Context, e *eventIndex, ids []string) ([]tweet.Tweet, error) {
	x := db.idx
	found := make(map[string]*postDoc, len(ids))
	var missing []string
	x.mu.RLock()
	for _, id := range ids {
		if d, ok := e.docs[id]; ok {
			found[id] = d
		} else {
			missing = append(missing, id)
		}
	}
	x.mu.RUnlock()
	var read []*postDoc
	if len(missing) > maxLookups {
		err := db.scanDocs(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: missing}}}}, func(d *postDoc) {
			read = append(read, d)
		})
		if err != nil {
			return nil, err
		}
	} else {
		for _, id := range missing {
			d := new(postDoc)
			err := db.posts.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(d)
			if errors.Is(err, mongo.ErrNoDocuments) {
				continue // deleted since the index was read
			}
			if err != nil {
				return nil, err
			}
			read = append(read, d)
		}
	}
	if len(read) > 0 {
		x.mu.Lock()
		for _, d := range read {
			found[d.ID] = d
			e.cache(d)
		}
		x.mu.Unlock()
	}
	out := make([]tweet.Tweet, 0, len(ids))
	for _, id := range ids {
		if d, ok := found[id]; ok {
			out = append(out, d.tweet())
		}
	}
	return out, nil
}
