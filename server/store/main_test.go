package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/store/embedded"
)

// shared is one embedded FerretDB for the tests that need no restart; each
// test gets a database of its own in it.
var shared *embedded.Server

func TestMain(m *testing.M) {
	srv, stop, err := embedded.StartTemp("tweetwire-store-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = srv
	code := m.Run()
	stop()
	os.Exit(code)
}

var dbSeq atomic.Int64

// openDB opens a fresh database on the shared server, with its PostIndex
// as the server opens it, closed at the end of the test.
func openDB(t *testing.T) *store.DB {
	t.Helper()
	return openAt(t, shared, freshName(t), true)
}

// freshName names a database no other test uses.
func freshName(t *testing.T) string {
	// A database name takes letters, digits and "_": the names of the
	// shared contract tests (tweettest) hold commas and more.
	safe := strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return '_'
	}, t.Name())
	name := fmt.Sprintf("t%d_%s", dbSeq.Add(1), safe)
	if len(name) > 60 {
		name = name[:60]
	}
	return name
}

// openAt opens the named database of srv, with its PostIndex if indexed
// (without, it reads as from a MongoDB: through the driver alone).
func openAt(t *testing.T, srv *embedded.Server, database string, indexed bool) *store.DB {
	t.Helper()
	cfg := store.Config{URI: srv.URI(), Database: database, Logger: testLogger(t)}
	if indexed {
		cfg.Index = postIndex(t, srv, database)
	}
	return openWith(t, cfg)
}

func postIndex(t *testing.T, srv *embedded.Server, database string) *embedded.PostIndex {
	t.Helper()
	x, err := srv.PostIndex(database, "posts", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Close() })
	return x
}

func openWith(t *testing.T, cfg store.Config) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return db
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
