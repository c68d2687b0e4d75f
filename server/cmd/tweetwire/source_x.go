package main

import (
	"flag"
	"log/slog"

	"github.com/tweetwire/tweetwire/server/source/x"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// --source x: the X API v2 filtered stream.
func init() {
	registerSource("x", liveSource{
		flags: func(fs *flag.FlagSet) func(Config, *slog.Logger) (tweet.Source, error) {
			var c x.Config
			// The token is better given in the environment: flags show
			// in the process list.
			fs.StringVar(&c.BearerToken, "x-bearer-token", "", "X app's Bearer Token for --source x; prefer the environment variable")
			fs.StringVar(&c.APIURL, "x-api-url", x.DefaultAPIURL, "base URL of the X API v2, for a proxy or a test server")
			fs.DurationVar(&c.StallTimeout, "x-stall-timeout", x.DefaultStallTimeout, "advanced: reconnect when the stream sends nothing, not even a keep-alive, for this long")
			return func(cfg Config, log *slog.Logger) (tweet.Source, error) {
				c := c
				c.Track = cfg.Track
				s, err := x.New(c, log)
				if err != nil {
					return nil, err
				}
				return s, nil
			}
		},
		env: map[string]string{"x-bearer-token": "X_BEARER_TOKEN"},
	})
}
