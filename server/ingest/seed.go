package ingest

import (
	"context"
	"fmt"
	"slices"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Seed loads the event's n newest stored posts into the hub's history, so
// that backlog and since survive a restart, and marks every stored post
// of the event seen by p (as many as p remembers: the newest), so that a
// source that repeats them does not broadcast them twice.
func Seed(ctx context.Context, db tweet.Store, event string, n int, h *hub.Hub, p *Pipeline) error {
	ids, err := db.IDs(ctx, event, p.remember)
	if err != nil {
		return fmt.Errorf("load the ids of the stored posts: %w", err)
	}
	slices.Reverse(ids) // oldest first: the newest are forgotten last
	p.Remember(ids...)
	posts, err := db.Recent(ctx, event, n, "")
	if err != nil {
		return fmt.Errorf("load the newest posts: %w", err)
	}
	slices.Reverse(posts) // the hub wants oldest first
	msgs := make([]*hub.Message, 0, len(posts))
	for _, t := range posts {
		m, err := Encode(t)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	h.Seed(msgs)
	return nil
}
