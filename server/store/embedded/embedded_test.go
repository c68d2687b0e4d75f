package embedded_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/tweetwire/tweetwire/server/store/embedded"
)

func TestStart(t *testing.T) {
	tests := []struct {
		name string
		dir  string
	}{
		{name: "plain directory", dir: "data"},
		{name: "spaces and percent signs", dir: "my data/100% ferret"},
		{name: "missing parents are created", dir: "a/b/c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tt.dir)
			srv, err := embedded.Start(embedded.Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if !strings.HasPrefix(srv.URI(), "mongodb://127.0.0.1:") {
				t.Errorf("URI %q", srv.URI())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
			if err != nil {
				t.Fatal(err)
			}
			defer client.Disconnect(ctx)
			if _, err := client.Database("x").Collection("y").InsertOne(ctx, map[string]string{"_id": "1"}); err != nil {
				t.Fatalf("insert: %v", err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
			if len(files) == 0 {
				t.Errorf("no SQLite file in %s", dir)
			}
		})
	}
	t.Run("no directory", func(t *testing.T) {
		if _, err := embedded.Start(embedded.Config{}); err == nil {
			t.Fatal("Start without a directory succeeded")
		}
	})
}

// Several embedded stores start at once in one process (the end-to-end
// tests run several servers in one): under -race, this fails if starting
// one writes what another reads.
func TestStartConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			srv, err := embedded.Start(embedded.Config{Dir: t.TempDir()})
			if err != nil {
				t.Error(err)
				return
			}
			_ = srv.Close()
		})
	}
	wg.Wait()
}
