package rich_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/source/internal/rich"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestPlace(t *testing.T) {
	// "🎉 " is 2 code points, 3 UTF-16 units, 5 UTF-8 bytes.
	text := "🎉 שלום @Dana & #GoConf"
	tests := []struct {
		name  string
		spans []rich.Span
		want  []tweet.Entity
	}{
		{
			name: "hints in code points become UTF-16 offsets, sorted",
			spans: []rich.Span{
				{Kind: "hashtag", Literal: "#GoConf", Hint: 15, Href: "https://x.com/hashtag/GoConf"},
				{Kind: "mention", Literal: "@dana", Hint: 7, Href: "https://x.com/dana"},
			},
			want: []tweet.Entity{
				{Kind: "mention", Start: 8, End: 13, Href: "https://x.com/dana"},
				{Kind: "hashtag", Start: 16, End: 23, Href: "https://x.com/hashtag/GoConf"},
			},
		},
		{
			name:  "a wrong hint (counted in the escaped text) is searched past",
			spans: []rich.Span{{Kind: "hashtag", Literal: "#GoConf", Hint: 20, Href: "https://x.com/hashtag/GoConf"}},
			want:  []tweet.Entity{{Kind: "hashtag", Start: 16, End: 23, Href: "https://x.com/hashtag/GoConf"}},
		},
		{
			name:  "a literal not in the text is dropped",
			spans: []rich.Span{{Kind: "url", Literal: "https://t.co/gone", Hint: 3, Href: "https://example.com/"}},
		},
		{
			name:  "a javascript: href is dropped",
			spans: []rich.Span{{Kind: "mention", Literal: "@Dana", Hint: 7, Href: "javascript:alert(1)"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rich.Place(text, tt.spans); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Place = %+v\n\twant %+v", got, tt.want)
			}
		})
	}
}

func TestByteSpan(t *testing.T) {
	text := "🎉 東京 #GoConf"
	s, ok := rich.ByteSpan(text, 12, 19, "hashtag", "https://bsky.app/hashtag/GoConf", "")
	if !ok || s.Literal != "#GoConf" || s.Hint != 5 {
		t.Errorf("ByteSpan = %+v, %v; want #GoConf at code point 5", s, ok)
	}
	for _, r := range [][2]int{{1, 4}, {0, 99}, {5, 5}, {-1, 3}, {5, 7}} {
		if _, ok := rich.ByteSpan(text, r[0], r[1], "hashtag", "https://bsky.app/", ""); ok {
			t.Errorf("ByteSpan(%d, %d) ok, want false: outside the text or inside a character", r[0], r[1])
		}
	}
}

func TestShortURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://www.goconf.example/":                             "goconf.example",
		"http://例え.jp/パス":                                         "例え.jp/パス",
		"https://goconf.example/2026/schedule/day-2/talks?room=a": "goconf.example/2026/schedule/…",
	} {
		if got := rich.ShortURL(in); got != want {
			t.Errorf("ShortURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlaceBoundsAPost(t *testing.T) {
	text := strings.Repeat("#go ", 80)
	var spans []rich.Span
	for i := range 80 {
		spans = append(spans, rich.Span{Kind: "hashtag", Literal: "#go", Hint: 4 * i, Href: "https://x.com/hashtag/go"})
	}
	if got := rich.Place(text, spans); len(got) != tweet.MaxEntities || got[len(got)-1].Start != 4*(tweet.MaxEntities-1) {
		t.Errorf("Place kept %d entities, want the first %d", len(got), tweet.MaxEntities)
	}
}
