// Package store keeps posts and events in MongoDB through the official
// driver (v2). The same code runs against a real MongoDB (--mongo-uri) and
// against the FerretDB that package embedded starts in-process, so every
// query stays within what both understand: no date operators, no $facet,
// one accumulator per $group. Whatever a statistic needs is computed when
// a post is inserted (its minute, its author key) or in Go afterwards.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Config tells Open where the database is. Zero values mean "use the
// default".
type Config struct {
	// URI is a mongodb:// or mongodb+srv:// URI; required.
	URI string
	// Database is the database name when the URI names none (default
	// DefaultDatabase).
	Database string
	// Timeout bounds finding a server for one operation and opening a
	// connection (default 5s); an operation's context may cut it shorter.
	Timeout time.Duration
	// Index, when set, answers the queries on post ids that the
	// database would answer by reading every post: package embedded's
	// PostIndex, since FerretDB on SQLite filters nothing but _id. Leave
	// it nil for MongoDB, whose own indexes (ensureIndexes) serve them.
	Index  PostIndex
	Logger *slog.Logger
}

// PostIndex answers, from indexes of its own, the queries on an event's
// post ids that Recent, IDs and Count need. Its answers are those of the
// database: it reads the same data, committed writes included. When it
// fails, the store answers through the driver instead: correct, but with
// a full scan on FerretDB.
type PostIndex interface {
	// RecentIDs returns the ids of up to limit of the event's posts,
	// newest first (created_at, then _id, both descending). With beforeID
	// set, it starts after the post (beforeAt, beforeID) in that order.
	RecentIDs(ctx context.Context, event string, limit int, beforeAt time.Time, beforeID string) ([]string, error)
	// Count returns how many posts the event holds.
	Count(ctx context.Context, event string) (int64, error)
}

// Collection names.
const (
	// PostsCollection holds the posts, which a PostIndex indexes.
	PostsCollection = "posts"
	eventsName      = "events"
	// statsName and edgesName: see counters.go.
)

// DefaultDatabase is the database used when neither Config nor the URI
// names one.
const DefaultDatabase = "tweetwire"

// DB is a tweet.Store backed by MongoDB.
type DB struct {
	client *mongo.Client
	posts  *mongo.Collection
	events *mongo.Collection
	// stats holds the statistics counters (counters.go).
	stats    *mongo.Collection
	edges    *mongo.Collection
	counters counterHealth
	// batch holds the counts of saved posts until flushLoop writes them
	// (batch.go); Close stops the loop and writes the rest.
	batch     batch
	stopFlush chan struct{}
	flushDone chan struct{}
	closeOnce sync.Once
	log       *slog.Logger
	// index is Config.Index; indexFailed says that it failed once
	// already, which is logged once.
	index       PostIndex
	indexFailed atomic.Bool
}

var _ tweet.Store = (*DB)(nil)

// Open connects to the database and makes sure its indexes exist. It
// fails on a malformed URI or an unreachable database: at startup, an
// error is better than a wall that silently stores nothing. (Once running,
// an outage is the spool's business.)
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.URI == "" {
		return nil, tweet.Errorf(tweet.EINVALID, "no MongoDB URI: give --mongo-uri (or MONGODB_URI), or leave both unset to use the embedded database")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	opts := options.Client().ApplyURI(cfg.URI).
		SetAppName("tweetwire").
		SetServerSelectionTimeout(cfg.Timeout).
		SetConnectTimeout(cfg.Timeout)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, tweet.Errorf(tweet.EINVALID, "bad MongoDB URI: %v: write it as mongodb://host:port/database", err)
	}
	name := cfg.Database
	if cs, err := connstring.Parse(cfg.URI); name == "" && err == nil {
		name = cs.Database
	}
	if name == "" {
		name = DefaultDatabase
	}
	d := client.Database(name)
	db := &DB{client: client, posts: d.Collection(PostsCollection), events: d.Collection(eventsName), stats: d.Collection(statsName), edges: d.Collection(edgesName), log: cfg.Logger, index: cfg.Index}
	if err := db.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	db.stopFlush, db.flushDone = make(chan struct{}), make(chan struct{})
	go db.flushLoop(db.stopFlush, db.flushDone)
	return db, nil
}

// ensureIndexes creates the indexes the queries rely on; creating an
// existing index is a no-op on MongoDB and FerretDB alike. They are
// created one by one: FerretDB 1.24 (SQLite) panics on a createIndexes
// that names two indexes it already has after a restart.
func (db *DB) ensureIndexes(ctx context.Context) error {
	for _, keys := range []bson.D{
		// Recent and Stats: newest first, within an event or across all.
		{{Key: "event", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}},
		{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}},
	} {
		if _, err := db.posts.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys}); err != nil {
			return classify("create indexes", err)
		}
	}
	// Stats reads an event's counter documents by event.
	if _, err := db.stats.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "event", Value: 1}}}); err != nil {
		return classify("create indexes", err)
	}
	return nil
}

// fromIndex runs q on the PostIndex, if there is one. ok is false when
// there is none, or when it failed for a reason of its own: the caller
// then answers through the driver. An error of the caller's context is
// returned as is, since the driver would fail alike.
func fromIndex[T any](ctx context.Context, db *DB, q func(PostIndex) (T, error)) (v T, ok bool, err error) {
	if db.index == nil {
		return v, false, nil
	}
	v, err = q(db.index)
	switch {
	case err == nil:
		return v, true, nil
	case ctx.Err() != nil:
		return v, true, err
	}
	// Every failure falls back, but only the first is logged: a broken
	// index would otherwise log on every request.
	if db.indexFailed.CompareAndSwap(false, true) {
		db.log.Warn("store: the post index failed, so reads go through the database, which is correct but scans every post of the event: "+
			"check the data directory, then restart", "err", err)
	}
	return v, false, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return classify("ping the database", db.client.Ping(ctx, nil))
}

// Close writes the pending counts of saved posts and disconnects, waiting
// for operations in flight until ctx is done.
func (db *DB) Close(ctx context.Context) error {
	db.closeOnce.Do(func() {
		close(db.stopFlush)
		<-db.flushDone
		db.flush(ctx)
	})
	if err := db.client.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("disconnect from the database: %w", err)
	}
	return nil
}

// errUnavailable is what an operation says when the database is down.
var errUnavailable = tweet.Errorf(tweet.EUNAVAILABLE, "the database is unavailable: check that MongoDB runs and that --mongo-uri is right, then try again")

// classify wraps a driver error with the domain code that says what the
// caller can do: wait (EUNAVAILABLE), fix the input (EINVALID), or report
// a bug (EINTERNAL).
func classify(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err):
		// The database answered too slowly, which is not the same as
		// being down: say what took too long, not where to find it.
		return fmt.Errorf("%s: %w: %w", op, tweet.Errorf(tweet.EUNAVAILABLE, "the database took too long to %s: it may be busy with a large event; try again in a moment", op), err)
	case unavailable(err):
		return fmt.Errorf("%s: %w: %w", op, errUnavailable, err)
	case invalid(err):
		return fmt.Errorf("%s: %w", op, tweet.Errorf(tweet.EINVALID, "the database refused the data: %v", err))
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// transientCodes are server error codes that go away once the server is
// back or a new primary is elected.
var transientCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	50,    // MaxTimeMSExpired
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
}

func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, mongo.ErrClientDisconnected) || errors.Is(err, topology.ErrPoolClosed) ||
		mongo.IsTimeout(err) || mongo.IsNetworkError(err) {
		return true
	}
	if errors.As(err, new(topology.ServerSelectionError)) || errors.As(err, new(topology.ConnectionError)) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		if se.HasErrorLabel("RetryableWriteError") || se.HasErrorLabel("TransientTransactionError") {
			return true
		}
		for _, code := range transientCodes {
			if se.HasErrorCode(code) {
				return true
			}
		}
	}
	return false
}

// invalidCodes are server error codes that the same document gets every
// time.
var invalidCodes = []int{
	2,     // BadValue
	9,     // FailedToParse
	14,    // TypeMismatch
	121,   // DocumentValidationFailure
	10334, // BSONObjectTooLarge
	17280, // KeyTooLong
}

func invalid(err error) bool {
	if errors.As(err, new(mongo.MarshalError)) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, code := range invalidCodes {
			if se.HasErrorCode(code) {
				return true
			}
		}
	}
	return false
}
