package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// postDoc is a post as stored. The fields after Retweet are derived when
// the post is inserted so that statistics need no date operators (which
// FerretDB lacks) and no per-query string work.
type postDoc struct {
	ID        string    `bson:"_id"`
	Event     string    `bson:"event"`
	Source    string    `bson:"source"`
	User      string    `bson:"user"`
	Name      string    `bson:"name"`
	Picture   string    `bson:"picture"`
	Text      string    `bson:"text"`
	CreatedAt time.Time `bson:"created_at"`
	Hashtags  []string  `bson:"hashtags"`
	Lang      string    `bson:"lang"`
	URL       string    `bson:"url"`
	Retweet   bool      `bson:"retweet"`

	// Author is "<source>:<lower-case user>": one key per person per
	// service, for counting distinct authors with a single $group.
	Author string `bson:"author"`
	// Minute and Hour are CreatedAt in whole minutes and hours since the
	// Unix epoch: the timeline's buckets.
	Minute int64 `bson:"minute"`
	Hour   int64 `bson:"hour"`
	// StoredAt is when the post reached the database; after an outage
	// it lags CreatedAt by the outage.
	StoredAt time.Time `bson:"stored_at"`
}

func newPostDoc(event string, t tweet.Tweet, now time.Time) postDoc {
	// BSON dates hold milliseconds: truncate first, so that what Recent
	// returns and what paging compares are the same instant.
	created := t.CreatedAt.UTC().Truncate(time.Millisecond)
	return postDoc{
		ID:        t.ID,
		Event:     event,
		Source:    t.Source,
		User:      t.User,
		Name:      t.Name,
		Picture:   t.Picture,
		Text:      t.Text,
		CreatedAt: created,
		Hashtags:  tweet.NormalizeHashtags(t.Hashtags),
		Lang:      t.Lang,
		URL:       t.URL,
		Retweet:   t.Retweet,
		Author:    AuthorKey(t.Source, t.User),
		Minute:    floorDiv(created.Unix(), 60),
		Hour:      floorDiv(created.Unix(), 3600),
		StoredAt:  now.UTC().Truncate(time.Millisecond),
	}
}

// AuthorKey is the key statistics count authors by: handles are
// case-insensitive on every service, but the same handle on two services
// is two people.
func AuthorKey(source, user string) string {
	return source + ":" + strings.ToLower(strings.TrimPrefix(user, "@"))
}

// floorDiv divides rounding down, so that instants before 1970 land in
// the right bucket too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// statsDoc is the part of d that the in-memory index keeps.
func (d postDoc) statsDoc() statsDoc {
	return statsDoc{
		ID: d.ID, Source: d.Source, Author: d.Author, Lang: d.Lang, Hashtags: d.Hashtags,
		Minute: d.Minute, Retweet: d.Retweet, CreatedAt: d.CreatedAt,
	}
}

func (d postDoc) tweet() tweet.Tweet {
	tags := d.Hashtags
	if tags == nil {
		tags = []string{}
	}
	return tweet.Tweet{
		ID:        d.ID,
		Source:    d.Source,
		User:      d.User,
		Name:      d.Name,
		Picture:   d.Picture,
		Text:      d.Text,
		CreatedAt: d.CreatedAt.UTC(),
		Hashtags:  tags,
		Lang:      d.Lang,
		URL:       d.URL,
		Retweet:   d.Retweet,
	}
}

// Save inserts t. The post id is the document's _id, so a second save of
// the same post, sequential or racing, fails with a duplicate key error
// and changes nothing: that is success.
func (db *DB) Save(ctx context.Context, event string, t tweet.Tweet) error {
	if t.ID == "" {
		return tweet.Errorf(tweet.EINVALID, "a post without an id cannot be stored")
	}
	doc := newPostDoc(event, t, time.Now())
	if db.idx != nil {
		// Writes of one id reach the index in the order they reached
		// the database: a save racing a delete of the same post must
		// not leave it indexed but gone.
		defer db.idx.lockID(t.ID)()
	}
	_, err := db.posts.InsertOne(ctx, doc)
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	if err != nil {
		if db.idx != nil {
			db.idx.drop(event) // the insert may have happened all the same
		}
		return classify("save post "+t.ID, err)
	}
	if db.idx != nil {
		db.idx.add(event, &doc)
	}
	db.batch.add(event, doc.statsDoc(), &doc)
	return nil
}

// Delete removes the post with the given id, if it is there.
func (db *DB) Delete(ctx context.Context, id string) error {
	if id == "" {
		return tweet.Errorf(tweet.EINVALID, "a delete without an id cannot be stored")
	}
	if db.idx != nil {
		defer db.idx.lockID(id)()
	}
	// FindOneAndDelete says which event lost the post, and whether it
	// was there at all: deleting an absent post changes no counter. (No
	// projection: FerretDB 1.24 does not implement one on findAndModify.)
	var d statsDoc
	err := db.posts.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		// The delete may have happened all the same, in an event
		// unknown here.
		if db.idx != nil {
			db.idx.drop("")
		}
		return classify("delete post "+id, err)
	}
	if db.idx != nil {
		db.idx.remove(d.Event, id)
	}
	db.flush(ctx) // the post's own counts first (batch.go)
	db.uncount(ctx, d)
	return nil
}

// newestFirst is the order of Recent; with _id last it is total, so
// paging neither skips nor repeats posts created in the same millisecond.
var newestFirst = bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}

// Recent returns up to limit posts, newest first, after before if set.
func (db *DB) Recent(ctx context.Context, event string, limit int, before string) ([]tweet.Tweet, error) {
	if limit <= 0 {
		return nil, tweet.Errorf(tweet.EINVALID, "limit must be positive, not %d", limit)
	}
	if db.idx != nil && event != "" {
		return db.indexedRecent(ctx, event, limit, before)
	}
	filter := bson.D{}
	if event != "" {
		filter = append(filter, bson.E{Key: "event", Value: event})
	}
	if before != "" {
		b, err := db.pageFrom(ctx, before)
		if err != nil {
			return nil, err
		}
		// Strictly older, or as old with a smaller id.
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "created_at", Value: bson.D{{Key: "$lt", Value: b.CreatedAt}}}},
			bson.D{{Key: "created_at", Value: b.CreatedAt}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}}},
		}})
	}
	cur, err := db.posts.Find(ctx, filter, options.Find().SetSort(newestFirst).SetLimit(int64(limit)))
	if err != nil {
		return nil, classify("read recent posts", err)
	}
	var docs []postDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify("read recent posts", err)
	}
	out := make([]tweet.Tweet, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.tweet())
	}
	return out, nil
}

// IDs returns the ids of up to limit of the event's newest posts, newest
// first: from the index when there is one, else one query that reads only
// the ids.
func (db *DB) IDs(ctx context.Context, event string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, tweet.Errorf(tweet.EINVALID, "limit must be positive, not %d", limit)
	}
	if db.idx != nil && event != "" {
		e, err := db.index(ctx, event)
		if err != nil {
			return nil, err
		}
		db.idx.mu.RLock()
		defer db.idx.mu.RUnlock()
		out := make([]string, 0, min(limit, len(e.order)))
		for i := len(e.order) - 1; i >= 0 && len(out) < limit; i-- {
			out = append(out, e.order[i].ID)
		}
		return out, nil
	}
	filter := bson.D{}
	if event != "" {
		filter = append(filter, bson.E{Key: "event", Value: event})
	}
	cur, err := db.posts.Find(ctx, filter, options.Find().SetSort(newestFirst).SetLimit(int64(limit)).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, classify("read the ids of stored posts", err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify("read the ids of stored posts", err)
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out, nil
}

// pageFrom reads the post that before names, for paging.
func (db *DB) pageFrom(ctx context.Context, before string) (postDoc, error) {
	var b postDoc
	err := db.posts.FindOne(ctx, bson.D{{Key: "_id", Value: before}}).Decode(&b)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return b, tweet.Errorf(tweet.EINVALID, "before=%q names no stored post: page with the id of the last post of the previous page", before)
	}
	if err != nil {
		return b, classify("find the post to page from", err)
	}
	return b, nil
}

// Count returns how many posts the named event holds ("" for all).
func (db *DB) Count(ctx context.Context, event string) (int64, error) {
	if db.idx != nil && event != "" {
		x, err := db.index(ctx, event)
		if err != nil {
			return 0, classify(fmt.Sprintf("count the posts of %q", event), err)
		}
		return x.count(), nil
	}
	filter := bson.D{}
	if event != "" {
		filter = append(filter, bson.E{Key: "event", Value: event})
	}
	n, err := db.posts.CountDocuments(ctx, filter)
	if err != nil {
		return 0, classify(fmt.Sprintf("count the posts of %q", event), err)
	}
	return n, nil
}
