package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/tweetwire/tweetwire/server/app"
	"github.com/tweetwire/tweetwire/server/store/embedded"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// `tweetwire stats --recount` repairs the counters after a crash between a
// post's insert and its counter update: the plain report misses the post,
// the recount brings it in, and the report after it keeps it.
func TestStatsRecountRepairsAfterACrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := app.OpenDatabase(ctx, "", dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const event = "Café Gophers 🎉"
	start := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	if _, err := db.StartEvent(ctx, event, []string{"#go.dev"}, start); err != nil {
		t.Fatal(err)
	}
	for i, user := range []string{"zoë", "田中", "ليلى"} {
		p := tweet.Tweet{ID: "bluesky:" + user, Source: "bluesky", User: user, Text: "🎉 <b>go</b>", CreatedAt: start.Add(time.Duration(i) * time.Minute), Hashtags: []string{"go.dev"}, Lang: "en"}
		if err := db.Save(ctx, event, p); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close(ctx)

	// The crash: a post inserted as Save inserts it, its counters
	// never updated.
	emb, err := embedded.Start(embedded.Config{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(emb.URI()))
	if err != nil {
		t.Fatal(err)
	}
	at := start.Add(5 * time.Minute)
	_, err = client.Database("tweetwire").Collection("posts").InsertOne(ctx, bson.D{
		{Key: "_id", Value: "twitter:1"}, {Key: "event", Value: event}, {Key: "source", Value: "twitter"},
		{Key: "user", Value: "$Money.Bags"}, {Key: "author", Value: "twitter:$money.bags"}, {Key: "text", Value: "مرحبا"},
		{Key: "created_at", Value: at}, {Key: "hashtags", Value: bson.A{"go.dev", "$tsla"}}, {Key: "lang", Value: "ar"},
		{Key: "retweet", Value: true}, {Key: "minute", Value: at.Unix() / 60}, {Key: "hour", Value: at.Unix() / 3600},
	})
	_ = client.Disconnect(ctx)
	_ = emb.Close()
	if err != nil {
		t.Fatal(err)
	}

	report := func(args ...string) tweet.Stats {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append([]string{"stats", "--event", event, "--format", "json", "--data-dir", dir}, args...)
		if code := Main(ctx, args, func(string) string { return "" }, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		var s tweet.Stats
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("%v printed %q: %v", args, out.String(), err)
		}
		return s
	}
	if s := report(); s.Total != 3 || s.Retweets != 0 {
		t.Fatalf("before the recount: total %d, retweets %d; want the 3 counted posts and no retweet", s.Total, s.Retweets)
	}
	for _, s := range []tweet.Stats{report("--recount"), report()} {
		if s.Total != 4 || s.Retweets != 1 || s.Authors != 4 || s.Last == nil || s.Last.ID != "twitter:1" {
			t.Errorf("after the recount: total %d, retweets %d, authors %d, last %v; want 4, 1, 4 and twitter:1", s.Total, s.Retweets, s.Authors, s.Last)
		}
		if len(s.TopHashtags) != 2 || s.TopHashtags[0] != (tweet.Count{Key: "go.dev", Count: 4}) || s.TopHashtags[1] != (tweet.Count{Key: "$tsla", Count: 1}) {
			t.Errorf("after the recount: hashtags %v, want go.dev 4 and $tsla 1", s.TopHashtags)
		}
	}

	var out, errOut bytes.Buffer
	if code := Main(ctx, []string{"stats", "--recount", "--event", "nope", "--data-dir", dir}, func(string) string { return "" }, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `no event named "nope"`) {
		t.Errorf("--recount of an unknown event: exit %d %q", code, errOut.String())
	}
}
