package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // FerretDB's own SQLite driver, registered as "sqlite"
)

// PostIndex answers, straight from SQLite, the queries on the posts
// collection that FerretDB would answer by reading and decoding every
// document: the newest ids of an event, from a cursor on, and how many
// posts an event holds. It reads the database file FerretDB writes,
// through a pool of its own (FerretDB runs SQLite in WAL mode, so readers
// never block its writer), and adds two indexes to the collection's
// table:
//
//   - one on _ferretdb_sjson->'$._id', the very expression FerretDB 1.24
//     filters {_id: v} on. FerretDB's own _id index is built on
//     _ferretdb_sjson->"_id", which SQLite does not recognise as the same
//     expression, so without this one every lookup by _id (FindOne,
//     DeleteOne, paging's cursor) reads every row: about a second at
//     100,000 posts, half a millisecond with it.
//   - one on (event, created_at, _id), which RecentIDs and Count seek.
//
// FerretDB knows nothing of them (its index list lives in its metadata),
// keeps them current as SQLite does any index, and drops them with the
// table. They assume the documents store.DB writes: a string _id, a
// string event, and created_at a BSON date, which FerretDB's JSON
// ("sjson") holds as milliseconds since the epoch, so that SQL orders
// them as the store does: created_at, then _id, bytewise.
//
// The collection's table exists once FerretDB has created the collection
// (store.Open does, by creating its indexes), so PostIndex finds it, and
// builds its indexes, on first use: building them takes about two seconds
// on a store of 100,000 posts written before they existed, once.
type PostIndex struct {
	db         *sql.DB
	file       string
	collection string
	log        *slog.Logger

	mu    sync.Mutex
	table string // "" until found
}

// metadataTable is where FerretDB 1.24 (SQLite) maps collection names to
// table names (internal/backends/sqlite/metadata/registry.go).
const metadataTable = "_ferretdb_collections"

// PostIndex returns the PostIndex of the named collection in the named
// database of s. Close it when done, before s.
func (s *Server) PostIndex(database, collection string, log *slog.Logger) (*PostIndex, error) {
	return OpenPostIndex(filepath.Join(s.dir, database+".sqlite"), collection, log)
}

// OpenPostIndex opens the PostIndex of a collection kept in the SQLite
// file at path. It touches no file until first used.
func OpenPostIndex(path, collection string, log *slog.Logger) (*PostIndex, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// mode=rw: never create a file FerretDB has not (a wrong name must
	// fail, not answer "no posts"). busy_timeout: building the indexes
	// waits for FerretDB's writes, as FerretDB waits for it.
	u := url.URL{Scheme: "file", Path: path, RawQuery: "mode=rw&_pragma=busy_timeout(10000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open the post index of %s: %w", path, err)
	}
	// No connection is kept idle: a query cut short by its context (a
	// client gone, start-up's count abandoned) can leave its connection
	// inside a read transaction, and every later query on it would read
	// that old snapshot of the table, missing every post written since
	// (TestPostIndexSeesWritesAfterACanceledQuery). A fresh connection
	// per query costs far less than the lookups that follow it.
	db.SetMaxIdleConns(0)
	return &PostIndex{db: db, file: path, collection: collection, log: log}, nil
}

// Close closes the index's connections.
func (x *PostIndex) Close() error {
	return x.db.Close()
}

// Column expressions. idExpr must stay what FerretDB filters _id on
// (metadata.IDColumn); the others read the values out of the JSON.
const (
	idExpr      = `_ferretdb_sjson->'$._id'`
	idTextExpr  = `_ferretdb_sjson->>'$._id'`
	eventExpr   = `_ferretdb_sjson->>'$.event'`
	createdExpr = `_ferretdb_sjson->>'$.created_at'`
)

// prepare returns the collection's table, finding it and building the
// indexes on the first call that succeeds.
func (x *PostIndex) prepare(ctx context.Context) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.table != "" {
		return x.table, nil
	}
	var table string
	err := x.db.QueryRowContext(ctx, fmt.Sprintf("SELECT table_name FROM %q WHERE name = ?", metadataTable), x.collection).Scan(&table)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("the embedded database %s has no collection %q yet", x.file, x.collection)
	}
	if err != nil {
		return "", fmt.Errorf("find the table of collection %q in %s: %w", x.collection, x.file, err)
	}
	indexes := []struct{ name, columns string }{
		{table + "_tweetwire_id", idExpr},
		{table + "_tweetwire_recent", eventExpr + ", " + createdExpr + ", " + idTextExpr},
	}
	for _, ix := range indexes {
		var n int
		if err := x.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?", ix.name).Scan(&n); err != nil {
			return "", fmt.Errorf("look for index %s in %s: %w", ix.name, x.file, err)
		}
		if n > 0 {
			continue
		}
		start := time.Now()
		if _, err := x.db.ExecContext(ctx, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %q ON %q (%s)", ix.name, table, ix.columns)); err != nil {
			return "", fmt.Errorf("create index %s in %s: %w", ix.name, x.file, err)
		}
		x.log.Info("embedded database: indexed the posts for paging and counting", "index", ix.name, "took", time.Since(start).Round(time.Millisecond))
	}
	x.table = table
	return table, nil
}

// forget makes the next call look for the table again, after an error
// that may mean it is gone (the collection dropped and made anew).
func (x *PostIndex) forget(err error) {
	if err != nil && strings.Contains(err.Error(), "no such table") {
		x.mu.Lock()
		x.table = ""
		x.mu.Unlock()
	}
}

// RecentIDs returns the ids of up to limit of the event's posts, newest
// first (created_at, then _id, both descending). With beforeID set, it
// starts after the post (beforeAt, beforeID), which need not exist.
func (x *PostIndex) RecentIDs(ctx context.Context, event string, limit int, beforeAt time.Time, beforeID string) (ids []string, err error) {
	table, err := x.prepare(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { x.forget(err) }()
	args := []any{event}
	if beforeID != "" {
		at := beforeAt.UnixMilli()
		args = append(args, at, at, beforeID)
	}
	args = append(args, limit)
	rows, err := x.db.QueryContext(ctx, recentQuery(table, beforeID != ""), args...)
	if err != nil {
		return nil, fmt.Errorf("read the newest ids of event %q from %s: %w", event, x.file, err)
	}
	defer rows.Close()
	ids = make([]string, 0, min(limit, 1024))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read the newest ids of event %q from %s: %w", event, x.file, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the newest ids of event %q from %s: %w", event, x.file, err)
	}
	return ids, nil
}

// Count returns how many posts the event holds.
func (x *PostIndex) Count(ctx context.Context, event string) (n int64, err error) {
	table, err := x.prepare(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { x.forget(err) }()
	if err := x.db.QueryRowContext(ctx, countQuery(table), event).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the posts of event %q in %s: %w", event, x.file, err)
	}
	return n, nil
}

// recentQuery is the query of RecentIDs; its arguments are the event, with
// a cursor its time (twice) and id, then the limit.
func recentQuery(table string, cursor bool) string {
	q := fmt.Sprintf("SELECT %s FROM %q WHERE %s = ?", idTextExpr, table, eventExpr)
	if cursor {
		// The first term is the one SQLite seeks on (it takes no row
		// value, nor an OR, as a range); the second drops the posts of
		// the cursor's millisecond that do not come after it.
		q += fmt.Sprintf(" AND %[1]s <= ? AND (%[1]s < ? OR %[2]s < ?)", createdExpr, idTextExpr)
	}
	return q + fmt.Sprintf(" ORDER BY %s DESC, %s DESC LIMIT ?", createdExpr, idTextExpr)
}

// countQuery is the query of Count; its argument is the event.
func countQuery(table string) string {
	return fmt.Sprintf("SELECT count(*) FROM %q WHERE %s = ?", table, eventExpr)
}
