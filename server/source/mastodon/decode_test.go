package mastodon_test

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/mastodon"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestDecodeStatus(t *testing.T) {
	ev, ok, err := mastodon.Decode("mastodon.social", "update", sourcetest.Fixture(t, "status.json"))
	if err != nil || !ok {
		t.Fatalf("Decode = %v, %v", ok, err)
	}
	want := tweet.Tweet{
		ID:        "mastodon:mastodon.social:113001234567890123",
		Source:    "mastodon",
		User:      "gopher",
		Name:      "Gopher 🐹",
		Picture:   "https://files.mastodon.social/accounts/avatars/109/000/000/000/000/001/original/a.png",
		Text:      "Hello #GoConf & friends!\nSlides: https://example.com/slides/2026/keynote\n\ncc @alice 1 < 2",
		CreatedAt: time.Date(2026, 11, 25, 18, 0, 1, 123e6, time.UTC),
		Hashtags:  []string{"goconf"},
		Lang:      "en",
		URL:       "https://mastodon.social/@gopher/113001234567890123",
		Entities: []tweet.Entity{
			{Kind: "hashtag", Start: 6, End: 13, Href: "https://mastodon.social/tags/GoConf"},
			{Kind: "url", Start: 33, End: 72, Href: "https://example.com/slides/2026/keynote", Display: "example.com/slides/2026/keyno…"},
			{Kind: "mention", Start: 77, End: 83, Href: "https://hachyderm.io/@alice"},
		},
	}
	if ev.Kind != tweet.KindPost || ev.ID != want.ID || !reflect.DeepEqual(ev.Tweet, want) {
		t.Errorf("got %v %s\n%+v\nwant\n%+v", ev.Kind, ev.ID, ev.Tweet, want)
	}
}

func TestDecodeReblog(t *testing.T) {
	ev, ok, err := mastodon.Decode("mastodon.social", "update", sourcetest.Fixture(t, "reblog.json"))
	if err != nil || !ok {
		t.Fatalf("Decode = %v, %v", ok, err)
	}
	want := tweet.Tweet{
		ID:        "mastodon:mastodon.social:113001234567890999",
		Source:    "mastodon",
		User:      "bob",
		Name:      "bob", // no display name: the username
		Picture:   "https://files.mastodon.social/b.png",
		Text:      "GoConf spoilers\n\nLa keynote de #goconf était géniale",
		CreatedAt: time.Date(2026, 11, 25, 18, 5, 0, 0, time.UTC),
		Hashtags:  []string{"goconf"},
		Lang:      "fr",
		URL:       "https://hachyderm.io/@alice/1", // a boost has no url of its own
		Retweet:   true,
		RepostOf: &tweet.Original{
			User: "alice@hachyderm.io", Name: "Alice", ID: "mastodon:mastodon.social:113001234567890555",
			URL: "https://hachyderm.io/@alice/1", Reposts: 23,
		},
		// After the content warning and its blank line.
		Entities: []tweet.Entity{{Kind: "hashtag", Start: 31, End: 38, Href: "https://hachyderm.io/tags/goconf"}},
	}
	if !reflect.DeepEqual(ev.Tweet, want) {
		t.Errorf("got\n%+v\nwant\n%+v", ev.Tweet, want)
	}
}

func TestDecodeOthers(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		data   string
		wantOK bool
		wantID string
		err    string
	}{
		{name: "delete", event: "delete", data: "113001234567890123", wantOK: true, wantID: "mastodon:mastodon.social:113001234567890123"},
		{name: "delete without id", event: "delete", data: "", err: "invalid status id"},
		{name: "delete with a space", event: "delete", data: "1 2", err: "invalid status id"},
		{name: "edit is skipped", event: "status.update", data: string(sourcetest.Fixture(t, "status.json"))},
		{name: "notification is skipped", event: "notification", data: `{}`},
		{name: "created_at not a time", event: "update", data: string(sourcetest.Fixture(t, "malformed.json")), err: "no valid created_at"},
		{name: "no id", event: "update", data: string(sourcetest.Fixture(t, "noid.json")), err: "invalid id"},
		{name: "no account", event: "update", data: string(sourcetest.Fixture(t, "noaccount.json")), err: "has no account"},
		{name: "truncated", event: "update", data: string(sourcetest.Fixture(t, "truncated.json")), err: "not a status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok, err := mastodon.Decode("mastodon.social", tt.event, []byte(tt.data))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || ok {
					t.Fatalf("Decode = %v, %v; want an error with %q", ok, err, tt.err)
				}
				return
			}
			if err != nil || ok != tt.wantOK || ev.ID != tt.wantID {
				t.Fatalf("Decode = %+v, %v, %v", ev, ok, err)
			}
			if ok && ev.Kind != tweet.KindDelete {
				t.Fatalf("kind %v", ev.Kind)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "paragraphs", in: "<p>one</p><p>two</p>", want: "one\n\ntwo"},
		{name: "line breaks", in: "<p>one<br>two<br/><br />three</p>", want: "one\ntwo\n\nthree"},
		{name: "entities", in: "<p>Tom &amp; Jerry &lt;3 &#x1F439; &quot;x&quot; caf&eacute;</p>", want: "Tom & Jerry <3 🐹 \"x\" café"},
		{name: "markup in entities stays text", in: "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", want: "<script>alert(1)</script>"},
		{name: "whitespace collapses", in: "<p>  a \n\t b  </p>", want: "a b"},
		{name: "link is its text", in: `<a href="https://evil.example/">click</a> here`, want: "click here"},
		{name: "long link spans", in: `<a href="https://e.com/abcdef"><span class="invisible">https://</span><span class="ellipsis">e.com/abc</span><span class="invisible">def</span></a>`, want: "https://e.com/abcdef"},
		{name: "script and style dropped", in: "<p>a<script>bad()</script><style>p{}</style>b</p>", want: "ab"},
		{name: "unclosed tags", in: "<p>a<b>b<i>c", want: "abc"},
		{name: "list items", in: "<ul><li>a</li><li>b</li></ul>", want: "a\nb"},
		{name: "plain text", in: "no html at all", want: "no html at all"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mastodon.PlainText(tt.in); got != tt.want {
				t.Errorf("PlainText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzDecode feeds Decode arbitrary events: it must never panic, and what
// it accepts must hold the tweet.Tweet invariants.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"status.json", "reblog.json", "malformed.json", "noid.json", "noaccount.json", "truncated.json"} {
		f.Add("update", sourcetest.Fixture(f, name))
	}
	f.Add("delete", []byte("113001234567890123"))
	f.Add("status.update", sourcetest.Fixture(f, "status.json"))
	f.Fuzz(func(t *testing.T, event string, data []byte) {
		ev, ok, err := mastodon.Decode("mastodon.social", event, data)
		if err != nil || !ok {
			if ok || ev.Kind != 0 {
				t.Fatalf("ok %v, event %+v with error %v", ok, ev, err)
			}
			return
		}
		rest, found := strings.CutPrefix(ev.ID, "mastodon:mastodon.social:")
		if !found || rest == "" || strings.ContainsAny(rest, " \n\t") {
			t.Fatalf("id %q", ev.ID)
		}
		sourcetest.CheckEvent(t, ev, "mastodon")
	})
}

// FuzzPlainText: whatever the HTML, PlainText does not panic, keeps valid
// UTF-8 valid, leaves at most one blank line in a row and no leading
// space.
func FuzzPlainText(f *testing.F) {
	for _, s := range []string{
		"<p>Hello <a href=\"https://mastodon.social/tags/GoConf\" class=\"mention hashtag\" rel=\"tag\">#<span>GoConf</span></a> &amp; friends!<br />x</p>",
		"<p>&lt;script&gt;</p>", "<script>x</script>y", "<br><br><br>", "<p>", "&", "<<p>>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := mastodon.PlainText(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", in)
		}
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("more than one blank line in %q", out)
		}
		if strings.HasPrefix(out, " ") || strings.HasPrefix(out, "\n") {
			t.Fatalf("leading space in %q", out)
		}
	})
}

// TestDecodeRichStatus reads a status in Hebrew and Japanese with emoji,
// a content warning, links Mastodon marks up in three ways, a javascript:
// link from a remote server, and media attachments with descriptions.
func TestDecodeRichStatus(t *testing.T) {
	ev, ok, err := mastodon.Decode("mastodon.social", "update", sourcetest.Fixture(t, "rich.json"))
	if err != nil || !ok {
		t.Fatalf("Decode = %v, %v", ok, err)
	}
	sourcetest.CheckEvent(t, ev, "mastodon")
	tw := ev.Tweet
	want := []string{
		"mention @noa -> https://tooot.example/@noa",
		"hashtag #GoConf -> https://mastodon.social/tags/goconf",
		"url https://goconf.example/ja/会場マップ?floor=2 -> https://goconf.example/ja/会場マップ?floor=2 [goconf.example/ja/会場マップ?floor…]",
	}
	if got := sourcetest.Links(t, tw); !reflect.DeepEqual(got, want) {
		t.Errorf("entities:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	wantMedia := []tweet.Media{
		{Type: "photo", URL: "https://files.mastodon.social/media_attachments/files/1/original/hall.jpg", Preview: "https://files.mastodon.social/media_attachments/files/1/small/hall.jpg", Alt: "האולם המרכזי מלא, 🎤 על הבמה", Width: 1920, Height: 1080},
		{Type: "gif", URL: "https://cdn.tooot.example/gopher.mp4", Preview: "https://cdn.tooot.example/gopher.png"},
	}
	if !reflect.DeepEqual(tw.Media, wantMedia) {
		t.Errorf("Media = %+v\n\twant %+v", tw.Media, wantMedia)
	}
}
