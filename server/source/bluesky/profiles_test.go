package bluesky

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// countingAppView answers getProfile for any DID whose handle is not
// "missing", and counts lookups per DID.
func countingAppView(t *testing.T) (*httptest.Server, func(did string) int) {
	var mu sync.Mutex
	n := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		did := r.URL.Query().Get("actor")
		mu.Lock()
		n[did]++
		mu.Unlock()
		if did == "did:plc:missing" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"InvalidRequest","message":"Profile not found"}`)
			return
		}
		json.NewEncoder(w).Encode(Profile{Handle: did[len("did:plc:"):] + ".bsky.social"})
	}))
	t.Cleanup(srv.Close)
	return srv, func(did string) int {
		mu.Lock()
		defer mu.Unlock()
		return n[did]
	}
}

func resolved(t *testing.T, l *lookup) *lookup {
	t.Helper()
	if l == nil {
		t.Fatal("no lookup started")
	}
	select {
	case <-l.done:
		return l
	case <-time.After(5 * time.Second):
		t.Fatal("lookup never finished")
		return nil
	}
}

func TestProfileCache(t *testing.T) {
	srv, lookups := countingAppView(t)
	client := &http.Client{}
	defer client.CloseIdleConnections()
	p := newProfiles(client, srv.URL, slog.New(slog.DiscardHandler))
	now := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.max = 2
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	if l := resolved(t, p.get("did:plc:alice")); !l.ok || l.profile.Handle != "alice.bsky.social" {
		t.Fatalf("alice resolved to %+v", l)
	}
	resolved(t, p.get("did:plc:alice"))
	if n := lookups("did:plc:alice"); n != 1 {
		t.Errorf("%d lookups of a cached profile, want 1", n)
	}

	t.Run("a failure is cached for a minute", func(t *testing.T) {
		if l := resolved(t, p.get("did:plc:missing")); l.ok {
			t.Fatal("a missing profile resolved")
		}
		resolved(t, p.get("did:plc:missing"))
		if n := lookups("did:plc:missing"); n != 1 {
			t.Errorf("%d lookups, want 1 within the minute", n)
		}
		now = now.Add(2 * time.Minute)
		resolved(t, p.get("did:plc:missing"))
		if n := lookups("did:plc:missing"); n != 2 {
			t.Errorf("%d lookups, want 2 after the minute", n)
		}
	})
	t.Run("an identity change forgets the profile", func(t *testing.T) {
		p.forget("did:plc:alice")
		resolved(t, p.get("did:plc:alice"))
		if n := lookups("did:plc:alice"); n != 2 {
			t.Errorf("%d lookups, want 2", n)
		}
	})
	t.Run("the least recently used profile goes first", func(t *testing.T) {
		// The cache holds 2: alice and missing; bob pushes out the
		// least recently used, missing.
		resolved(t, p.get("did:plc:alice"))
		resolved(t, p.get("did:plc:bob"))
		p.mu.Lock()
		_, hasAlice := p.cache["did:plc:alice"]
		_, hasMissing := p.cache["did:plc:missing"]
		size := p.lru.Len()
		p.mu.Unlock()
		if !hasAlice || hasMissing || size != 2 {
			t.Errorf("cache has alice %v, missing %v, size %d; want alice and bob", hasAlice, hasMissing, size)
		}
	})
}

// When the queue is full, get says so at once instead of blocking.
func TestProfileQueueFull(t *testing.T) {
	p := newProfiles(&http.Client{}, "http://127.0.0.1:1", slog.New(slog.DiscardHandler))
	// No workers run: the queue only fills.
	for i := range profileQueue {
		if p.get("did:plc:a"+string(rune('a'+i%26))+string(rune('a'+i/26))) == nil {
			t.Fatalf("lookup %d refused before the queue was full", i)
		}
	}
	done := make(chan *lookup)
	go func() { done <- p.get("did:plc:onemore") }()
	select {
	case l := <-done:
		if l != nil {
			t.Error("a lookup was queued past the limit")
		}
	case <-time.After(time.Second):
		t.Fatal("get blocked on a full queue")
	}
}
