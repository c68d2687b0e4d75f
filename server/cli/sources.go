package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/tweetwire/tweetwire/server/source/bluesky"
	"github.com/tweetwire/tweetwire/server/source/demo"
	"github.com/tweetwire/tweetwire/server/source/mastodon"
	"github.com/tweetwire/tweetwire/server/source/replay"
	"github.com/tweetwire/tweetwire/server/source/twitter"
	"github.com/tweetwire/tweetwire/server/source/x"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// sourceKind is one --source value: the flags it adds, and how to build
// the source from them. Adding a source is one entry in sourceKinds; main
// and the application do not change.
type sourceKind struct {
	name string
	// flags declares the source's flags on fs, each with the Config field
	// it sets, and returns the function that builds the source once they
	// are parsed. It is called for every parse, so the values live in the
	// closure, not in globals.
	flags func(fs *sourceFlags) buildSource
}

// buildSource makes a source from its parsed flags and what every source
// is told. Its errors name Config fields (*tweet.FieldError); sourceFlags
// turns them into flag names.
type buildSource func(common sourceCommon) (tweet.Source, error)

// sourceCommon is what every source is given besides its own flags.
type sourceCommon struct {
	Track  []string
	Logger *slog.Logger
}

// sourceKinds lists every source, in the order --help names them.
var sourceKinds = []sourceKind{
	{name: "demo", flags: demoFlags},
	{name: "replay", flags: replayFlags},
	{name: "twitter", flags: twitterFlags},
	{name: "x", flags: xFlags},
	{name: "bluesky", flags: blueskyFlags},
	{name: "mastodon", flags: mastodonFlags},
}

// sourceNames is "demo, replay, …, or mastodon", for usage and errors.
func sourceNames() string {
	names := make([]string, len(sourceKinds))
	for i, k := range sourceKinds {
		names[i] = k.name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// --source demo: generated posts, for trying Tweetwire without an account.
func demoFlags(fs *sourceFlags) buildSource {
	var c demo.Config
	fs.Float64Var(&c.Rate, "Rate", "demo-rate", 1, fmt.Sprintf("posts per second from the demo source, at most %d (0 means 1)", demo.MaxRate))
	return func(common sourceCommon) (tweet.Source, error) {
		c := c
		c.Track, c.Logger = common.Track, common.Logger
		return demo.New(c)
	}
}

// --source replay: a file of Twitter v1.1 JSON lines, played back.
func replayFlags(fs *sourceFlags) buildSource {
	var c replay.Config
	fs.StringVar(&c.Path, "Path", "replay-file", "", "file of Twitter v1.1 JSON lines to play with --source replay")
	fs.Float64Var(&c.Rate, "Rate", "replay-rate", 5, "replayed posts per second (0 = as fast as possible)")
	fs.BoolVar(&c.Loop, "Loop", "replay-loop", false, "start the replay file again when it ends")
	return func(common sourceCommon) (tweet.Source, error) {
		c := c
		c.Logger = common.Logger
		return replay.New(c)
	}
}

// --source twitter: Twitter's v1.1 filter stream, through anaconda.
func twitterFlags(fs *sourceFlags) buildSource {
	var c twitter.Config
	// Secrets are better given in the environment: flags show in the
	// process list.
	fs.StringVar(&c.ConsumerKey, "ConsumerKey", "twitter-consumer-key", "", "Twitter app's API key (OAuth 1.0a consumer key) for --source twitter").env("TWITTER_CONSUMER_KEY")
	fs.StringVar(&c.ConsumerSecret, "ConsumerSecret", "twitter-consumer-secret", "", "Twitter app's API key secret for --source twitter; prefer the environment variable").env("TWITTER_CONSUMER_SECRET")
	fs.StringVar(&c.AccessToken, "AccessToken", "twitter-access-token", "", "Twitter user's access token for --source twitter").env("TWITTER_ACCESS_TOKEN")
	fs.StringVar(&c.AccessSecret, "AccessSecret", "twitter-access-secret", "", "Twitter user's access token secret for --source twitter; prefer the environment variable").env("TWITTER_ACCESS_SECRET")
	fs.StringVar(&c.StreamURL, "StreamURL", "twitter-stream-url", twitter.DefaultStreamURL, "base URL of the v1.1 streaming API, for a proxy or a test server")
	fs.DurationVar(&c.StallTimeout, "StallTimeout", "twitter-stall-timeout", twitter.DefaultStallTimeout, "advanced: reconnect when the stream sends nothing, not even a keep-alive, for this long")
	return func(common sourceCommon) (tweet.Source, error) {
		c := c
		c.Track, c.Logger = common.Track, common.Logger
		return twitter.New(c)
	}
}

// --source x: the X API v2 filtered stream.
func xFlags(fs *sourceFlags) buildSource {
	var c x.Config
	// The token is better given in the environment: flags show in the
	// process list.
	fs.StringVar(&c.BearerToken, "BearerToken", "x-bearer-token", "", "X app's Bearer Token for --source x; prefer the environment variable").env("X_BEARER_TOKEN")
	fs.StringVar(&c.APIURL, "APIURL", "x-api-url", x.DefaultAPIURL, "base URL of the X API v2, for a proxy or a test server")
	fs.DurationVar(&c.StallTimeout, "StallTimeout", "x-stall-timeout", x.DefaultStallTimeout, "advanced: reconnect when the stream sends nothing, not even a keep-alive, for this long")
	return func(common sourceCommon) (tweet.Source, error) {
		c := c
		c.Track, c.Logger = common.Track, common.Logger
		return x.New(c)
	}
}

// --source bluesky: every new Bluesky post through Jetstream, matched
// against --track here. It needs no account.
func blueskyFlags(fs *sourceFlags) buildSource {
	var c bluesky.Config
	fs.StringVar(&c.JetstreamURL, "JetstreamURL", "bluesky-jetstream-url", bluesky.DefaultJetstreamURL, "Jetstream instance for --source bluesky (ws:// or wss://), for another region, a proxy or a test server")
	fs.StringVar(&c.AppViewURL, "AppViewURL", "bluesky-appview-url", bluesky.DefaultAppViewURL, "Bluesky AppView whose public getProfile gives authors' handles, names and avatars")
	fs.DurationVar(&c.StallTimeout, "StallTimeout", "bluesky-stall-timeout", bluesky.DefaultStallTimeout, "advanced: reconnect when Jetstream sends nothing, not even a ping, for this long")
	return func(common sourceCommon) (tweet.Source, error) {
		c := c
		c.Track, c.Logger = common.Track, common.Logger
		return bluesky.New(c)
	}
}

// --source mastodon: a Mastodon server's streaming API, a stream per
// tracked #hashtag and the public timeline for keywords.
func mastodonFlags(fs *sourceFlags) buildSource {
	var c mastodon.Config
	fs.StringVar(&c.URL, "URL", "mastodon-url", mastodon.DefaultURL, "Mastodon server to follow with --source mastodon")
	// The token is better given in the environment: flags show in the
	// process list.
	fs.StringVar(&c.Token, "Token", "mastodon-token", "", "access token (read:statuses scope) of an account on --mastodon-url for --source mastodon; prefer the environment variable").env("MASTODON_TOKEN")
	fs.DurationVar(&c.StallTimeout, "StallTimeout", "mastodon-stall-timeout", mastodon.DefaultStallTimeout, "advanced: reconnect when a stream sends nothing, not even a keep-alive, for this long")
	return func(common sourceCommon) (tweet.Source, error) {
		c := c
		c.Track, c.Logger = common.Track, common.Logger
		return mastodon.New(c)
	}
}
