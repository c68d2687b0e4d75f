package main

import (
	"flag"
	"log/slog"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// liveSource is a --source value beyond demo and replay: its own flags, and
// how to build it from them. Each live source registers itself from a file
// of its own (source_<name>.go), so main.go and config.go need not change
// when one is added.
type liveSource struct {
	// flags registers the source's flags on fs and returns the function
	// that builds the source from their values once parsed. It is called
	// for every parse, so the values live in the closure, not in globals.
	flags func(fs *flag.FlagSet) func(cfg Config, log *slog.Logger) (tweet.Source, error)
	// env names the environment variables of flags that do not follow
	// TWEETWIRE_<FLAG>, such as the services' own credential names.
	env map[string]string
}

// liveSources holds the registered live sources by --source name.
var liveSources = map[string]liveSource{}

func registerSource(name string, s liveSource) {
	if _, dup := liveSources[name]; dup {
		panic("source registered twice: " + name)
	}
	liveSources[name] = s
	for flagName, env := range s.env {
		envNames[flagName] = env
	}
}
