package embedded

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// A query cut short by its context must not leave a connection that reads
// an old snapshot: posts inserted afterwards are seen.
func TestPostIndexSeesWritesAfterACanceledQuery(t *testing.T) {
	srv, coll := startWith(t, worldPosts()[:1])
	x := openIndex(t, srv, "tweetwire")
	event := worldPosts()[0].Event
	for i := range 40 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*50*time.Microsecond)
		_, _ = x.Count(ctx, event)
		_, _ = x.RecentIDs(ctx, event, 1000, time.Time{}, "")
		cancel()
	}
	for i := range 20 {
		p := worldPosts()[0]
		p.ID = fmt.Sprintf("late:%d", i)
		if _, err := coll.InsertOne(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		ids, err := x.RecentIDs(t.Context(), event, 1000, time.Time{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 21 {
			t.Fatalf("after 20 inserts the index lists %d posts, want 21", len(ids))
		}
	}
}
