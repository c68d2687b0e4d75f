package match_test

import (
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/source/internal/match"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name  string
		track []string
		text  string
		tags  []string
		want  bool
	}{
		{name: "keyword, other case", track: []string{"golang"}, text: "I love GoLang!", want: true},
		{name: "keyword is a whole word", track: []string{"go"}, text: "going gone ago", want: false},
		{name: "keyword next to punctuation", track: []string{"go"}, text: "(go), really", want: true},
		{name: "keyword matches the hashtag", track: []string{"golang"}, text: "new release #GoLang", want: true},
		{name: "keyword matches a listed hashtag", track: []string{"golang"}, text: "new release", tags: []string{"GoLang"}, want: true},
		{name: "hashtag needs the hashtag", track: []string{"#golang"}, text: "golang is nice", want: false},
		{name: "hashtag in the text", track: []string{"#GoConf"}, text: "at #goconf today", want: true},
		{name: "full-width hash in the text", track: []string{"#goconf"}, text: "at ＃GoConf today", want: true},
		{name: "hashtag listed by the service", track: []string{"#goconf"}, text: "see you there", tags: []string{"#GoConf"}, want: true},
		{name: "hashtag is whole", track: []string{"#go"}, text: "#gopher", want: false},
		{name: "space means and: all present", track: []string{"go conf"}, text: "the conf about go", want: true},
		{name: "space means and: one missing", track: []string{"go conf"}, text: "go go go", want: false},
		{name: "comma means or", track: []string{"rust", "golang"}, text: "golang", want: true},
		{name: "hyphenated word in sequence", track: []string{"go-conf"}, text: "Go-Conf 2026", want: true},
		{name: "hyphenated word out of sequence", track: []string{"go-conf"}, text: "conf go", want: false},
		{name: "non-ASCII word", track: []string{"café"}, text: "Un CAFÉ noir", want: true},
		{name: "japanese matches inside text", track: []string{"東京"}, text: "明日東京に行く", want: true},
		{name: "japanese absent", track: []string{"東京"}, text: "大阪に行く", want: false},
		{name: "no terms match nothing", track: nil, text: "anything", want: false},
		{name: "empty terms dropped", track: []string{" ", "#"}, text: "# anything", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := match.New(tt.track).Match(tt.text, tt.tags); got != tt.want {
				t.Errorf("New(%q).Match(%q, %q) = %v, want %v", tt.track, tt.text, tt.tags, got, tt.want)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	if !match.New([]string{"", " # "}).Empty() {
		t.Error("terms without a word should leave the matcher empty")
	}
	if match.New([]string{"#go"}).Empty() {
		t.Error("a hashtag term left the matcher empty")
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("golang,#goconf,go conf", "I love #GoConf and golang", "GoConf")
	f.Add("東京", "明日東京に行く", "")
	f.Add("#", "#", "#")
	f.Fuzz(func(t *testing.T, track, text, tag string) {
		m := match.New([]string{track})
		got := m.Match(text, []string{tag})
		if m.Empty() && got {
			t.Fatal("an empty matcher matched")
		}
		// Matching ignores case; for ASCII text upper-casing is exact.
		if isASCII(text) && isASCII(tag) && got != m.Match(strings.ToUpper(text), []string{strings.ToUpper(tag)}) {
			t.Fatalf("upper-casing %q changed the match", text)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
