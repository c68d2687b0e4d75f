package tweet

import (
	"net/url"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The kinds of Entity.
const (
	EntityURL     = "url"
	EntityHashtag = "hashtag"
	EntityMention = "mention"
)

// The types of Media.
const (
	MediaPhoto = "photo"
	MediaVideo = "video"
	MediaGIF   = "gif"
)

// Bounds on what one post may carry, so that a hostile or broken source
// cannot make one post cost every client megabytes: a real post has a few
// links and at most four photos on any of the services.
const (
	MaxEntities = 50
	MaxMedia    = 4
	maxURL      = 2048
	// maxDataURL allows the demo's small inline SVG images (under 1 KiB)
	// and keeps what the extension stores of 50 posts well under its
	// localStorage quota.
	maxDataURL = 4 << 10
	maxAlt     = 2000
	maxDisplay = 100
	maxSide    = 100000
)

// Entity is a link inside a post's text: a URL, a hashtag or a mention.
type Entity struct {
	// Kind is EntityURL, EntityHashtag or EntityMention.
	Kind string `json:"kind"`
	// Start and End (exclusive) delimit the entity in Tweet.Text in UTF-16
	// code units, the unit of JavaScript strings, so that a client slices
	// the text with them as they are: text.slice(start, end). The services
	// count differently (Twitter and X in code points, Bluesky in UTF-8
	// bytes); sources convert, and the two differ as soon as a post has an
	// emoji before the link.
	Start int `json:"start"`
	End   int `json:"end"`
	// Href is where the entity leads: a URL's expanded target (never the
	// t.co wrapper), a hashtag's search or a mention's profile on the
	// post's service. Always an absolute http or https URL.
	Href string `json:"href"`
	// Display, for a URL, is the short form to show in place of the text
	// ("example.com/schedule…" for "https://t.co/k3Yq9ZpXwA"); empty when
	// the text itself reads well, and for hashtags and mentions.
	Display string `json:"display,omitempty"`
}

// Media is a photo, or the still image of a video or GIF, attached to a
// post.
type Media struct {
	// Type is MediaPhoto, MediaVideo or MediaGIF.
	Type string `json:"type"`
	// URL is the full-size image of a photo; for a video or GIF, the page
	// where it plays, or its still when the service gives no page (X).
	URL string `json:"url"`
	// Preview is a smaller image to show; for a video or GIF, its still.
	// Clients show Preview when set, else URL.
	Preview string `json:"preview,omitempty"`
	// Alt is the author's description of the image, for screen readers.
	Alt string `json:"alt,omitempty"`
	// Width and Height are the image's size in pixels, or only its aspect
	// ratio, when the source gives them (0 otherwise): a client reserves
	// the space before the image loads, so the wall does not jump.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
}

// Original is the post a repost reposts, as far as the source says: its
// author always, its id, permalink and repost count where the source gives
// them (statistics rank the most reposted posts by them).
type Original struct {
	// User is the handle of the original's author, without "@".
	User string `json:"user"`
	Name string `json:"name,omitempty"`
	// ID is the original's id in the form of Tweet.ID
	// ("twitter:123"), so that reposts of one post count together.
	ID string `json:"id,omitempty"`
	// URL is the original's permalink.
	URL string `json:"url,omitempty"`
	// Reposts is how many times the source said the original had been
	// reposted when this repost was read (0: it did not say). It counts
	// reposts everywhere, not only those about the event.
	Reposts int64 `json:"reposts,omitempty"`
}

// maxOriginalID bounds Original.ID: real ids are far shorter, and the id
// becomes a key of the statistics counters.
const maxOriginalID = 256

// CleanRich bounds and checks what a source put in t.Entities, t.Media and
// t.RepostOf, so that clients receive only what they can use safely:
// entities inside the text, in order, not overlapping, not splitting a
// character, with an http(s) Href; media with http(s) images (or small
// inline data:image ones, which cannot run script); at most MaxEntities
// and MaxMedia. What fails is dropped, never repaired: a post shows as
// plain text rather than with a wrong link. Ingest calls it on every post,
// whatever the source, so a source cannot bring a javascript: link to a
// client by mistake or by malice.
func CleanRich(t *Tweet) {
	t.Entities = cleanEntities(t.Text, t.Entities)
	t.Media = cleanMedia(t.Media)
	t.RepostOf = cleanOriginal(t.RepostOf)
}

// cleanOriginal drops an original without an author, and what of it is
// unusable: a permalink that is not http(s), an id that is too long or not
// in the "<source>:<id>" form, a negative count.
func cleanOriginal(o *Original) *Original {
	if o == nil || strings.TrimSpace(o.User) == "" {
		return nil
	}
	c := *o
	if u, ok := SafeURL(c.URL); ok {
		c.URL = u
	} else {
		c.URL = ""
	}
	if src, id, ok := strings.Cut(c.ID, ":"); !ok || src == "" || id == "" || len(c.ID) > maxOriginalID || !utf8.ValidString(c.ID) {
		c.ID = ""
	}
	c.Reposts = max(c.Reposts, 0)
	return &c
}

func cleanEntities(text string, in []Entity) []Entity {
	if len(in) == 0 {
		return nil
	}
	bounds := utf16Boundaries(text)
	ents := append([]Entity(nil), in...)
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].Start < ents[j].Start })
	var out []Entity
	end := 0
	for _, e := range ents {
		switch {
		case e.Kind != EntityURL && e.Kind != EntityHashtag && e.Kind != EntityMention,
			e.Start < end, e.End <= e.Start, e.End >= len(bounds),
			!bounds[e.Start], !bounds[e.End]:
			continue
		}
		href, ok := SafeURL(e.Href)
		if !ok {
			continue
		}
		e.Href = href
		if e.Kind != EntityURL {
			e.Display = ""
		}
		e.Display = truncateRunes(e.Display, maxDisplay)
		out = append(out, e)
		end = e.End
		if len(out) == MaxEntities {
			break
		}
	}
	return out
}

func cleanMedia(in []Media) []Media {
	var out []Media
	for _, m := range in {
		if m.Type != MediaPhoto && m.Type != MediaVideo && m.Type != MediaGIF {
			continue
		}
		u, uok := safeImageURL(m.URL)
		p, pok := safeImageURL(m.Preview)
		if !uok && !pok {
			continue
		}
		m.URL, m.Preview = u, p
		if m.URL == "" {
			m.URL, m.Preview = m.Preview, ""
		}
		if m.Width <= 0 || m.Height <= 0 || m.Width > maxSide || m.Height > maxSide {
			m.Width, m.Height = 0, 0
		}
		m.Alt = truncateRunes(strings.TrimSpace(m.Alt), maxAlt)
		out = append(out, m)
		if len(out) == MaxMedia {
			break
		}
	}
	return out
}

// SafeURL returns raw when it is an absolute http or https URL with a host,
// of reasonable length, and false for anything else (javascript:, data:,
// relative, malformed).
func SafeURL(raw string) (string, bool) {
	if raw == "" || len(raw) > maxURL || strings.ContainsAny(raw, " \t\r\n") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return raw, true
	}
	return "", false
}

// safeImageURL is SafeURL that also accepts small inline raster or SVG
// images: an <img> never runs script, whatever it shows.
func safeImageURL(raw string) (string, bool) {
	lower := strings.ToLower(raw)
	for _, p := range []string{"data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp", "data:image/svg+xml"} {
		if strings.HasPrefix(lower, p) && len(raw) <= maxDataURL {
			return raw, true
		}
	}
	return SafeURL(raw)
}

// UTF16Len is the length of s in UTF-16 code units, the unit of
// Entity.Start and End.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// utf16Boundaries reports, for each UTF-16 offset from 0 to UTF16Len(s),
// whether it falls between two characters rather than inside a surrogate
// pair.
func utf16Boundaries(s string) []bool {
	b := make([]bool, 0, len(s)+1)
	for _, r := range s {
		b = append(b, true)
		if utf16.RuneLen(r) == 2 {
			b = append(b, false)
		}
	}
	return append(b, true)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
