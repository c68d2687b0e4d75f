package demo

import (
	"encoding/xml"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

var fixedNow = time.Date(2019, 4, 25, 11, 0, 0, 0, time.FixedZone("CEST", 2*3600))

func newTestGenerator(t *testing.T, cfg Config) *generator {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d.newGenerator()
}

func TestGeneratedPosts(t *testing.T) {
	tests := []struct {
		name  string
		track []string
		// covers reports whether a post carries one of the tracked terms.
		covers func(tweet.Tweet) bool
	}{
		{
			name:   "no tracked terms means #GoConf",
			covers: func(tw tweet.Tweet) bool { return has(tw.Hashtags, "goconf") },
		},
		{
			name:   "tracked hashtags",
			track:  []string{"#GopherCon", "golang", " ", "#"},
			covers: func(tw tweet.Tweet) bool { return has(tw.Hashtags, "gophercon") || has(tw.Hashtags, "golang") },
		},
		{
			name:   "tracked phrase",
			track:  []string{"go conference"},
			covers: func(tw tweet.Tweet) bool { return strings.Contains(tw.Text, "go conference") },
		},
		{
			name:  "hashtag and phrase",
			track: []string{"＃Gophers", "cloud native go"},
			covers: func(tw tweet.Tweet) bool {
				return has(tw.Hashtags, "gophers") || strings.Contains(tw.Text, "cloud native go")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGenerator(t, Config{Seed: 1, Track: tt.track})
			const n = 2000
			ids := map[string]bool{}
			pictures := map[string]string{}
			langs := map[string]bool{}
			users := map[string]bool{}
			retweets, shortest, longest := 0, maxText, 0
			photos, kinds := 0, map[string]int{}
			// Per original id: its reposts, its last count and text.
			reposted := map[string]int{}
			counts, texts := map[string]int64{}, map[string]string{}
			for range n {
				tw := g.next()
				checkPost(t, tw)
				if ids[tw.ID] {
					t.Fatalf("id %s repeated", tw.ID)
				}
				ids[tw.ID] = true
				if p, ok := pictures[tw.User]; ok && p != tw.Picture {
					t.Errorf("%s has two pictures", tw.User)
				}
				pictures[tw.User] = tw.Picture
				if !tt.covers(tw) {
					t.Errorf("post %q (tags %q) carries no tracked term of %q", tw.Text, tw.Hashtags, tt.track)
				}
				if tw.Retweet {
					retweets++
					o := tw.RepostOf
					if o == nil || o.ID == "" || ids[o.ID] || o.Reposts < counts[o.ID] || (texts[o.ID] != "" && texts[o.ID] != tw.Text) {
						t.Errorf("retweet %q reposts %+v, want a post of its own id (not a demo post's) with a growing count (was %d) and the same text (%q)", tw.Text, o, counts[o.ID], texts[o.ID])
					} else {
						reposted[o.ID]++
						counts[o.ID], texts[o.ID] = o.Reposts, tw.Text
					}
				}
				photos += len(tw.Media)
				for _, e := range tw.Entities {
					kinds[e.Kind]++
				}
				langs[tw.Lang] = true
				users[tw.User] = true
				l := utf8.RuneCountInString(tw.Text)
				shortest, longest = min(shortest, l), max(longest, l)
			}
			if retweets < n/50 || retweets > n/5 {
				t.Errorf("%d of %d posts are retweets, want an occasional one", retweets, n)
			}
			if most := slices.Max(slices.Collect(maps.Values(reposted))); most < 4 || len(reposted) < 10 {
				t.Errorf("retweets repost %d posts, at most %d times each: want a few posts retweeted again and again, for the top posts", len(reposted), most)
			}
			if photos < n/10 || photos > n/3 || kinds["mention"] < n/10 || kinds["url"] < n/10 {
				t.Errorf("%d photos and links %v in %d posts, want some of each to show them off", photos, kinds, n)
			}
			if len(langs) < 5 || len(users) < 25 {
				t.Errorf("%d languages and %d authors, want variety", len(langs), len(users))
			}
			if shortest > 80 || longest < 230 {
				t.Errorf("texts run from %d to %d characters, want short ones and ones near 280", shortest, longest)
			}
		})
	}
}

// checkPost checks what every demo post must satisfy.
func checkPost(t *testing.T, tw tweet.Tweet) {
	t.Helper()
	if !strings.HasPrefix(tw.ID, "demo:") || tw.Source != "demo" {
		t.Errorf("ID %q, Source %q", tw.ID, tw.Source)
	}
	if tw.User == "" || strings.HasPrefix(tw.User, "@") || strings.ContainsAny(tw.User, " #") {
		t.Errorf("User %q is not a handle", tw.User)
	}
	if !strings.HasSuffix(tw.Name, " (demo)") || len(tw.Name) == len(" (demo)") {
		t.Errorf("Name %q does not say it is demo data", tw.Name)
	}
	if tw.Text == "" || utf8.RuneCountInString(tw.Text) > maxText {
		t.Errorf("Text has %d characters: %q", utf8.RuneCountInString(tw.Text), tw.Text)
	}
	if tw.Retweet != strings.HasPrefix(tw.Text, "RT @") {
		t.Errorf("Retweet = %v for %q", tw.Retweet, tw.Text)
	}
	if tw.Hashtags == nil {
		t.Error("Hashtags is nil")
	}
	if len(tweet.NormalizeHashtags(tw.Hashtags)) != len(tw.Hashtags) {
		t.Errorf("hashtags %q repeat", tw.Hashtags)
	}
	if strings.Count(tw.Text, "#") != len(tw.Hashtags) {
		t.Errorf("text %q has a different number of tags than %q", tw.Text, tw.Hashtags)
	}
	for _, h := range tw.Hashtags {
		if h == "" || tweet.NormalizeHashtag(h) != h {
			t.Errorf("hashtag %q is not normalised", h)
		}
		if !strings.Contains(strings.ToLower(tw.Text), "#"+h) {
			t.Errorf("hashtag %q is not in the text %q", h, tw.Text)
		}
	}
	if tw.Lang == "" || tw.URL != "" {
		t.Errorf("Lang %q, URL %q; want a language and no URL", tw.Lang, tw.URL)
	}
	if !tw.CreatedAt.Equal(fixedNow) || tw.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", tw.CreatedAt, fixedNow)
	}
	checkAvatar(t, tw.Picture)
	checkLinks(t, tw)
}

// checkLinks checks that each link covers what it says, by the text a
// browser cuts out with its UTF-16 offsets, and that photos are
// pictures with alt text.
func checkLinks(t *testing.T, tw tweet.Tweet) {
	t.Helper()
	tags := 0
	for _, l := range sourcetest.Links(t, tw) {
		kind, rest, _ := strings.Cut(l, " ")
		text, href, _ := strings.Cut(rest, " -> ")
		switch {
		case kind == "hashtag" && strings.HasPrefix(text, "#") && href == "https://bsky.app/hashtag/"+url.PathEscape(text[1:]):
			tags++
		case kind == "mention" && strings.HasPrefix(text, "@") && href == "https://example.com/demo/"+text:
		case kind == "url" && strings.HasPrefix(href, text+" [") && strings.HasPrefix(text, "https://"):
		default:
			t.Errorf("link %q in %q", l, tw.Text)
		}
	}
	if tags != len(tw.Hashtags) {
		t.Errorf("%d hashtag links for tags %q in %q", tags, tw.Hashtags, tw.Text)
	}
	if tw.Retweet && (tw.RepostOf == nil || !strings.HasPrefix(tw.Text, "RT @"+tw.RepostOf.User+": ")) {
		t.Errorf("retweet %q reposts %+v", tw.Text, tw.RepostOf)
	}
	for _, m := range tw.Media {
		if m.Type != "photo" || m.Alt == "" || m.Width != 640 || m.Height != 360 {
			t.Errorf("media %+v, want a 640×360 photo with alt text", m)
		}
		checkSVG(t, m.URL)
	}
}

func checkAvatar(t *testing.T, picture string) {
	t.Helper()
	if text := checkSVG(t, picture); text == "" {
		t.Errorf("avatar has no initials: %s", picture)
	}
}

// checkSVG checks that picture is an SVG data: URL and returns its text.
func checkSVG(t *testing.T, picture string) string {
	t.Helper()
	const prefix = "data:image/svg+xml,"
	if !strings.HasPrefix(picture, prefix) || strings.ContainsAny(picture, " #<>\"") {
		t.Fatalf("Picture %q is not an escaped SVG data URL", picture)
	}
	svg, err := url.PathUnescape(strings.TrimPrefix(picture, prefix))
	if err != nil {
		t.Fatalf("Picture does not unescape: %v", err)
	}
	var doc struct {
		XMLName xml.Name
		Text    string `xml:"text"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Fatalf("Picture is not an SVG document (%v): %s", err, svg)
	}
	return doc.Text
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestGeneratorIsReproducible(t *testing.T) {
	texts := func(seed uint64) string {
		g := newTestGenerator(t, Config{Seed: seed})
		var b strings.Builder
		for range 50 {
			tw := g.next()
			b.WriteString(tw.ID + tw.User + tw.Text + "\n")
		}
		return b.String()
	}
	if first, again := texts(7), texts(7); first != again {
		t.Error("the same seed gave different posts")
	}
	if texts(7) == texts(8) {
		t.Error("different seeds gave the same posts")
	}
}

func TestIDsDifferAcrossRuns(t *testing.T) {
	now := fixedNow
	d, err := New(Config{Seed: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	first := d.newGenerator().next().ID
	now = now.Add(time.Nanosecond)
	second := d.newGenerator().next().ID
	if first == second {
		t.Fatalf("a restarted demo reused id %s", first)
	}
	if !strings.HasSuffix(first, "-1") {
		t.Errorf("first id %s should end in -1", first)
	}
}

func TestInitials(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Grace Hopkins", "GH"},
		{"Léa Dubois", "LD"},
		{"Jean-Pierre Laurent", "JL"},
		{"田中 健二", "田健"},
		{"김민준", "김"},
		{"Bob ☕", "B"},
		{"zoë martin", "ZM"},
		{"Anna Maria Lopez", "AM"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := initials(tt.name); got != tt.want {
				t.Errorf("initials(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestAvatarsAreStablePerAuthor(t *testing.T) {
	seen := map[string]string{}
	for _, a := range authors {
		p := avatar(a)
		checkAvatar(t, p)
		if p != avatar(a) {
			t.Errorf("avatar of %s changes between calls", a.handle)
		}
		if other, ok := seen[p]; ok {
			t.Errorf("%s and %s have the same avatar", a.handle, other)
		}
		seen[p] = a.handle
		if _, ok := sentences[a.lang]; !ok {
			t.Errorf("%s writes in %q, which has no sentences", a.handle, a.lang)
		}
	}
	if len(authors) < 30 {
		t.Errorf("%d authors, want about 30", len(authors))
	}
	for lang := range sentences {
		if _, ok := phraseSentence[lang]; !ok {
			t.Errorf("no phrase sentence for %q", lang)
		}
	}
}
