package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tweetwire/tweetwire/server/stats"
)

// runStats is `tweetwire stats`: the statistics of an event, read from the
// same database the server uses. With the embedded store, stop the server
// first: the embedded database has one process at a time.
func runStats(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var cfg Config
	var event, format string
	fs := flag.NewFlagSet("tweetwire stats", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&event, "event", "", "the event to report (default: the latest)")
	fs.StringVar(&format, "format", "text", "text, json or csv")
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "the data directory of the embedded store")
	fs.StringVar(&cfg.MongoURI, "mongo-uri", "", "MongoDB to read (default: the embedded store under --data-dir)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: tweetwire stats [--event NAME] [--format text|json|csv] [--data-dir DIR | --mongo-uri URI]")
			return 0
		}
		fmt.Fprintf(stderr, "tweetwire stats: %v: run tweetwire stats --help to see the flags\n", err)
		return 2
	}
	if cfg.MongoURI == "" {
		cfg.MongoURI = getenv(envName("mongo-uri"))
	}
	if v := getenv(envName("data-dir")); v != "" && !flagGiven(fs, "data-dir") {
		cfg.DataDir = v
	}
	if !slices.Contains(stats.Formats, format) {
		fmt.Fprintf(stderr, "tweetwire stats: --format %q is not a format: use %s\n", format, strings.Join(stats.Formats, ", "))
		return 2
	}
	log := newLogger(stderr, "warn")
	db, err := openDatabase(ctx, cfg, log)
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

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
