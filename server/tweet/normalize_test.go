package tweet_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestNormalizeHashtag(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "goconf", want: "goconf"},
		{name: "leading hash", in: "#GoConf", want: "goconf"},
		{name: "full-width hash", in: "＃GoConf", want: "goconf"},
		{name: "several hashes", in: "##Go", want: "go"},
		{name: "surrounding space", in: "  #Go  ", want: "go"},
		{name: "non-ASCII", in: "#Ünïcödé", want: "ünïcödé"},
		{name: "japanese", in: "#ゴーコン", want: "ゴーコン"},
		{name: "hash only", in: "#", want: ""},
		{name: "empty", in: "", want: ""},
		{name: "inner hash kept", in: "#c#", want: "c#"},
		{name: "spaces between hashes", in: "# #Go", want: "go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tweet.NormalizeHashtag(tt.in)
			if got != tt.want {
				t.Errorf("NormalizeHashtag(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := tweet.NormalizeHashtag(got); again != got {
				t.Errorf("NormalizeHashtag is not stable: %q -> %q -> %q", tt.in, got, again)
			}
		})
	}
}

func TestNormalizeHashtags(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{name: "nil gives empty, not nil", in: nil, want: []string{}},
		{name: "empty gives empty", in: []string{}, want: []string{}},
		{name: "lower-cases", in: []string{"GoConf", "Gophers"}, want: []string{"goconf", "gophers"}},
		{name: "deduplicates keeping first order", in: []string{"Go", "#go", "Conf", "GO"}, want: []string{"go", "conf"}},
		{name: "drops empty tags", in: []string{"", "#", " ", "go"}, want: []string{"go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tweet.NormalizeHashtags(tt.in)
			if got == nil {
				t.Fatal("NormalizeHashtags returned nil; want a non-nil slice")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("NormalizeHashtags(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHashtagSpellings(t *testing.T) {
	for _, c := range []struct {
		name, text string
		tags, want []string
	}{
		{"as written", "Crème brûlée à la #GoConf, naïve café ☕ #café", []string{"goconf", "café"}, []string{"GoConf"}},
		{"the first spelling only", "#GoConf #GOCONF #goconf", []string{"goconf"}, []string{"GoConf"}},
		{"full-width hash and other scripts", "＃ÜberGo und #Straße", []string{"übergo", "straße"}, []string{"ÜberGo", "Straße"}},
		{"not a tag of the post", "#Elsewhere #Go", []string{"go"}, []string{"Go"}},
		{"lower-case is no spelling", "#go #日本", []string{"go", "日本"}, nil},
		{"underscores and digits end nothing", "#Go_Conf2026!", []string{"go_conf2026"}, []string{"Go_Conf2026"}},
		{"a bare hash", "# #", []string{"go"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := tweet.HashtagSpellings(c.text, c.tags); !slices.Equal(got, c.want) {
				t.Errorf("HashtagSpellings(%q, %q) = %q, want %q", c.text, c.tags, got, c.want)
			}
		})
	}
}
