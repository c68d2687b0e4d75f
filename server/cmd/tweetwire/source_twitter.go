package main

import (
	"flag"
	"log/slog"

	"github.com/tweetwire/tweetwire/server/source/twitter"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// --source twitter: Twitter's v1.1 filter stream, through anaconda.
func init() {
	registerSource("twitter", liveSource{
		flags: func(fs *flag.FlagSet) func(Config, *slog.Logger) (tweet.Source, error) {
			var c twitter.Config
			// Secrets are better given in the environment: flags show
			// in the process list.
			fs.StringVar(&c.ConsumerKey, "twitter-consumer-key", "", "Twitter app's API key (OAuth 1.0a consumer key) for --source twitter")
			fs.StringVar(&c.ConsumerSecret, "twitter-consumer-secret", "", "Twitter app's API key secret for --source twitter; prefer the environment variable")
			fs.StringVar(&c.AccessToken, "twitter-access-token", "", "Twitter user's access token for --source twitter")
			fs.StringVar(&c.AccessSecret, "twitter-access-secret", "", "Twitter user's access token secret for --source twitter; prefer the environment variable")
			fs.StringVar(&c.StreamURL, "twitter-stream-url", twitter.DefaultStreamURL, "base URL of the v1.1 streaming API, for a proxy or a test server")
			fs.DurationVar(&c.StallTimeout, "twitter-stall-timeout", twitter.DefaultStallTimeout, "advanced: reconnect when the stream sends nothing, not even a keep-alive, for this long")
			return func(cfg Config, log *slog.Logger) (tweet.Source, error) {
				c := c
				c.Track = cfg.Track
				s, err := twitter.New(c, log)
				if err != nil {
					return nil, err
				}
				return s, nil
			}
		},
		env: map[string]string{
			"twitter-consumer-key":    "TWITTER_CONSUMER_KEY",
			"twitter-consumer-secret": "TWITTER_CONSUMER_SECRET",
			"twitter-access-token":    "TWITTER_ACCESS_TOKEN",
			"twitter-access-secret":   "TWITTER_ACCESS_SECRET",
		},
	})
}
