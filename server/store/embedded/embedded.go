// Package embedded runs FerretDB in-process with its SQLite backend, so
// that Tweetwire stores posts without a MongoDB to install: the store
// package talks to it over the MongoDB wire protocol on a loopback port,
// exactly as it talks to a real MongoDB.
package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Config says where the embedded database keeps its files. Zero values
// mean "use the default".
type Config struct {
	// Dir holds the SQLite files (one per database); it is created if
	// missing. Required.
	Dir string
	// Addr is the loopback address to listen on (default
	// "127.0.0.1:0": any free port). Giving the address a previous Server
	// had lets clients reconnect to a restarted one.
	Addr string
	// Logger receives FerretDB's errors; its chatty lines (every
	// connection at info, every unsupported command such as the
	// driver's endSessions at warn) are dropped. Nil discards everything.
	Logger *slog.Logger
}

// newMu serialises ferretdb.New, which writes a process-wide variable
// (version.Get().Package = "embedded"): several servers in one process, as
// the end-to-end tests run them, would race on it.
var newMu sync.Mutex

// Server is a running FerretDB.
type Server struct {
	dir    string // absolute
	f      *ferretdb.FerretDB
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts FerretDB on cfg.Dir and returns once it accepts
// connections. Close it when done.
func Start(cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("embedded database: no directory given")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded database directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the embedded database directory: %w: check that the data directory is writable", err)
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	log := slog.New(slog.DiscardHandler)
	if cfg.Logger != nil {
		log = slog.New(quiet{cfg.Logger.Handler()})
	}
	// Built as a URL so that a directory with spaces or '%' survives:
	// FerretDB parses it as one. The trailing slash says "directory".
	sqliteURL := (&url.URL{Scheme: "file", Path: dir + "/"}).String()
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: cfg.Addr},
		Logger:    log,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	newMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("start the embedded database in %s on %s: %w", dir, cfg.Addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{dir: dir, f: f, cancel: cancel, done: make(chan struct{})}
	// New has already bound the port, so clients can connect as soon as
	// Start returns; Run serves them until Close.
	go func() {
		defer close(s.done)
		_ = f.Run(ctx) // it always returns nil
	}()
	return s, nil
}

// URI is the mongodb:// URI of the server.
func (s *Server) URI() string { return s.f.MongoDBURI() }

// Close stops the server. It waits for connected clients to hang up, for
// at most about three seconds (FerretDB's grace period): disconnect the
// driver first.
func (s *Server) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// quiet passes on only errors: FerretDB logs every connection at info
// level and every unsupported command at warn.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(attrs []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(attrs)} }
func (q quiet) WithGroup(name string) slog.Handler       { return quiet{q.Handler.WithGroup(name)} }

// StartTemp starts a server in a new temporary directory, for tests and
// benchmarks; stop closes it and removes the directory.
func StartTemp(prefix string) (srv *Server, stop func(), err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded database: temporary directory: %w", err)
	}
	srv, err = Start(Config{Dir: dir})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return srv, func() {
		_ = srv.Close()
		_ = os.RemoveAll(dir)
	}, nil
}
