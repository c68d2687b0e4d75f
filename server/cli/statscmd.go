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
// the same database the server uses.
func statsCommand() storeCommand {
	var event, format string
	return storeCommand{
		name:  "stats",
		usage: "stats [--event NAME] [--format text|json|csv] [--data-dir DIR | --mongo-uri URI]",
		flags: func(fs *flagSet) {
			fs.StringVar(&event, "event", "", "the event to report (default: the latest)")
			fs.StringVar(&format, "format", "text", "text, json or csv")
		},
		run: func(ctx context.Context, db *app.Database, stdout io.Writer) error {
			if !slices.Contains(stats.Formats, format) {
				return usageError{fmt.Errorf("--format %q is not a format: use %s", format, strings.Join(stats.Formats, ", "))}
			}
			s, err := db.Stats(ctx, event)
			if err != nil {
				return err
			}
			return stats.Write(stdout, s, format)
		},
	}
}
