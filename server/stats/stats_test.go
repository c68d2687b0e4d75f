package stats_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/stats"
	"github.com/tweetwire/tweetwire/server/tweet"
)

var t0 = time.Date(2024, 5, 17, 9, 0, 0, 0, time.UTC)

func sample() tweet.Stats {
	first := tweet.Tweet{ID: "twitter:1", User: "ada", CreatedAt: t0.Add(5 * time.Second), Hashtags: []string{}}
	last := tweet.Tweet{ID: "demo:9", User: "bob", CreatedAt: t0.Add(2*time.Minute + time.Second), Hashtags: []string{}}
	return tweet.Stats{
		Event:        tweet.Event{Name: "gophercon", Terms: []string{"#gophercon", "golang"}, Start: t0},
		Total:        7,
		Authors:      3,
		Retweets:     2,
		RetweetShare: 2.0 / 7,
		Sources:      []tweet.Count{{Key: "twitter", Count: 5}, {Key: "demo", Count: 2}},
		Langs:        []tweet.Count{{Key: "en", Count: 6}, {Key: "und", Count: 1}},
		TopAuthors:   []tweet.AuthorCount{{Source: "twitter", User: "ada", Count: 4}, {Source: "demo", User: "bob", Count: 1}},
		TopHashtags:  []tweet.Count{{Key: "go", Count: 5}, {Key: "goconf", Display: "GoConf", Count: 2}, {Key: "evil\x1b[2Jtag", Count: 1}, {Key: "=cmd|'/c calc'!A1", Count: 1}},
		TopPosts: []tweet.PostCount{
			{ID: "twitter:100", Source: "twitter", User: "carmen_go", Name: "Carmen 🐹", Text: "¡Increíble la charla sobre genéricos en #GoConf! Por fin entiendo los type sets\x1b[2J", URL: "https://twitter.com/carmen_go/status/100", Reposts: 1284, Seen: 2, Reported: 1284},
			{ID: "mastodon:host:7", Source: "mastodon", User: "layla", Text: "مرحبا", Reposts: 1, Seen: 1},
		},
		Timeline: []tweet.MinuteCount{
			{Minute: t0, Count: 4}, {Minute: t0.Add(time.Minute), Count: 0}, {Minute: t0.Add(2 * time.Minute), Count: 3},
		},
		Peak:  tweet.MinuteCount{Minute: t0, Count: 4},
		First: &first,
		Last:  &last,
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name  string
		stats tweet.Stats
		want  []string
		never []string
	}{
		{
			name:  "running event",
			stats: sample(),
			want: []string{
				"gophercon (running since 2024-05-17 09:00 UTC)",
				"#gophercon, golang",
				"Posts", "7",
				"2 (28.6%)",
				"4 posts in the minute from 2024-05-17 09:00 UTC",
				"@ada (twitter)",
				"#go ",
				"#GoConf ",
				"twitter:100 by @carmen_go: ¡Increíble la charla sobre genéricos en #GoConf! Por fin en…  1284",
				"mastodon:host:7 by @layla: مرحبا",
				"2024-05-17 09:01  0",
				"########################################", // the peak's full bar
			},
			never: []string{"\x1b"},
		},
		{
			name:  "ended event without posts",
			stats: tweet.Stats{Event: tweet.Event{Name: "quiet", Start: t0, End: t0.Add(time.Hour)}},
			want:  []string{"quiet (2024-05-17 09:00 UTC to 2024-05-17 10:00 UTC)", "Posts", "0"},
			never: []string{"Top authors", "Peak", "Most reposted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := stats.Write(&b, tt.stats, "text"); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %q in:\n%s", n, out)
				}
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	in := sample()
	if err := stats.Write(&b, in, "json"); err != nil {
		t.Fatal(err)
	}
	var out tweet.Stats
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("JSON round trip changed the stats:\n in %+v\nout %+v", in, out)
	}
	if strings.Contains(b.String(), `"end"`) {
		t.Errorf("a running event has an end in JSON: %s", b.String())
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := stats.Write(&b, sample(), "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("not valid CSV: %v", err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if len(r) != 3 {
			t.Fatalf("row %q has %d cells", r, len(r))
		}
		got[r[0]+"/"+r[1]] = r[2]
	}
	for key, want := range map[string]string{
		"section/key":                 "value",
		"event/name":                  "gophercon",
		"summary/posts":               "7",
		"summary/retweet_share":       "0.2857",
		"summary/peak_minute":         "2024-05-17T09:00:00Z",
		"source/twitter":              "5",
		"lang/und":                    "1",
		"author/twitter:ada":          "4",
		"hashtag/go":                  "5",
		"reposted/twitter:100":        "1284",
		"minute/2024-05-17T09:01:00Z": "0",
		"minute/2024-05-17T09:02:00Z": "3",
	} {
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
	// A key a spreadsheet would run as a formula is defused.
	for _, r := range rows {
		if strings.HasPrefix(r[1], "=") || strings.HasPrefix(r[2], "=") {
			t.Errorf("formula-like cell left as is: %q", r)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	err := stats.Write(&bytes.Buffer{}, sample(), "xml")
	if tweet.ErrorCode(err) != tweet.EINVALID || !strings.Contains(err.Error(), "text, json, csv") {
		t.Fatalf("got %v, want an EINVALID error listing the formats", err)
	}
}
