package moderation

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// How a word block matches a post (the README's "Matching rules" say the
// same to organisers):
//
//   - Text and block are compared after NFKC normalisation and full
//     Unicode case folding, so "CAFÉ", "café" written with a combining
//     accent, full-width "ｃａｆé" and "Straße"/"STRASSE" match alike.
//   - A block of letters or digits matches whole words only: "ass" does
//     not match "class". A word ends where a character that is not a
//     letter, digit, mark or "_" stands, so "spoiler" matches "#spoiler",
//     "spoiler!" and "(spoiler)", and RTL words ("مرحبا") work the same.
//     A phrase ("final score") matches those words in a row, spaces as
//     written.
//   - A block starting with "#" matches the post's hashtag (as the source
//     gave it) and "#tag" in the text.
//   - A block with no letter or digit (an emoji, "🤬", "💩💩") matches
//     anywhere, so skin-tone variants of an emoji match too.
//   - A block in a script written without spaces (Chinese, Japanese,
//     Korean, Thai, Lao, Khmer, Myanmar) matches anywhere in the text, as
//     a word cannot be told from its neighbours.
//
// An author block "source:handle" matches the author's handle on that
// service, case-insensitively, with or without "@".

// fold is the form both sides are compared in. (A cases.Caser is not
// safe for concurrent use: each call makes its own.)
func fold(s string) string {
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
}

// wordRule is one word block, prepared for matching.
type wordRule struct {
	block tweet.Block
	// folded is the block's text without "#" for tags, folded.
	folded string
	tag    bool
	// anywhere: match as a substring (emoji, scripts without spaces).
	anywhere bool
}

func newWordRule(b tweet.Block) wordRule {
	v := strings.TrimSpace(b.Value)
	r := wordRule{block: b}
	if strings.HasPrefix(v, "#") || strings.HasPrefix(v, "＃") {
		r.tag = true
		v = tweet.NormalizeHashtag(v)
	}
	r.folded = fold(v)
	hasWordRune := false
	for _, c := range r.folded {
		if unspaced(c) {
			r.anywhere = true
		}
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			hasWordRune = true
		}
	}
	if !hasWordRune {
		r.anywhere = true
	}
	return r
}

// unspaced reports whether c belongs to a script written without spaces
// between words.
func unspaced(c rune) bool {
	return unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// wordRune is what a word is made of.
func wordRune(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsMark(c) || c == '_'
}

// matches reports whether the rule matches a post whose folded text is
// text and whose hashtags are tags.
func (r wordRule) matches(text string, tags []string) bool {
	if r.folded == "" {
		return false
	}
	if r.tag {
		for _, t := range tags {
			if fold(t) == r.folded {
				return true
			}
		}
		return containsWord(text, "#"+r.folded)
	}
	if r.anywhere {
		return strings.Contains(text, r.folded)
	}
	return containsWord(text, r.folded)
}

// containsWord reports whether word occurs in text with no word rune
// right before or after it (where word itself begins or ends with one).
func containsWord(text, word string) bool {
	first, _ := firstRune(word)
	last := lastRune(word)
	for i := 0; i <= len(text)-len(word); {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		okBefore := !wordRune(first) || start == 0 || !wordRune(lastRune(text[:start]))
		after, _ := firstRune(text[end:])
		okAfter := !wordRune(last) || end == len(text) || !wordRune(after)
		if okBefore && okAfter {
			return true
		}
		_, size := firstRune(text[start:])
		i = start + size
	}
	return false
}

func firstRune(s string) (rune, int) {
	for i, c := range s {
		if i == 0 {
			return c, len(string(c))
		}
	}
	return 0, 0
}

func lastRune(s string) rune {
	var last rune
	for _, c := range s {
		last = c
	}
	return last
}

// AuthorKey is how an author block names an author: "source:handle",
// lower-case, without "@".
func AuthorKey(source, user string) string {
	return strings.ToLower(strings.TrimSpace(source)) + ":" + strings.ToLower(strings.TrimPrefix(strings.TrimSpace(user), "@"))
}

// rules are the blocks and switches of one moment, prepared for matching.
type rules struct {
	words       []wordRule
	authors     map[string]tweet.Block
	allow       map[string]bool
	hideReposts bool
	premod      bool
}

func newRules(s tweet.ModerationSettings, blocks []tweet.Block) *rules {
	r := &rules{authors: map[string]tweet.Block{}, allow: map[string]bool{}, hideReposts: s.HideReposts, premod: s.Premoderation}
	for _, b := range blocks {
		switch b.Kind {
		case tweet.BlockAuthor:
			if src, user, ok := strings.Cut(b.Value, ":"); ok {
				r.authors[AuthorKey(src, user)] = b
			}
		case tweet.BlockWord:
			r.words = append(r.words, newWordRule(b))
		}
	}
	for _, a := range s.Allow {
		if src, user, ok := strings.Cut(a, ":"); ok {
			r.allow[AuthorKey(src, user)] = true
		}
	}
	return r
}

// Verdict is what moderation does with a new post.
type Verdict struct {
	// State is "" to show the post, else tweet.Blocked or tweet.Queued.
	State  tweet.ModerationState
	Reason string
	// Block is the id of the block that matched.
	Block string
}

// blocked returns the verdict of the blocks and the reposts switch.
func (r *rules) blocked(t *tweet.Tweet) (Verdict, bool) {
	if b, ok := r.authors[AuthorKey(t.Source, t.User)]; ok {
		return Verdict{State: tweet.Blocked, Reason: "author blocked: " + b.Value, Block: b.ID}, true
	}
	if len(r.words) > 0 {
		text := fold(t.Text)
		for _, w := range r.words {
			if w.matches(text, t.Hashtags) {
				return Verdict{State: tweet.Blocked, Reason: "word blocked: " + w.block.Value, Block: w.block.ID}, true
			}
		}
	}
	if r.hideReposts && t.Retweet {
		return Verdict{State: tweet.Blocked, Reason: "reposts are hidden"}, true
	}
	return Verdict{}, false
}

// decide returns what to do with a new post: blocks first (an allowed
// author's post with a blocked word stays blocked), then the queue,
// which allowed authors skip.
func (r *rules) decide(t *tweet.Tweet) Verdict {
	if v, ok := r.blocked(t); ok {
		return v
	}
	if r.premod && !r.allow[AuthorKey(t.Source, t.User)] {
		return Verdict{State: tweet.Queued, Reason: "pre-moderation"}
	}
	return Verdict{}
}
