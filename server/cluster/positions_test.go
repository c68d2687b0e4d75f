package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFilePositions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bsky := NewFilePositions(dir, "GoConf", "bluesky")
	x := NewFilePositions(dir, "GoConf", "x")
	if pos, err := bsky.Load(ctx); pos != "" || err != nil {
		t.Fatalf("before any save: %q, %v; want nothing", pos, err)
	}
	if err := bsky.Save(ctx, "1700000000000000"); err != nil {
		t.Fatal(err)
	}
	if err := x.Save(ctx, "2026-11-26T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if err := bsky.Save(ctx, "1700000000000042"); err != nil {
		t.Fatal(err)
	}
	// Another source, or another event, has a position of its own.
	for p, want := range map[FilePositions]string{
		bsky: "1700000000000042", x: "2026-11-26T00:00:00Z", NewFilePositions(dir, "Other", "bluesky"): "",
	} {
		if got, err := p.Load(ctx); got != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", p.key, got, err, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".positions-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}

	// A damaged file is reported, and the next save replaces it.
	if err := os.WriteFile(bsky.path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bsky.Load(ctx); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("load of a damaged file: %v; want an error saying what to do", err)
	}
	if err := bsky.Save(ctx, "1700000000000099"); err != nil {
		t.Fatal(err)
	}
	if got, err := bsky.Load(ctx); got != "1700000000000099" || err != nil {
		t.Fatalf("after replacing a damaged file: %q, %v", got, err)
	}
}
