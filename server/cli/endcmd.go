package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tweetwire/tweetwire/server/app"
)

// endCommand is `tweetwire end`: records that an event ended, for an
// operator whose servers are stopped (a running server takes
// POST /api/event/end, which also stops its source). Stopping a server
// never ends its event.
func endCommand() storeCommand {
	var event, at string
	return storeCommand{
		name:  "end",
		usage: "end [--event NAME] [--at RFC3339] [--data-dir DIR | --mongo-uri URI]",
		flags: func(fs *flagSet) {
			fs.StringVar(&event, "event", "", "the event to end (default: the latest)")
			fs.StringVar(&at, "at", "", "when it ended, e.g. 2026-11-25T18:00:00Z (default: now)")
		},
		run: func(ctx context.Context, db *app.Database, stdout io.Writer) error {
			end := time.Now().UTC()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return usageError{fmt.Errorf("--at %q is not an RFC 3339 time: write it like 2026-11-25T18:00:00Z", at)}
				}
				end = t.UTC()
			}
			ev, err := db.Event(ctx, event)
			if err != nil {
				return err
			}
			if ev, err = db.EndEvent(ctx, ev.Name, end); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "event %q ended at %s\n", ev.Name, ev.End.Format(time.RFC3339))
			return nil
		},
	}
}
