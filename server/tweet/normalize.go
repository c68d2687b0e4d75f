package tweet

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeHashtag returns tag the way Tweet.Hashtags holds it: trimmed,
// without its leading "#" (or the full-width "＃" that Twitter also accepts)
// and lower-case, so that "#GoConf", "goconf" and "＃GOCONF" count as one tag
// in statistics and filters whatever service they came from.
func NormalizeHashtag(tag string) string {
	// Trimming spaces and hashes together keeps the result stable under a
	// second call ("# #Go" would otherwise become "#go", then "go").
	tag = strings.TrimLeftFunc(tag, func(r rune) bool {
		return r == '#' || r == '＃' || unicode.IsSpace(r)
	})
	return strings.ToLower(strings.TrimRightFunc(tag, unicode.IsSpace))
}

// NormalizeHashtags normalises tags with NormalizeHashtag, drops empty and
// repeated ones, and keeps the first-seen order so the wall shows tags in the
// order the author wrote them. It never returns nil: clients receive `[]`,
// not `null`, and need no special case.
func NormalizeHashtags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, tag := range tags {
		tag = NormalizeHashtag(tag)
		if tag == "" || containsString(out, tag) {
			continue
		}
		out = append(out, tag)
	}
	return out
}

// containsString is a linear search: a post has a handful of tags, so a map
// would cost more than it saves.
func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// HashtagSpellings returns how text writes each of tags (normalised, as
// Tweet.Hashtags holds them) where that differs from the tag: "GoConf" for
// "goconf" in "… #GoConf". Only the first spelling of each tag counts, so
// a post gives at most one per tag: statistics count spellings to show a
// tag as most people write it, and a post must not weigh more by
// repeating it.
func HashtagSpellings(text string, tags []string) []string {
	var out []string
	var seen []string
	for i, r := range text {
		if r != '#' && r != '＃' {
			continue
		}
		rest := text[i+utf8.RuneLen(r):]
		end := strings.IndexFunc(rest, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) && r != '_'
		})
		if end < 0 {
			end = len(rest)
		}
		spelling := rest[:end]
		tag := NormalizeHashtag(spelling)
		if tag == "" || tag == spelling || !containsString(tags, tag) || containsString(seen, tag) {
			continue
		}
		seen = append(seen, tag)
		out = append(out, spelling)
	}
	return out
}
