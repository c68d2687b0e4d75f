// Package rich places the entities a service reports (links, hashtags,
// mentions) in the text Tweetwire shows, in the unit tweet.Entity uses.
//
// Services give offsets in their own units (code points for Twitter and X,
// UTF-8 bytes for Bluesky) into their own text, and Tweetwire's text is not
// always that text: HTML escapes are undone ("&amp;" becomes "&") and a
// retweet gains an "RT @author: " prefix. So a span is placed by what it
// covers, its literal text, with the service's offset as a hint: taken when
// the literal is there, else the literal is searched for after the previous
// entity. A span whose literal is not in the text is dropped; the post then
// shows that part as plain text.
package rich

import (
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Span is an entity as a service describes it.
type Span struct {
	Kind string
	// Literal is the text the entity covers, e.g. "https://t.co/k3Yq9ZpXwA",
	// "#GoConf" or "@marta_codes"; compared without regard to case.
	Literal string
	// Hint is where the service says Literal starts, in code points of
	// the text Place is given; -1 when unknown.
	Hint    int
	Href    string
	Display string
}

// Place finds spans in text and returns them as entities with UTF-16
// offsets, in the order they appear. Services list each kind of entity
// apart (URLs, then hashtags, ...), so spans are first put in the order of
// their hints.
func Place(text string, spans []Span) []tweet.Entity {
	if len(spans) == 0 {
		return nil
	}
	spans = append([]Span(nil), spans...)
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Hint < spans[j].Hint })
	runes := []rune(text)
	// units[i] is the UTF-16 offset of runes[i]; units[len(runes)] the end.
	units := make([]int, len(runes)+1)
	for i, r := range runes {
		units[i+1] = units[i] + utf16.RuneLen(r)
	}
	var out []tweet.Entity
	from := 0
	for _, s := range spans {
		lit := []rune(s.Literal)
		if len(lit) == 0 {
			continue
		}
		href, ok := tweet.SafeURL(s.Href)
		if !ok {
			// A javascript: or relative link shows as its text.
			continue
		}
		pos := -1
		if s.Hint >= from && matchAt(runes, s.Hint, lit) {
			pos = s.Hint
		} else {
			for i := from; i+len(lit) <= len(runes); i++ {
				if matchAt(runes, i, lit) {
					pos = i
					break
				}
			}
		}
		if pos < 0 {
			continue
		}
		end := pos + len(lit)
		out = append(out, tweet.Entity{Kind: s.Kind, Start: units[pos], End: units[end], Href: href, Display: s.Display})
		from = end
		if len(out) == tweet.MaxEntities {
			break
		}
	}
	return out
}

func matchAt(runes []rune, i int, lit []rune) bool {
	if i < 0 || i+len(lit) > len(runes) {
		return false
	}
	return strings.EqualFold(string(runes[i:i+len(lit)]), string(lit))
}

// ByteSpan turns a span given in UTF-8 byte offsets of text (Bluesky's
// facets, the positions of links in converted HTML) into a Span, or false
// when the offsets are outside text or split a character.
func ByteSpan(text string, start, end int, kind, href, display string) (Span, bool) {
	if start < 0 || end <= start || end > len(text) ||
		!utf8.RuneStart(text[start]) || (end < len(text) && !utf8.RuneStart(text[end])) {
		return Span{}, false
	}
	return Span{
		Kind:    kind,
		Literal: text[start:end],
		Hint:    utf8.RuneCountInString(text[:start]),
		Href:    href,
		Display: display,
	}, true
}

// ShortURL is how a link reads when the service gives no display form:
// without its scheme and "www.", cut to 30 characters with an ellipsis, as
// Twitter and Mastodon show links.
func ShortURL(u string) string {
	s := u
	for _, p := range []string{"https://", "http://"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			s = s[len(p):]
			break
		}
	}
	s = strings.TrimPrefix(s, "www.")
	s = strings.TrimSuffix(s, "/")
	if r := []rune(s); len(r) > 30 {
		s = string(r[:29]) + "…"
	}
	return s
}
