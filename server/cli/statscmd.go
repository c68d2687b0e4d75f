package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tweetwire/tweetwire/server/app"
	"github.com/tweetwire/tweetwire/server/stats"
)

// statsCommand is `tweetwire stats`: the statistics of an event, read from
// the same database the server uses. With --recount it first rebuilds the
// event's counters from one scan of its posts: the repair for counters
// that missed a write (a crash between a post's insert and its counter
// update, or a failed update, which the server logs).
func statsCommand() storeCommand {
	var event, format string
	var recount bool
	return storeCommand{
		name:  "stats",
		usage: "stats [--event NAME] [--format text|json|csv] [--recount] [--data-dir DIR | --mongo-uri URI]",
		flags: func(fs *flagSet) {
			fs.StringVar(&event, "event", "", "the event to report (default: the latest)")
			fs.StringVar(&format, "format", "text", "text, json or csv")
			fs.BoolVar(&recount, "recount", false, "rebuild the event's statistics counters from its posts first (one scan of them), after a crash or a logged counter failure")
		},
		run: func(ctx context.Context, db *app.Database, stdout io.Writer) error {
			if !slices.Contains(stats.Formats, format) {
				return usageError{fmt.Errorf("--format %q is not a format: use %s", format, strings.Join(stats.Formats, ", "))}
			}
			if recount {
				ev, err := db.Recount(ctx, event)
				if err != nil {
					return err
				}
				// The report that follows is read from the rebuilt
				// counters, of the same event even if a newer one
				// starts meanwhile.
				event = ev.Name
			}
			s, err := db.Stats(ctx, event)
			if err != nil {
				return err
			}
			return stats.Write(stdout, s, format)
		},
	}
}
