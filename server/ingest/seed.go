package ingest

import (
	"context"
	"fmt"
	"slices"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Seed loads the event's n newest stored posts into the hub's history and
// marks them seen by p, so that backlog and since survive a restart and a
// source that repeats them does not broadcast them twice.
func Seed(ctx context.Context, db tweet.Store, event string, n int, h *hub.Hub, p *Pipeline) error {
	posts, err := db.Recent(ctx, event, n, "")
	if err != nil {
		return fmt.Errorf("load the newest posts: %w", err)
	}
	slices.Reverse(posts) // the hub wants oldest first
	msgs := make([]*hub.Message, 0, len(posts))
	ids := make([]string, 0, len(posts))
	for _, t := range posts {
		m, err := Encode(t)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
		ids = append(ids, t.ID)
	}
	h.Seed(msgs)
	p.Remember(ids...)
	return nil
}
