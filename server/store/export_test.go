package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// DropCounters deletes every statistics counter, as in a store written
// before there were any.
func DropCounters(db *DB) error {
	if _, err := db.edges.DeleteMany(context.Background(), bson.D{}); err != nil {
		return err
	}
	_, err := db.stats.DeleteMany(context.Background(), bson.D{})
	return err
}

// BreakCounters makes every later update of event's counter documents
// fail, as a database that refuses them would: their per-source and
// per-author counts become strings, where $inc needs documents.
func BreakCounters(db *DB, event string) error {
	db.flush(context.Background())
	_, err := db.stats.UpdateMany(context.Background(), bson.D{{Key: "event", Value: event}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sources", Value: "broken"}, {Key: "a", Value: "broken"}}}})
	return err
}

// Flush writes db's pending counts, as its next Stats would: another
// store on the same database sees them only after.
func Flush(db *DB) { db.flush(context.Background()) }
