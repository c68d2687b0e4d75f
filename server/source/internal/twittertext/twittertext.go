// Package twittertext holds the conventions of Twitter's APIs that X's v2
// API keeps: how post text is escaped, and what an id looks like.
package twittertext

import "strings"

// unescaper undoes exactly the three escapes Twitter applies to text, and
// no others: html.UnescapeString would also decode "&nbsp;" or "&#39;"
// left as typed in a hand-written file. A Replacer makes one left-to-right
// pass, so "&amp;lt;" (the author typed "&lt;") becomes "&lt;", not "<".
var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// Unescape returns text as its author typed it.
func Unescape(text string) string { return unescaper.Replace(text) }

// IsID reports whether s is a post id: decimal digits.
func IsID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
