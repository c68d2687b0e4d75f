package store

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestIndexMemory measures what the in-memory index costs per post, on
// 100,000 posts shaped like a busy event's (ids of 27 bytes, 5,000
// authors, 3 sources, 5 languages, 0–3 of 200 hashtags), added one by one
// as Save adds them. It checks a generous bound and logs the figure (go
// test -v).
func TestIndexMemory(t *testing.T) {
	const n = 100_000
	base := heap()
	at := time.Date(2024, 5, 17, 9, 0, 0, 0, time.UTC)
	docs := make([]statsDoc, n)
	for i := range docs {
		created := at.Add(time.Duration(i) * 97 * time.Millisecond)
		var tags []string
		for j := range i % 4 {
			tags = append(tags, fmt.Sprintf("tag%d", (i*7+j)%200))
		}
		source := []string{"twitter", "bluesky", "mastodon"}[i%3]
		docs[i] = statsDoc{
			ID: fmt.Sprintf("%s:%019d", source, 1_790_000_000_000_000_000+i), Source: source,
			Author: fmt.Sprintf("%s:user%d", source, i%5000), Lang: []string{"en", "fr", "de", "es", ""}[i%5],
			Hashtags: tags, Minute: floorDiv(created.Unix(), 60), Retweet: i%4 == 0, CreatedAt: created,
		}
	}
	// Window 0: the few thousand posts kept in full are a cost per
	// event, not per post.
	e := &eventIndex{byID: map[string]*statsDoc{}, docs: map[string]*postDoc{}}
	e.tally.init()
	for _, d := range docs {
		e.insert(d, &postDoc{ID: d.ID})
	}
	// The documents, as decoded by the scan, are garbage once indexed;
	// what stays is the index, ids included.
	docs = nil
	after := heap()
	perPost := float64(after-base) / n
	runtime.KeepAlive(e)
	t.Logf("in-memory index: %.0f bytes per post (%d posts, %.1f MiB)", perPost, e.count(), float64(after-base)/(1<<20))
	if perPost > 1024 {
		t.Errorf("the index takes %.0f bytes per post, want well under 1 KiB", perPost)
	}
}
