package moderation

import (
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestWordBlocks(t *testing.T) {
	tests := []struct {
		name  string
		block string
		text  string
		tags  []string
		want  bool
	}{
		{"whole word", "spoiler", "No spoiler please!", nil, true},
		{"case-insensitive", "spoiler", "NO SPOILER", nil, true},
		{"not inside a word", "ass", "first class talk", nil, false},
		{"not as a prefix", "spoil", "spoilers ahead", nil, false},
		{"before punctuation", "spoiler", "(spoiler)", nil, true},
		{"as a hashtag in the text", "spoiler", "ahead: #spoiler", nil, true},
		{"phrase", "final score", "The Final Score was 3-1", nil, true},
		{"phrase needs its words in a row", "final score", "final, the score", nil, false},
		{"accents folded", "café", "Le CAFÉ est fermé", nil, true},
		{"combining accent matches precomposed", "café", "un cafe\u0301 noir", nil, true},
		{"accents are not dropped", "café", "cafe", nil, false},
		{"full-width letters", "spoiler", "ｓｐｏｉｌｅｒ alert", nil, true},
		{"sharp s folds to ss", "straße", "STRASSE gesperrt", nil, true},
		{"greek final sigma", "ΟΔΟΣ", "η οδος είναι κλειστή", nil, true},
		{"RTL whole word", "مرحبا", "قال مرحبا للجميع", nil, true},
		{"RTL inside a longer word", "سلام", "والسلام عليكم", nil, false},
		{"hebrew", "שלום", "!שלום עולם", nil, true},
		{"tag block matches hashtag", "#GoConf", "great talk", []string{"goconf"}, true},
		{"tag block matches text token", "#GoConf", "great talk #GOCONF!", nil, true},
		{"tag block is not the plain word", "#goconf", "goconf is great", nil, false},
		{"tag block not a longer tag", "#go", "#golang rocks", []string{"golang"}, false},
		{"full-width hash tag block", "＃東京", "#東京 にいます", nil, true},
		{"emoji anywhere", "🤬", "what🤬ever", nil, true},
		{"emoji with skin tone", "👍", "nice 👍🏽", nil, true},
		{"emoji absent", "🤬", "all calm 🙂", nil, false},
		{"japanese substring", "ネタバレ", "これはネタバレです", nil, true},
		{"chinese substring", "剧透", "不要剧透！", nil, true},
		{"thai substring", "สปอยล์", "ห้ามสปอยล์นะ", nil, true},
		{"markup is text", "<script>", "try <SCRIPT>alert(1)</script>", nil, true},
		{"digits whole", "2024", "in 20245", nil, false},
		{"long text", "needle", strings.Repeat("hay ", 5000) + "needle", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRules(tweet.ModerationSettings{}, []tweet.Block{{ID: "b", Kind: tweet.BlockWord, Value: tt.block}})
			p := &tweet.Tweet{ID: "demo:1", Source: "demo", User: "ada", Text: tt.text, Hashtags: tt.tags}
			v, got := r.blocked(p)
			if got != tt.want {
				t.Fatalf("block %q on %q (tags %q): blocked %v, want %v", tt.block, tt.text, tt.tags, got, tt.want)
			}
			if got && (v.State != tweet.Blocked || v.Block != "b" || v.Reason != "word blocked: "+tt.block) {
				t.Errorf("verdict = %+v", v)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	blocks := []tweet.Block{
		{ID: "a1", Kind: tweet.BlockAuthor, Value: "twitter:@Troll_42"},
		{ID: "w1", Kind: tweet.BlockWord, Value: "spam"},
	}
	settings := tweet.ModerationSettings{Premoderation: true, HideReposts: true, Allow: []string{"mastodon:Speaker@conf.example"}}
	r := newRules(settings, blocks)
	tests := []struct {
		name string
		post tweet.Tweet
		want tweet.ModerationState
		by   string
	}{
		{"blocked author, any case", tweet.Tweet{Source: "twitter", User: "TROLL_42", Text: "hello"}, tweet.Blocked, "a1"},
		{"same handle elsewhere is someone else", tweet.Tweet{Source: "bluesky", User: "troll_42", Text: "hello"}, tweet.Queued, ""},
		{"allowed author skips the queue", tweet.Tweet{Source: "mastodon", User: "speaker@conf.example", Text: "slides are up 🎉"}, "", ""},
		{"allowed author's blocked word stays blocked", tweet.Tweet{Source: "mastodon", User: "speaker@conf.example", Text: "no spam"}, tweet.Blocked, "w1"},
		{"repost hidden", tweet.Tweet{Source: "twitter", User: "fan", Text: "RT great", Retweet: true}, tweet.Blocked, ""},
		{"anyone else waits", tweet.Tweet{Source: "twitter", User: "fan", Text: "مرحبا"}, tweet.Queued, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := r.decide(&tt.post)
			if v.State != tt.want || v.Block != tt.by {
				t.Errorf("decide = %+v, want state %q block %q", v, tt.want, tt.by)
			}
		})
	}
	if v := newRules(tweet.ModerationSettings{}, nil).decide(&tweet.Tweet{Source: "x", User: "y", Text: "z", Retweet: true}); v.State != "" {
		t.Errorf("with nothing set a post is shown, got %+v", v)
	}
}
