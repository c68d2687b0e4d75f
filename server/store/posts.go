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
	// RepostOf, Entities and Media are left out when empty: most posts
	// have none, and posts stored before they existed read the same.
	RepostOf *authorDoc  `bson:"repost_of,omitempty"`
	Entities []entityDoc `bson:"entities,omitempty"`
	Media    []mediaDoc  `bson:"media,omitempty"`
	// TagSpellings are how Text writes the hashtags that it does not
	// write in lower case (tweet.HashtagSpellings), for statistics; left
	// out when there are none.
	TagSpellings []string `bson:"tag_spellings,omitempty"`

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

// authorDoc, entityDoc and mediaDoc are tweet.Author, tweet.Entity and
// tweet.Media with the storage's field names: the domain package carries
// no BSON tags.
type authorDoc struct {
	User    string `bson:"user"`
	Name    string `bson:"name,omitempty"`
	ID      string `bson:"id,omitempty"`
	URL     string `bson:"url,omitempty"`
	Reposts int64  `bson:"reposts,omitempty"`
}

type entityDoc struct {
	Kind    string `bson:"kind"`
	Start   int    `bson:"start"`
	End     int    `bson:"end"`
	Href    string `bson:"href"`
	Display string `bson:"display,omitempty"`
}

type mediaDoc struct {
	Type    string `bson:"type"`
	URL     string `bson:"url"`
	Preview string `bson:"preview,omitempty"`
	Alt     string `bson:"alt,omitempty"`
	Width   int    `bson:"width,omitempty"`
	Height  int    `bson:"height,omitempty"`
}

func newPostDoc(event string, t tweet.Tweet, now time.Time) postDoc {
	// BSON dates hold milliseconds: truncate first, so that what Recent
	// returns and what paging compares are the same instant.
	created := t.CreatedAt.UTC().Truncate(time.Millisecond)
	tags := tweet.NormalizeHashtags(t.Hashtags)
	return postDoc{
		ID:           t.ID,
		Event:        event,
		Source:       t.Source,
		User:         t.User,
		Name:         t.Name,
		Picture:      t.Picture,
		Text:         t.Text,
		CreatedAt:    created,
		Hashtags:     tags,
		Lang:         t.Lang,
		URL:          t.URL,
		Retweet:      t.Retweet,
		RepostOf:     (*authorDoc)(t.RepostOf),
		Entities:     convertSlice(t.Entities, func(e tweet.Entity) entityDoc { return entityDoc(e) }),
		Media:        convertSlice(t.Media, func(m tweet.Media) mediaDoc { return mediaDoc(m) }),
		TagSpellings: tweet.HashtagSpellings(t.Text, tags),
		Author:       AuthorKey(t.Source, t.User),
		Minute:       floorDiv(created.Unix(), 60),
		Hour:         floorDiv(created.Unix(), 3600),
		StoredAt:     now.UTC().Truncate(time.Millisecond),
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

// statsDoc is the part of d that statistics count.
func (d postDoc) statsDoc() statsDoc {
	return statsDoc{
		ID: d.ID, Source: d.Source, Author: d.Author, Lang: d.Lang, Hashtags: d.Hashtags, Spellings: d.TagSpellings,
		Name: d.Name, Picture: d.Picture,
		Minute: d.Minute, Retweet: d.Retweet, CreatedAt: d.CreatedAt,
		RepostOf: d.RepostOf, Text: d.Text,
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
		RepostOf:  (*tweet.Original)(d.RepostOf),
		Entities:  convertSlice(d.Entities, func(e entityDoc) tweet.Entity { return tweet.Entity(e) }),
		Media:     convertSlice(d.Media, func(m mediaDoc) tweet.Media { return tweet.Media(m) }),
	}
}

// convertSlice converts between a domain type and its document, which
// have the same fields; empty stays nil, as the domain wants.
func convertSlice[From, To any](in []From, conv func(From) To) []To {
	if len(in) == 0 {
		return nil
	}
	out := make([]To, len(in))
	for i, v := range in {
		out[i] = conv(v)
	}
	return out
}

// Save inserts t. The post id is the document's _id, so a second save of
// the same post, sequential or racing, fails with a duplicate key error
// and changes nothing: that is success.
func (db *DB) Save(ctx context.Context, event string, t tweet.Tweet) error {
	if t.ID == "" {
		return tweet.Errorf(tweet.EINVALID, "a post without an id cannot be stored")
	}
	doc := newPostDoc(event, t, time.Now())
	_, err := db.posts.InsertOne(ctx, doc)
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	if err != nil {
		return classify("save post "+t.ID, err)
	}
	db.batch.add(event, doc.statsDoc(), &doc)
	return nil
}

// Delete removes the post with the given id, if it is there.
func (db *DB) Delete(ctx context.Context, id string) error {
	if id == "" {
		return tweet.Errorf(tweet.EINVALID, "a delete without an id cannot be stored")
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
		return classify("delete post "+id, err)
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
	var b postDoc
	if before != "" {
		var err error
		if b, err = db.pageFrom(ctx, before); err != nil {
			return nil, err
		}
	}
	if event != "" {
		ids, ok, err := fromIndex(ctx, db, func(x PostIndex) ([]string, error) {
			return x.RecentIDs(ctx, event, limit, b.CreatedAt, before)
		})
		if err != nil {
			return nil, classify("read recent posts", err)
		}
		if ok {
			out, err := db.fetchPage(ctx, event, limit, ids)
			return out, classify("read recent posts", err)
		}
	}
	filter := bson.D{}
	if event != "" {
		filter = append(filter, bson.E{Key: "event", Value: event})
	}
	if before != "" {
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

// fetchPage reads the posts of a page whose ids the PostIndex gave. A
// post deleted between the two leaves a gap, which it fills with the
// posts that follow the last one read: a page comes back short only at
// the end of the event, which is how clients know to stop paging.
func (db *DB) fetchPage(ctx context.Context, event string, limit int, ids []string) ([]tweet.Tweet, error) {
	out, err := db.fetch(ctx, ids)
	if err != nil {
		return nil, err
	}
	// asked is how many ids the last query asked for: fewer came only
	// if the event ran out.
	asked := limit
	for len(ids) == asked && len(out) < limit && len(out) > 0 {
		last := out[len(out)-1]
		asked = limit - len(out)
		if ids, err = db.index.RecentIDs(ctx, event, asked, last.CreatedAt, last.ID); err != nil {
			return nil, err
		}
		more, err := db.fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// fetch returns the posts with the given ids, in that order, by one
// lookup by _id each (on FerretDB, the one filter it hands to SQLite,
// which the PostIndex indexes), skipping any deleted meanwhile.
func (db *DB) fetch(ctx context.Context, ids []string) ([]tweet.Tweet, error) {
	out := make([]tweet.Tweet, 0, len(ids))
	for _, id := range ids {
		var d postDoc
		err := db.posts.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d.tweet())
	}
	return out, nil
}

// IDs returns the ids of up to limit of the event's newest posts, newest
// first: from the PostIndex when there is one, else one query that reads
// only the ids.
func (db *DB) IDs(ctx context.Context, event string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, tweet.Errorf(tweet.EINVALID, "limit must be positive, not %d", limit)
	}
	if event != "" {
		ids, ok, err := fromIndex(ctx, db, func(x PostIndex) ([]string, error) {
			return x.RecentIDs(ctx, event, limit, time.Time{}, "")
		})
		if err != nil {
			return nil, classify("read the ids of stored posts", err)
		}
		if ok {
			return ids, nil
		}
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
	op := fmt.Sprintf("count the posts of %q", event)
	if event != "" {
		n, ok, err := fromIndex(ctx, db, func(x PostIndex) (int64, error) { return x.Count(ctx, event) })
		if err != nil {
			return 0, classify(op, err)
		}
		if ok {
			return n, nil
		}
	}
	filter := bson.D{}
	if event != "" {
		filter = append(filter, bson.E{Key: "event", Value: event})
	}
	n, err := db.posts.CountDocuments(ctx, filter)
	if err != nil {
		return 0, classify(op, err)
	}
	return n, nil
}
