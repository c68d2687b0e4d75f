package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// corpus describes the posts of a benchmark event.
type corpus struct {
	N     int
	Seed  uint64
	Start time.Time
	// Span is how long the event runs; posts are spread over it in the
	// order they arrive, with a few out of order as on a real stream.
	Span time.Duration
}

var (
	sources = []string{"twitter", "twitter", "twitter", "bluesky", "mastodon"}
	langs   = []string{"en", "en", "en", "en", "fr", "de", "es", "ja", "pt", ""}
	tags    = []string{
		"GopherCon", "golang", "go", "generics", "iter", "slog", "pgo", "wasm",
		"tinygo", "fuzz", "race", "gc", "sqlite", "mongodb", "ferretdb", "kubernetes",
		"grpc", "http3", "websocket", "ebpf", "observability", "testing", "tooling", "keynote",
		"lightningtalks", "hallwaytrack", "swag", "coffee", "lunch", "party",
		"rust", "zig", "ai", "llm", "security", "supplychain", "modules", "workspaces",
		"profiling", "benchmarks",
	}
	words = strings.Fields("the talk on generics was great and the slides are up now " +
		"who else is at the keynote today amazing demo of the new profiler " +
		"queue for coffee is long but worth it see you at the hallway track " +
		"just shipped our first service in go thanks to everyone here")
)

// posts returns the corpus in arrival order. It is deterministic: the same
// corpus gives the same posts. Authors number about N/20 with a few very
// active ones; hashtags, languages and reposts are skewed as on a real
// event wall.
func (c corpus) posts() []tweet.Tweet {
	r := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	nAuthors := max(c.N/20, 1)
	// Zipf draws 0..imax with small values most often: a few authors and
	// tags write or appear much more than the rest.
	authorZipf := rand.NewZipf(r, 1.1, 2, uint64(nAuthors-1))
	tagZipf := rand.NewZipf(r, 1.3, 1, uint64(len(tags)-1))
	out := make([]tweet.Tweet, 0, c.N)
	for i := range c.N {
		a := int(authorZipf.Uint64())
		source := sources[a%len(sources)]
		user := fmt.Sprintf("gopher%d", a)
		if a%7 == 0 {
			user = "Gopher" + user[len("gopher"):] // handles differ in case across posts
		}
		at := c.Start.Add(c.Span * time.Duration(i) / time.Duration(c.N))
		at = at.Add(time.Duration(r.IntN(20_000)-10_000) * time.Millisecond)
		var ht []string
		for range r.IntN(4) {
			ht = append(ht, tags[tagZipf.Uint64()])
		}
		var text strings.Builder
		for range 8 + r.IntN(30) {
			text.WriteString(words[r.IntN(len(words))])
			text.WriteByte(' ')
		}
		for _, h := range ht {
			text.WriteString("#" + h + " ")
		}
		id := fmt.Sprintf("%s:%d", source, 1_800_000_000_000_000_000+int64(i))
		out = append(out, tweet.Tweet{
			ID:        id,
			Source:    source,
			User:      user,
			Name:      fmt.Sprintf("Gopher Number %d", a),
			Picture:   fmt.Sprintf("https://pbs.example.com/profile_images/%d/avatar_normal.jpg", 1000+a),
			Text:      strings.TrimSpace(text.String()),
			CreatedAt: at.UTC(),
			Hashtags:  tweet.NormalizeHashtags(ht),
			Lang:      langs[r.IntN(len(langs))],
			URL:       fmt.Sprintf("https://%s.example.com/%s/status/%s", source, user, id[len(source)+1:]),
			Retweet:   r.IntN(10) < 3,
		})
	}
	return out
}
