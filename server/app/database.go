package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tweetwire/tweetwire/server/metrics"
	"github.com/tweetwire/tweetwire/server/spool"
	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/store/embedded"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Database is the store and, without a MongoDB URI, the embedded server
// behind it.
type Database struct {
	*store.DB
	embedded *embedded.Server
	index    *embedded.PostIndex // with embedded
	// Kind is "mongodb" or "embedded", as /healthz says.
	Kind string
}

// OpenDatabase connects to the MongoDB at mongoURI or, when it is empty,
// starts the embedded store under dataDir and connects to that.
func OpenDatabase(ctx context.Context, mongoURI, dataDir string, log *slog.Logger) (*Database, error) {
	d := &Database{Kind: "mongodb"}
	uri := mongoURI
	var err error
	if uri == "" {
		dir := filepath.Join(dataDir, "db")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("cannot create the data directory %s: %w: pass a writable --data-dir", dir, err)
		}
		emb, err := embedded.Start(embedded.Config{Dir: dir, Logger: log.With("component", "ferretdb")})
		if err != nil {
			return nil, fmt.Errorf("cannot start the embedded store in %s: %w: check that no other tweetwire uses this --data-dir", dir, err)
		}
		d.embedded, d.Kind, uri = emb, "embedded", emb.URI()
	}
	cfg := store.Config{URI: uri, Logger: log.With("component", "store")}
	if d.embedded != nil {
		// FerretDB on SQLite would read every post to page, count or
		// list ids: the PostIndex answers those from SQLite's indexes.
		if d.index, err = d.embedded.PostIndex(store.DefaultDatabase, store.PostsCollection, log.With("component", "store")); err != nil {
			d.closeEmbedded()
			return nil, fmt.Errorf("cannot open the embedded store: %w", err)
		}
		cfg.Index = d.index
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		d.closeEmbedded()
		if mongoURI != "" {
			// The URI may hold a password: say where, not what.
			return nil, fmt.Errorf("cannot use the MongoDB at --mongo-uri: %w: check that it runs and the URI is right", err)
		}
		return nil, fmt.Errorf("cannot open the embedded store: %w", err)
	}
	d.DB = db
	return d, nil
}

func (d *Database) closeEmbedded() {
	if d.index != nil {
		_ = d.index.Close()
	}
	if d.embedded != nil {
		_ = d.embedded.Close()
	}
}

// Close closes the connection, then the embedded server: closed the other
// way round, FerretDB waits for the driver to go.
func (d *Database) Close(ctx context.Context) error {
	err := d.DB.Close(ctx)
	d.closeEmbedded()
	return err
}

// writePath is the store's write side: direct while the database answers,
// spooled to disk while it does not.
type writePath struct {
	queue  *spool.Spool
	writer *spool.Writer
}

func openWritePath(ctx context.Context, dataDir string, db tweet.Writer, log *slog.Logger) (*writePath, error) {
	dir := filepath.Join(dataDir, "spool")
	q, err := spool.Open(dir, spool.Config{})
	if err != nil {
		return nil, fmt.Errorf("cannot open the spool in %s: %w: pass a writable --data-dir", dir, err)
	}
	if n := q.Repaired(); n > 0 {
		log.Warn("spool: cut a record torn by a crash", "bytes", n)
	}
	w := spool.NewWriter(db, q, spool.WriterConfig{Logger: log.With("component", "spool")})
	if q.Len() > 0 {
		// Posts left by an outage before the last stop go in first, so
		// the backlog read next includes them. Whatever does not fit in
		// the time drains in the background.
		log.Info("spool: writing back posts left from before the restart", "posts", q.Len())
		drainCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = w.Drain(drainCtx)
		cancel()
	}
	return &writePath{queue: q, writer: w}, nil
}

// storedCounter counts the posts the database took, for /metrics.
type storedCounter struct {
	tweet.Writer
	m *metrics.Metrics
}

func (s storedCounter) Save(ctx context.Context, event string, t tweet.Tweet) error {
	err := s.Writer.Save(ctx, event, t)
	if err == nil {
		s.m.Stored()
	}
	return err
}
