package bluesky_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/bluesky"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestDecodePosts(t *testing.T) {
	lines := sourcetest.FixtureLines(t, "normal.jsonl")
	want := []tweet.Tweet{{
		ID:        "bluesky:did:plc:eygmaihciaxprqvxpfvl6flk/3l3qo2vuowo2b",
		Source:    "bluesky",
		User:      "did:plc:eygmaihciaxprqvxpfvl6flk",
		Text:      "Going to #GoConf next week, who else? golang",
		CreatedAt: time.Date(2024, 9, 9, 19, 46, 2, 102e6, time.UTC),
		Hashtags:  []string{"goconf"},
		Lang:      "en",
		URL:       "https://bsky.app/profile/did:plc:eygmaihciaxprqvxpfvl6flk/post/3l3qo2vuowo2b",
		Entities:  []tweet.Entity{{Kind: "hashtag", Start: 9, End: 16, Href: "https://bsky.app/hashtag/GoConf"}},
	}, {
		ID:        "bluesky:did:plc:z72i7hdynmk6r22z27h6tvur/3l3qo2wb7hk2c",
		Source:    "bluesky",
		User:      "did:plc:z72i7hdynmk6r22z27h6tvur",
		Text:      "ゴーコン楽しみ 🎉 @alice.bsky.social",
		CreatedAt: time.Date(2024, 9, 9, 19, 46, 2, 300e6, time.UTC),
		Hashtags:  []string{"goconf", "gophers"}, // from record.tags
		Lang:      "ja",
		URL:       "https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/post/3l3qo2wb7hk2c",
		// Both facets' byte ranges split a character: no entities.
	}, {
		ID:     "bluesky:did:web:example.com/3l3qo2wc7hk2c",
		Source: "bluesky",
		User:   "did:web:example.com",
		Text:   "a clock in the future, and no langs",
		// A createdAt in the future gives way to Jetstream's time.
		CreatedAt: time.UnixMicro(1725911162500000).UTC(),
		Hashtags:  []string{},
		URL:       "https://bsky.app/profile/did:web:example.com/post/3l3qo2wc7hk2c",
	}}
	wantTimes := []int64{1725911162329308, 1725911162400000, 1725911162500000}
	for i, line := range lines {
		m, err := bluesky.Decode(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if m.Event.Kind != tweet.KindPost || m.Event.ID != want[i].ID {
			t.Errorf("line %d: event %v %q, want a post %q", i+1, m.Event.Kind, m.Event.ID, want[i].ID)
		}
		if !reflect.DeepEqual(m.Event.Tweet, want[i]) {
			t.Errorf("line %d:\n got %+v\nwant %+v", i+1, m.Event.Tweet, want[i])
		}
		if m.TimeUS != wantTimes[i] || m.DID != want[i].User {
			t.Errorf("line %d: time_us %d did %q", i+1, m.TimeUS, m.DID)
		}
	}
}

func TestDecodeDeleteAndOthers(t *testing.T) {
	m, err := bluesky.Decode(sourcetest.FixtureLines(t, "delete.jsonl")[0])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Event, tweet.Delete("bluesky:did:plc:eygmaihciaxprqvxpfvl6flk/3l3qo2vuowo2b")) {
		t.Errorf("delete decoded as %+v", m.Event)
	}
	tests := []struct {
		name     string
		identity bool
	}{
		{name: "identity", identity: true},
		{name: "account"},
		{name: "repost is another collection"},
		{name: "update is not shown"},
	}
	for i, line := range sourcetest.FixtureLines(t, "other.jsonl") {
		t.Run(tests[i].name, func(t *testing.T) {
			m, err := bluesky.Decode(line)
			if err != nil {
				t.Fatal(err)
			}
			if m.Event.Kind != 0 || m.Identity != tests[i].identity || m.TimeUS == 0 {
				t.Errorf("got %+v", m)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	wants := []string{"malformed record", "invalid rkey", "invalid did", "without a commit", "without a record", "not a Jetstream message"}
	for i, line := range sourcetest.FixtureLines(t, "malformed.jsonl") {
		m, err := bluesky.Decode(line)
		if err == nil || !strings.Contains(err.Error(), wants[i]) {
			t.Errorf("line %d: err = %v, want one with %q (message %+v)", i+1, err, wants[i], m)
		}
	}
}

// FuzzDecode feeds Decode arbitrary messages: it must never panic, and
// whatever it accepts must hold the tweet.Tweet invariants and give an id
// and a permalink that cannot be bent into another path.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"normal.jsonl", "delete.jsonl", "other.jsonl", "malformed.jsonl"} {
		for _, line := range sourcetest.FixtureLines(f, name) {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := bluesky.Decode(msg)
		if err != nil {
			if !reflect.DeepEqual(m, bluesky.Message{}) {
				t.Fatalf("error %v with message %+v", err, m)
			}
			return
		}
		if m.TimeUS < 0 {
			t.Fatalf("negative cursor %d", m.TimeUS)
		}
		if m.Event.Kind == 0 {
			return
		}
		rest, ok := strings.CutPrefix(m.Event.ID, "bluesky:did:")
		if !ok || strings.Count(rest, "/") != 1 || strings.ContainsAny(rest, " ?#\n") {
			t.Fatalf("id %q", m.Event.ID)
		}
		sourcetest.CheckEvent(t, m.Event, "bluesky")
		if tw := m.Event.Tweet; m.Event.Kind == tweet.KindPost {
			if tw.User != m.DID {
				t.Fatalf("post %+v", tw)
			}
			if !strings.HasPrefix(tw.URL, "https://bsky.app/profile/did:") || strings.Contains(tw.URL, "..") {
				t.Fatalf("URL %q", tw.URL)
			}
		}
	})
}

// TestDecodeRichPost reads posts whose facets count UTF-8 bytes through
// Arabic, emoji and Japanese, so that bytes, code points and the UTF-16
// units clients use all differ, with images (alt text, aspect ratio) and a
// link facet to a javascript: URI.
func TestDecodeRichPost(t *testing.T) {
	lines := sourcetest.FixtureLines(t, "rich.jsonl")
	m, err := bluesky.Decode(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	sourcetest.CheckEvent(t, m.Event, "bluesky")
	tw := m.Event.Tweet
	want := []string{
		"mention @layla.bsky.social -> https://bsky.app/profile/did:plc:layla000000000000000000",
		"hashtag #GoConf -> https://bsky.app/hashtag/GoConf",
		"url goconf.example/talks/… -> https://goconf.example/talks/concurrency-ل-الجميع",
	}
	if got := sourcetest.Links(t, tw); !reflect.DeepEqual(got, want) {
		t.Errorf("entities:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	const did = "did:plc:eygmaihciaxprqvxpfvl6flk"
	wantMedia := []tweet.Media{{
		Type:    "photo",
		URL:     "https://cdn.bsky.app/img/feed_fullsize/plain/" + did + "/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy@jpeg",
		Preview: "https://cdn.bsky.app/img/feed_thumbnail/plain/" + did + "/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy@jpeg",
		Alt:     "المسرح الرئيسي، شريحة عليها «Hello, 世界»",
		Width:   4032, Height: 3024,
	}}
	if !reflect.DeepEqual(tw.Media, wantMedia) {
		t.Errorf("Media = %+v\n\twant %+v", tw.Media, wantMedia)
	}

	// A quote post with a picture, whose CID tries to leave the CDN path.
	m, err = bluesky.Decode(lines[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Event.Tweet.Media; len(got) != 1 || got[0].Alt != "Gopher plush 🧸" || got[0].Width != 0 {
		t.Errorf("Media = %+v, want only the image with a valid CID, without a size", got)
	}
}
