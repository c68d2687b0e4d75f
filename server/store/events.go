package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// eventDoc is an event as stored; End is absent while it runs.
type eventDoc struct {
	Name  string     `bson:"_id"`
	Terms []string   `bson:"terms"`
	Start time.Time  `bson:"start"`
	End   *time.Time `bson:"end,omitempty"`
}

func (d eventDoc) info() tweet.Event {
	e := tweet.Event{Name: d.Name, Terms: d.Terms, Start: d.Start.UTC()}
	if e.Terms == nil {
		e.Terms = []string{}
	}
	if d.End != nil {
		e.End = d.End.UTC()
	}
	return e
}

// StartEvent creates the named event, or resumes it.
func (db *DB) StartEvent(ctx context.Context, name string, terms []string, at time.Time) (tweet.Event, error) {
	if name == "" {
		return tweet.Event{}, tweet.Errorf(tweet.EINVALID, "an event needs a name")
	}
	if terms == nil {
		terms = []string{}
	}
	// Two plain steps rather than one upsert with $setOnInsert: both
	// databases take them, and the insert's duplicate key error settles
	// a race between two servers starting the same event.
	doc := eventDoc{Name: name, Terms: terms, Start: at.UTC().Truncate(time.Millisecond)}
	_, err := db.events.InsertOne(ctx, doc)
	if err == nil {
		// A new event has no posts: its counters are complete from
		// the start, and Stats needs no scan to build them. Without the
		// mark the event is still right: its first Stats scans once.
		if err := db.markCounted(ctx, name); err != nil {
			db.log.Warn("statistics: the first statistics of the new event will scan its posts once", "event", name, "err", err)
		}
		return doc.info(), nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return tweet.Event{}, classify("start event "+name, err)
	}
	_, err = db.events.UpdateOne(ctx, bson.D{{Key: "_id", Value: name}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "terms", Value: terms}}},
		{Key: "$unset", Value: bson.D{{Key: "end", Value: ""}}},
	})
	if err != nil {
		return tweet.Event{}, classify("resume event "+name, err)
	}
	return db.Event(ctx, name)
}

// EndEvent records the end of the named event unless it already has one.
func (db *DB) EndEvent(ctx context.Context, name string, at time.Time) (tweet.Event, error) {
	if name == "" {
		return tweet.Event{}, tweet.Errorf(tweet.EINVALID, "name the event to end")
	}
	_, err := db.events.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: name}, {Key: "end", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "end", Value: at.UTC().Truncate(time.Millisecond)}}}},
	)
	if err != nil {
		return tweet.Event{}, classify("end event "+name, err)
	}
	return db.Event(ctx, name)
}

// Event returns the named event, or the latest one for "".
func (db *DB) Event(ctx context.Context, name string) (tweet.Event, error) {
	filter, opts := bson.D{{Key: "_id", Value: name}}, options.FindOne()
	if name == "" {
		filter = bson.D{}
		opts.SetSort(bson.D{{Key: "start", Value: -1}, {Key: "_id", Value: -1}})
	}
	var d eventDoc
	err := db.events.FindOne(ctx, filter, opts).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments) && name == "":
		return tweet.Event{}, tweet.Errorf(tweet.ENOTFOUND, "no event yet: start the server to begin one")
	case errors.Is(err, mongo.ErrNoDocuments):
		return tweet.Event{}, tweet.Errorf(tweet.ENOTFOUND, "no event named %q", name)
	case err != nil:
		return tweet.Event{}, classify("read event "+name, err)
	}
	return d.info(), nil
}

// Events returns every event, the latest first.
func (db *DB) Events(ctx context.Context) ([]tweet.Event, error) {
	cur, err := db.events.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "start", Value: -1}, {Key: "_id", Value: -1}}))
	if err != nil {
		return nil, classify("list events", err)
	}
	var docs []eventDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify("list events", err)
	}
	out := make([]tweet.Event, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.info())
	}
	return out, nil
}
