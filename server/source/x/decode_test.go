package x_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/x"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestDecodePosts(t *testing.T) {
	marta := func(tw tweet.Tweet) tweet.Tweet {
		tw.Source, tw.User, tw.Name = "x", "marta_codes", "Marta Kowalska"
		tw.Picture = "https://pbs.twimg.com/profile_images/1098765432101234567/aB3dE5fG_normal.jpg"
		return tw
	}
	tests := []struct {
		name  string
		file  string
		line  int
		want  tweet.Tweet
		rules []string
	}{
		{"a post with its author included", "normal.jsonl", 0, marta(tweet.Tweet{
			ID:        "x:1861121338611069906",
			Text:      "Doors are open at #GoConf! Coffee & stroopwafels in the hall, first talk at 10:00 → https://t.co/k3Yq9ZpXwA #golang",
			CreatedAt: time.Date(2026, 11, 25, 18, 2, 13, 0, time.UTC),
			Hashtags:  []string{"goconf", "golang"},
			Lang:      "en",
			URL:       "https://x.com/marta_codes/status/1861121338611069906",
			Entities: []tweet.Entity{
				{Kind: "hashtag", Start: 18, End: 25, Href: "https://x.com/hashtag/GoConf"},
				{Kind: "url", Start: 84, End: 107, Href: "https://goconf.example/schedule", Display: "goconf.example/schedule"},
				{Kind: "hashtag", Start: 108, End: 115, Href: "https://x.com/hashtag/golang"},
			},
		}), []string{"1861000000000000001"}},
		{"a long post shows note_tweet's full text and hashtags", "note_tweet.jsonl", 0, marta(tweet.Tweet{
			ID:        "x:1861121338611069910",
			Text:      "#GoConf keynote notes, a long thread in one post: the Go team walked through what changed since last year, how the release cycle works, why iterators landed the way they did, what the new toolchain directive does for reproducible builds, how they think about backwards compatibility & the GODEBUG settings, and #Generics",
			CreatedAt: time.Date(2026, 11, 25, 18, 10, 0, 0, time.UTC),
			Hashtags:  []string{"goconf", "generics"},
			Lang:      "en",
			URL:       "https://x.com/marta_codes/status/1861121338611069910",
			Entities: []tweet.Entity{
				{Kind: "hashtag", Start: 0, End: 7, Href: "https://x.com/hashtag/GoConf"},
				{Kind: "hashtag", Start: 311, End: 320, Href: "https://x.com/hashtag/Generics"},
			},
		}), []string{"1861000000000000001"}},
		{"a repost shows the original's full text", "retweet.jsonl", 0, tweet.Tweet{
			ID: "x:1861121338611069911", Source: "x", User: "jan", Name: "Jan",
			Picture:   "https://pbs.twimg.com/profile_images/17/j_normal.jpg",
			Text:      "RT @marta_codes: #GoConf keynote notes <3",
			CreatedAt: time.Date(2026, 11, 25, 18, 11, 0, 0, time.UTC),
			Hashtags:  []string{"goconf"},
			Lang:      "en",
			URL:       "https://x.com/jan/status/1861121338611069911",
			Retweet:   true,
			RepostOf: &tweet.Original{
				User: "marta_codes", Name: "Marta Kowalska", ID: "x:1861121338611069910",
				URL: "https://x.com/marta_codes/status/1861121338611069910", Reposts: 57,
			},
			Entities: []tweet.Entity{
				{Kind: "mention", Start: 3, End: 15, Href: "https://x.com/marta_codes"},
				{Kind: "hashtag", Start: 17, End: 24, Href: "https://x.com/hashtag/GoConf"},
			},
		}, []string{"1861000000000000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := x.Decode(sourcetest.FixtureLines(t, tt.file)[tt.line])
			if err != nil {
				t.Fatal(err)
			}
			if msg.Event.Kind != tweet.KindPost || msg.Event.ID != tt.want.ID {
				t.Fatalf("event %+v, want a post %s", msg.Event, tt.want.ID)
			}
			if !reflect.DeepEqual(msg.Event.Tweet, tt.want) {
				t.Errorf("post\n got %+v\nwant %+v", msg.Event.Tweet, tt.want)
			}
			if !reflect.DeepEqual(msg.RuleIDs, tt.rules) {
				t.Errorf("rules %v, want %v", msg.RuleIDs, tt.rules)
			}
		})
	}
}

func TestDecodeOtherMessages(t *testing.T) {
	t.Run("a delete event", func(t *testing.T) {
		msg, err := x.Decode(sourcetest.FixtureLines(t, "delete.jsonl")[0])
		if err != nil || !reflect.DeepEqual(msg.Event, tweet.Delete("x:1861121338611069906")) {
			t.Fatalf("Decode = %+v, %v", msg, err)
		}
	})
	t.Run("keep-alives", func(t *testing.T) {
		for _, line := range [][]byte{nil, []byte("\r"), []byte("  ")} {
			if msg, err := x.Decode(line); err != nil || !reflect.DeepEqual(msg, x.Message{}) {
				t.Errorf("Decode(%q) = %+v, %v", line, msg, err)
			}
		}
	})
	t.Run("an operational disconnect", func(t *testing.T) {
		msg, err := x.Decode(sourcetest.FixtureLines(t, "errors.jsonl")[0])
		if err != nil || msg.Event.Kind != 0 || len(msg.Problems) != 1 || !msg.Problems[0].Disconnect() {
			t.Fatalf("Decode = %+v, %v", msg, err)
		}
		if got := msg.Problems[0].String(); !strings.Contains(got, "operational reasons") {
			t.Errorf("problem reads %q", got)
		}
	})
	t.Run("a post whose author is missing is an error, whatever errors come with it", func(t *testing.T) {
		_, err := x.Decode(sourcetest.FixtureLines(t, "errors.jsonl")[1])
		if err == nil || !strings.Contains(err.Error(), "expansions=author_id") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an unknown message is ignored", func(t *testing.T) {
		if msg, err := x.Decode([]byte(`{"meta":{"sent":"now"}}`)); err != nil || msg.Event.Kind != 0 {
			t.Fatalf("Decode = %+v, %v", msg, err)
		}
	})
}

func TestDecodeMalformed(t *testing.T) {
	wants := []string{"not one complete", "not a JSON object", "not a JSON object", "not a number", "RFC 3339", "not one complete"}
	lines := sourcetest.FixtureLines(t, "malformed.jsonl")
	if len(lines) != len(wants) {
		t.Fatalf("%d lines, want %d", len(lines), len(wants))
	}
	for i, line := range lines {
		msg, err := x.Decode(line)
		if err == nil || !strings.Contains(err.Error(), wants[i]) {
			t.Errorf("line %d: err = %v, want one containing %q", i+1, err, wants[i])
		}
		if msg.Event.Kind != 0 {
			t.Errorf("line %d: an event with an error", i+1)
		}
	}
}

// TestDecodeRichPost reads a post in Persian with emoji, Japanese and
// escaped markup before its links (X counts offsets in code points of
// the escaped text; clients slice in UTF-16 units), two photos with alt
// text in includes.media, and a link whose expanded URL is javascript:.
func TestDecodeRichPost(t *testing.T) {
	msg, err := x.Decode(sourcetest.FixtureLines(t, "rich.jsonl")[0])
	if err != nil {
		t.Fatal(err)
	}
	sourcetest.CheckEvent(t, msg.Event, "x")
	tw := msg.Event.Tweet
	want := []string{
		"mention @Reza_Dev -> https://x.com/reza_dev",
		"hashtag #GoConf -> https://x.com/hashtag/GoConf",
		"url https://t.co/Sl1desXyZ0 -> https://goconf.example/ja/スライド [goconf.example/ja/スライド]",
		"url https://t.co/Ph0t0sAbC1 -> https://x.com/reza_dev/status/1861121338611069999/photo/1 [pic.x.com/Ph0t0sAbC1]",
	}
	if got := sourcetest.Links(t, tw); !reflect.DeepEqual(got, want) {
		t.Errorf("entities:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	wantMedia := []tweet.Media{
		{Type: "photo", URL: "https://pbs.twimg.com/media/GdFa1.jpg", Alt: "سالن کنفرانس پر از جمعیت 🎤", Width: 1600, Height: 900},
		{Type: "gif", URL: "https://pbs.twimg.com/tweet_video_thumb/GdFa2.jpg", Width: 480, Height: 270},
	}
	if !reflect.DeepEqual(tw.Media, wantMedia) {
		t.Errorf("Media = %+v\n\twant %+v", tw.Media, wantMedia)
	}
}
