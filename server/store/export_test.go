package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SetIndexWindow sets how many of an event's newest posts db keeps in full,
// for indexes built from now on: small, it makes the tests read posts
// missing from the window.
func SetIndexWindow(db *DB, n int) {
	db.idx.mu.Lock()
	defer db.idx.mu.Unlock()
	db.idx.window = n
}

// Indexed reports whether db holds an index of event.
func Indexed(db *DB, event string) bool {
	db.idx.mu.RLock()
	defer db.idx.mu.RUnlock()
	_, ok := db.idx.events[event]
	return ok
}

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
