package mastodon

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
)

// PlainText turns a status's HTML content into the plain text the wall
// shows. Mastodon sanitises content to a few tags (p, br, a, span and, on
// recent servers, some formatting), but content from other servers of the
// fediverse passes through it, so nothing is assumed: tags are dropped,
// entities decoded, whitespace collapsed as a browser would, paragraphs
// separated by a blank line and <br> kept as a line break. A link becomes
// its text: Mastodon writes a long URL as hidden and visible spans whose
// texts together are the whole URL, and a mention or hashtag as "@name"
// or "#tag". What comes out is text, never markup: "&lt;b&gt;" becomes
// "<b>", which the page shows as those three characters.
func PlainText(content string) string {
	text, _ := richText(content)
	return text
}

// anchor is a link of the content: where its text is in the plain text,
// in bytes, and its attributes.
type anchor struct {
	start, end  int
	href, class string
	rel         string
}

// richText is PlainText that also returns where each link's text landed.
func richText(content string) (string, []anchor) {
	z := html.NewTokenizer(strings.NewReader(content))
	var b strings.Builder
	var links []anchor
	var open *anchor // the <a> being read, if any
	newlines := 0    // line breaks owed before the next text
	space := false   // a space owed before the next text
	skipDepth := 0   // inside script, style or template
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String(), links // io.EOF; the tokenizer never fails otherwise
		case html.TextToken:
			if skipDepth > 0 {
				continue
			}
			for _, word := range splitSpace(string(z.Text())) {
				if word == "" {
					space = true
					continue
				}
				if b.Len() > 0 {
					switch {
					case newlines > 0:
						b.WriteString(strings.Repeat("\n", newlines))
					case space:
						b.WriteByte(' ')
					}
				}
				newlines, space = 0, false
				if open != nil && open.start < 0 {
					open.start = b.Len()
				}
				b.WriteString(word)
				if open != nil {
					open.end = b.Len()
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "a":
				switch {
				case tt == html.StartTagToken:
					open = &anchor{start: -1}
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						switch string(k) {
						case "href":
							open.href = string(v)
						case "class":
							open.class = string(v)
						case "rel":
							open.rel = string(v)
						}
					}
				case tt == html.EndTagToken && open != nil:
					if open.start >= 0 {
						links = append(links, *open)
					}
					open = nil
				}
			case "br":
				newlines = min(newlines+1, 2)
			case "p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6":
				newlines = 2
			case "li":
				newlines = max(newlines, 1)
			case "script", "style", "template":
				switch tt {
				case html.StartTagToken:
					skipDepth++
				case html.EndTagToken:
					skipDepth = max(skipDepth-1, 0)
				}
			}
		}
	}
}

// splitSpace splits s at runs of white space, keeping an empty string
// where each run was, so the caller knows where spaces go.
func splitSpace(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			if len(out) == 0 || out[len(out)-1] != "" {
				out = append(out, "")
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}
