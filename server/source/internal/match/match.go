// Package match decides whether a post is about the tracked terms, for the
// services that stream everything and filter nothing on their side:
// Bluesky's Jetstream sends every post on the network, and Mastodon's
// public timeline every public post its server knows.
//
// The rules are those of Twitter's track parameter, which users of a wall
// already know: the tracked terms are alternatives (a comma is OR), the
// words of one term must all occur (a space is AND), matching ignores case,
// and a word matches whole words only, so "go" does not match "going". A
// word written "#tag" matches only the hashtag; a plain word matches the
// word and the hashtag alike ("golang" matches "#golang").
package match

import (
	"slices"
	"strings"
	"unicode"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Matcher holds parsed terms. The zero Matcher matches nothing; it is safe
// for concurrent use, since Match only reads it.
type Matcher struct {
	terms [][]word // OR of ANDs
}

// word is one word of a term.
type word struct {
	// tag is set for "#tag" words: only hashtags match.
	tag bool
	// tokens is the word split as text is split. Most words are one
	// token; "go-conf" is two, which must follow each other in the text.
	tokens []string
	// substring is set for words in scripts written without spaces
	// (Chinese, Japanese, Thai), where whole-word matching would never
	// match: they match anywhere in the text.
	substring string
}

// New parses track, the tracked terms. Terms that hold no word (",", "#")
// are dropped; Empty reports whether any term is left.
func New(track []string) *Matcher {
	m := &Matcher{}
	for _, term := range track {
		var words []word
		for _, f := range strings.Fields(term) {
			if w, ok := parseWord(f); ok {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			m.terms = append(m.terms, words)
		}
	}
	return m
}

func parseWord(f string) (word, bool) {
	if strings.HasPrefix(f, "#") || strings.HasPrefix(f, "＃") {
		tag := tweet.NormalizeHashtag(f)
		return word{tag: true, tokens: []string{tag}}, tag != ""
	}
	lower := strings.ToLower(f)
	if strings.IndexFunc(lower, unspaced) >= 0 {
		return word{substring: lower}, true
	}
	toks := tokens(lower)
	return word{tokens: toks}, len(toks) > 0
}

// Empty reports whether m has no term, and so matches nothing.
func (m *Matcher) Empty() bool { return len(m.terms) == 0 }

// Match reports whether a post with this plain text and these hashtags
// (as the service lists them, with or without "#") is about one of the
// terms. Hashtags written in the text count even when the service did not
// list them.
func (m *Matcher) Match(text string, hashtags []string) bool {
	if m.Empty() {
		return false
	}
	lower := strings.ToLower(text)
	toks, inText := tokenize(lower)
	tags := make(map[string]bool, len(hashtags)+len(inText))
	for _, h := range hashtags {
		if h = tweet.NormalizeHashtag(h); h != "" {
			tags[h] = true
		}
	}
	for _, h := range inText {
		tags[h] = true
	}
	for _, term := range m.terms {
		if all(term, func(w word) bool { return w.matches(lower, toks, tags) }) {
			return true
		}
	}
	return false
}

func (w word) matches(lower string, toks []string, tags map[string]bool) bool {
	switch {
	case w.substring != "":
		return strings.Contains(lower, w.substring)
	case w.tag:
		return tags[w.tokens[0]]
	case len(w.tokens) == 1 && tags[w.tokens[0]]:
		return true
	}
	// The tokens in sequence: a window of len(w.tokens) equal to them.
	for i := 0; i+len(w.tokens) <= len(toks); i++ {
		if slices.Equal(toks[i:i+len(w.tokens)], w.tokens) {
			return true
		}
	}
	return false
}

func all(words []word, f func(word) bool) bool {
	for _, w := range words {
		if !f(w) {
			return false
		}
	}
	return true
}

// tokens splits s into words: runs of letters, digits, marks and "_".
func tokens(s string) []string {
	toks, _ := tokenize(s)
	return toks
}

// tokenize splits s like tokens and also returns the words written with a
// leading "#", normalised, which are hashtags.
func tokenize(s string) (toks, tags []string) {
	start := -1
	hashed := false
	for i, r := range s {
		if wordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			toks = append(toks, s[start:i])
			if hashed {
				tags = append(tags, tweet.NormalizeHashtag(s[start:i]))
			}
			start = -1
		}
		hashed = r == '#' || r == '＃'
	}
	if start >= 0 {
		toks = append(toks, s[start:])
		if hashed {
			tags = append(tags, tweet.NormalizeHashtag(s[start:]))
		}
	}
	return toks, tags
}

func wordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// unspaced reports whether r belongs to a script written without spaces
// between words.
func unspaced(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}
