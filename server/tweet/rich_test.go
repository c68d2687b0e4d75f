package tweet_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestCleanRich(t *testing.T) {
	// "👩‍💻 " is 6 UTF-16 units: offset 1 falls inside the first surrogate pair.
	text := "👩‍💻 مرحبا #GoConf https://t.co/x 東京"
	tag := tweet.Entity{Kind: "hashtag", Start: 12, End: 19, Href: "https://bsky.app/hashtag/GoConf"}
	link := tweet.Entity{Kind: "url", Start: 20, End: 34, Href: "https://goconf.example/", Display: "goconf.example"}
	tests := []struct {
		name string
		in   []tweet.Entity
		want []tweet.Entity
	}{
		{"valid entities are kept, in text order", []tweet.Entity{link, tag}, []tweet.Entity{tag, link}},
		{"javascript: href", []tweet.Entity{{Kind: "url", Start: 20, End: 34, Href: "javascript:alert(1)"}}, nil},
		{"upper-case JavaScript: href", []tweet.Entity{{Kind: "url", Start: 20, End: 34, Href: "JaVaScRiPt:alert(1)"}}, nil},
		{"data: href", []tweet.Entity{{Kind: "url", Start: 20, End: 34, Href: "data:text/html,<script>alert(1)</script>"}}, nil},
		{"relative href", []tweet.Entity{{Kind: "mention", Start: 12, End: 19, Href: "/profile/x"}}, nil},
		{"inside a surrogate pair", []tweet.Entity{{Kind: "hashtag", Start: 1, End: 5, Href: tag.Href}}, nil},
		{"past the end", []tweet.Entity{{Kind: "hashtag", Start: 30, End: 99, Href: tag.Href}}, nil},
		{"empty", []tweet.Entity{{Kind: "hashtag", Start: 12, End: 12, Href: tag.Href}}, nil},
		{"overlapping the one before", []tweet.Entity{tag, {Kind: "url", Start: 15, End: 25, Href: link.Href}}, []tweet.Entity{tag}},
		{"unknown kind", []tweet.Entity{{Kind: "cashtag", Start: 12, End: 19, Href: tag.Href}}, nil},
		{"display only for URLs", []tweet.Entity{{Kind: "hashtag", Start: 12, End: 19, Href: tag.Href, Display: "spoof"}}, []tweet.Entity{tag}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := tweet.Tweet{Text: text, Entities: tt.in}
			tweet.CleanRich(&tw)
			if !reflect.DeepEqual(tw.Entities, tt.want) {
				t.Errorf("Entities = %+v\n\twant %+v", tw.Entities, tt.want)
			}
		})
	}
}

func TestCleanRichBoundsAPost(t *testing.T) {
	text := strings.Repeat("#go ", 200)
	var ents []tweet.Entity
	for i := range 200 {
		ents = append(ents, tweet.Entity{Kind: "hashtag", Start: 4 * i, End: 4*i + 3, Href: "https://x.com/hashtag/go"})
	}
	photo := tweet.Media{Type: "photo", URL: "https://pbs.twimg.com/media/a.jpg", Alt: strings.Repeat("é", 5000), Width: -3, Height: 10}
	tw := tweet.Tweet{Text: text, Entities: ents, Media: []tweet.Media{
		photo, photo, {Type: "photo", URL: "javascript:alert(1)"}, {Type: "audio", URL: photo.URL}, photo, photo, photo,
	}, RepostOf: &tweet.Original{User: " "}}
	tweet.CleanRich(&tw)
	if len(tw.Entities) != tweet.MaxEntities {
		t.Errorf("%d entities kept, want %d", len(tw.Entities), tweet.MaxEntities)
	}
	if len(tw.Media) != tweet.MaxMedia {
		t.Fatalf("%d media kept, want %d", len(tw.Media), tweet.MaxMedia)
	}
	for _, m := range tw.Media {
		if m.URL != photo.URL || m.Width != 0 || m.Height != 0 || len([]rune(m.Alt)) != 2000 {
			t.Errorf("media = {URL:%q Width:%d Height:%d alt of %d characters}, want the photo, no size, alt cut to 2000", m.URL, m.Width, m.Height, len([]rune(m.Alt)))
		}
	}
	if tw.RepostOf != nil {
		t.Errorf("RepostOf = %+v, want nil for an author without a handle", tw.RepostOf)
	}
}

func TestCleanRichMediaImages(t *testing.T) {
	svg := "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>"
	tw := tweet.Tweet{Media: []tweet.Media{
		{Type: "photo", URL: svg, Alt: "  Ein Foto  "},
		{Type: "video", URL: "javascript:play()", Preview: "https://video.example/still.jpg"},
		{Type: "gif", URL: "data:text/html,<script>alert(1)</script>"},
		{Type: "photo", URL: "data:image/png;base64," + strings.Repeat("A", 5000), Alt: "too big to inline"},
	}}
	tweet.CleanRich(&tw)
	want := []tweet.Media{
		{Type: "photo", URL: svg, Alt: "Ein Foto"},
		{Type: "video", URL: "https://video.example/still.jpg"},
	}
	if !reflect.DeepEqual(tw.Media, want) {
		t.Errorf("Media = %+v\n\twant %+v", tw.Media, want)
	}
}

func TestUTF16Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "é": 1, "東京": 2, "🎉": 2, "👩‍💻": 5, "مرحبا": 5} {
		if got := tweet.UTF16Len(s); got != want {
			t.Errorf("UTF16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

// An original keeps its author; a permalink that is not http(s), an id not
// in "<source>:<id>" form or too long, and a negative count are dropped.
func TestCleanRichOriginal(t *testing.T) {
	tests := []struct {
		name string
		in   tweet.Original
		want tweet.Original
	}{
		{"kept", tweet.Original{User: "ليلى", Name: "<b>ليلى</b>", ID: "x:186", URL: "https://x.com/l/status/186", Reposts: 57},
			tweet.Original{User: "ليلى", Name: "<b>ليلى</b>", ID: "x:186", URL: "https://x.com/l/status/186", Reposts: 57}},
		{"hostile link", tweet.Original{User: "a", ID: "x:1", URL: "javascript:alert(1)"}, tweet.Original{User: "a", ID: "x:1"}},
		{"data link", tweet.Original{User: "a", URL: "data:text/html,<script>alert(1)</script>"}, tweet.Original{User: "a"}},
		{"id without source", tweet.Original{User: "a", ID: "186"}, tweet.Original{User: "a"}},
		{"id with an empty part", tweet.Original{User: "a", ID: "x:"}, tweet.Original{User: "a"}},
		{"id too long", tweet.Original{User: "a", ID: "x:" + strings.Repeat("9", 300)}, tweet.Original{User: "a"}},
		{"negative count", tweet.Original{User: "a", ID: "x:1", Reposts: -4}, tweet.Original{User: "a", ID: "x:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.in
			tw := tweet.Tweet{Text: "RT", Retweet: true, RepostOf: &o}
			tweet.CleanRich(&tw)
			if tw.RepostOf == nil || *tw.RepostOf != tt.want {
				t.Errorf("RepostOf = %+v, want %+v", tw.RepostOf, tt.want)
			}
		})
	}
}
