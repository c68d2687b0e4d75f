package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tweetwire/tweetwire/server/app"
	"github.com/tweetwire/tweetwire/server/stats"
)

// runStats is `tweetwire stats`: the statistics of an event, read from the
// same database the server uses. With the embedded store, stop the server
// first: the embedded database has one process at a time.
func runStats(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var event, format, dataDir, mongoURI string
	fs := newFlagSet("tweetwire stats")
	fs.StringVar(&event, "event", "", "the event to report (default: the latest)")
	fs.StringVar(&format, "format", "text", "text, json or csv")
	fs.StringVar(&dataDir, "data-dir", "./data", "the data directory of the embedded store")
	fs.StringVar(&mongoURI, "mongo-uri", "", "MongoDB to read (default: the embedded store under --data-dir)")
	fs.env("mongo-uri", "MONGODB_URI")
	// Only the store's variables: TWEETWIRE_EVENT names the event the
	// server records, not the one to report.
	if err := fs.parse(args, storeVariables(getenv)); err != nil {
		if errors.Is(err, ErrHelp) {
			fmt.Fprintln(stdout, "Usage: tweetwire stats [--event NAME] [--format text|json|csv] [--data-dir DIR | --mongo-uri URI]")
			fs.printFlags(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "tweetwire stats: %v\n", err)
		return 2
	}
	if !slices.Contains(stats.Formats, format) {
		fmt.Fprintf(stderr, "tweetwire stats: --format %q is not a format: use %s\n", format, strings.Join(stats.Formats, ", "))
		return 2
	}
	log := newLogger(stderr, "warn")
	db, err := app.OpenDatabase(ctx, mongoURI, dataDir, log)
	if err != nil {
		fmt.Fprintf(stderr, "tweetwire stats: %v\n", err)
		return 1
	}
	defer db.Close(context.WithoutCancel(ctx))
	s, err := db.Stats(ctx, event)
	if err != nil {
		fmt.Fprintf(stderr, "tweetwire stats: %v\n", err)
		return 1
	}
	if err := stats.Write(stdout, s, format); err != nil {
		fmt.Fprintf(stderr, "tweetwire stats: %v\n", err)
		return 1
	}
	return 0
}

// storeVariables passes on only the environment variables that say where
// the store is.
func storeVariables(getenv func(string) string) func(string) string {
	return func(name string) string {
		switch name {
		case "MONGODB_URI", "TWEETWIRE_DATA_DIR":
			return getenv(name)
		}
		return ""
	}
}
