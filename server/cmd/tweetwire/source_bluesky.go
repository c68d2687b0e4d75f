package main

import (
	"flag"
	"log/slog"

	"github.com/tweetwire/tweetwire/server/source/bluesky"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// --source bluesky: every new Bluesky post through Jetstream, matched
// against --track here. It needs no account.
func init() {
	registerSource("bluesky", liveSource{
		flags: func(fs *flag.FlagSet) func(Config, *slog.Logger) (tweet.Source, error) {
			var c bluesky.Config
			fs.StringVar(&c.JetstreamURL, "bluesky-jetstream-url", bluesky.DefaultJetstreamURL, "Jetstream instance for --source bluesky (ws:// or wss://), for another region, a proxy or a test server")
			fs.StringVar(&c.AppViewURL, "bluesky-appview-url", bluesky.DefaultAppViewURL, "Bluesky AppView whose public getProfile gives authors' handles, names and avatars")
			fs.DurationVar(&c.StallTimeout, "bluesky-stall-timeout", bluesky.DefaultStallTimeout, "advanced: reconnect when Jetstream sends nothing, not even a ping, for this long")
			return func(cfg Config, log *slog.Logger) (tweet.Source, error) {
				c := c
				c.Track = cfg.Track
				s, err := bluesky.New(c, log)
				if err != nil {
					return nil, err
				}
				return s, nil
			}
		},
	})
}
