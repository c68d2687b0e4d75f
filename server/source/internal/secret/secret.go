// Package secret removes credentials from text a service sent back, before
// the text reaches a log line, /healthz or an error: a proxy or a service
// that echoes the request quotes the token as it was sent (in a header,
// "Bearer <token>"), percent-encoded (from a URL) or base64-encoded (from
// a Basic header, or a dump of the request).
package secret

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// Forms returns the ways s may be quoted back: as it is, percent-encoded
// for a query and for a path, and in each base64 alphabet with and without
// padding. Forms of a secret shorter than 8 bytes are not returned: they
// would match ordinary words, and no credential is that short.
func Forms(s string) []string {
	if len(s) < 8 {
		return nil
	}
	b := []byte(s)
	forms := []string{
		s,
		url.QueryEscape(s),
		url.PathEscape(s),
		base64.StdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
	}
	// Longest first, so that a padded form is replaced whole rather than
	// leaving its padding behind the unpadded one.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(forms)
}

// Scrub replaces every form of every secret in text with "[token]".
func Scrub(text string, secrets ...string) string {
	for _, s := range secrets {
		for _, f := range Forms(s) {
			text = strings.ReplaceAll(text, f, "[token]")
		}
	}
	return text
}
