package main

import (
	"flag"
	"log/slog"

	"github.com/tweetwire/tweetwire/server/source/mastodon"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// --source mastodon: a Mastodon server's streaming API, a stream per
// tracked #hashtag and the public timeline for keywords.
func init() {
	registerSource("mastodon", liveSource{
		flags: func(fs *flag.FlagSet) func(Config, *slog.Logger) (tweet.Source, error) {
			var c mastodon.Config
			fs.StringVar(&c.URL, "mastodon-url", mastodon.DefaultURL, "Mastodon server to follow with --source mastodon")
			// The token is better given in the environment: flags show
			// in the process list.
			fs.StringVar(&c.Token, "mastodon-token", "", "access token (read:statuses scope) of an account on --mastodon-url for --source mastodon; prefer the environment variable")
			fs.DurationVar(&c.StallTimeout, "mastodon-stall-timeout", mastodon.DefaultStallTimeout, "advanced: reconnect when a stream sends nothing, not even a keep-alive, for this long")
			return func(cfg Config, log *slog.Logger) (tweet.Source, error) {
				c := c
				c.Track = cfg.Track
				s, err := mastodon.New(c, log)
				if err != nil {
					return nil, err
				}
				return s, nil
			}
		},
		env: map[string]string{"mastodon-token": "MASTODON_TOKEN"},
	})
}
