// Package stats renders an event's statistics for people (text), for
// programs (JSON) and for spreadsheets (CSV): the output of the
// `tweetwire stats` command. Computing them is the store's job; this
// package only writes them out, so it imports nothing but the domain.
package stats

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Formats are the names Write accepts, the default first.
var Formats = []string{"text", "json", "csv"}

// Write renders s to w in format: "text" (or ""), "json" or "csv". An
// unknown format is an EINVALID error.
func Write(w io.Writer, s tweet.Stats, format string) error {
	switch format {
	case "", "text":
		return writeText(w, s)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	case "csv":
		return writeCSV(w, s)
	default:
		return tweet.Errorf(tweet.EINVALID, "unknown stats format %q: use %s", format, strings.Join(Formats, ", "))
	}
}

const (
	minuteLayout = "2006-01-02 15:04 MST"
	secondLayout = "2006-01-02 15:04:05 MST"
	// barWidth is the widest timeline bar in the text output.
	barWidth = 40
)

func writeText(w io.Writer, s tweet.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	ev := s.Event
	span := "running since " + ev.Start.Format(minuteLayout)
	if !ev.Running() {
		span = ev.Start.Format(minuteLayout) + " to " + ev.End.Format(minuteLayout)
	}
	fmt.Fprintf(tw, "Event\t%s (%s)\n", clean(ev.Name), span)
	if len(ev.Terms) > 0 {
		terms := make([]string, len(ev.Terms))
		for i, t := range ev.Terms {
			terms[i] = clean(t)
		}
		fmt.Fprintf(tw, "Terms\t%s\n", strings.Join(terms, ", "))
	}
	fmt.Fprintf(tw, "Posts\t%d\n", s.Total)
	if s.Total == 0 {
		return tw.Flush()
	}
	fmt.Fprintf(tw, "Authors\t%d distinct\n", s.Authors)
	fmt.Fprintf(tw, "Retweets\t%d (%.1f%%)\n", s.Retweets, 100*s.RetweetShare)
	fmt.Fprintf(tw, "Peak\t%d posts in the minute from %s\n", s.Peak.Count, s.Peak.Minute.Format(minuteLayout))
	if s.First != nil {
		fmt.Fprintf(tw, "First post\t%s by @%s: %s\n", s.First.CreatedAt.Format(secondLayout), clean(s.First.User), clean(s.First.ID))
	}
	if s.Last != nil {
		fmt.Fprintf(tw, "Last post\t%s by @%s: %s\n", s.Last.CreatedAt.Format(secondLayout), clean(s.Last.User), clean(s.Last.ID))
	}

	section := func(title string, rows []tweet.Count, prefix string) {
		fmt.Fprintf(tw, "\n%s\n", title)
		for _, c := range rows {
			// A hashtag as most of its posts write it ("GoConf").
			fmt.Fprintf(tw, "  %s%s\t%d\n", prefix, clean(cmp.Or(c.Display, c.Key)), c.Count)
		}
	}
	section("Sources", s.Sources, "")
	section("Languages", s.Langs, "")
	fmt.Fprintf(tw, "\nTop authors\n")
	for _, a := range s.TopAuthors {
		fmt.Fprintf(tw, "  @%s (%s)\t%d\n", clean(a.User), clean(a.Source), a.Count)
	}
	section("Top hashtags", s.TopHashtags, "#")
	if len(s.TopPosts) > 0 {
		fmt.Fprintf(tw, "\nMost reposted\n")
		for _, p := range s.TopPosts {
			fmt.Fprintf(tw, "  %s by @%s: %s\t%d\n", clean(p.ID), clean(p.User), clean(excerpt(p.Text, 60)), p.Reposts)
		}
	}

	fmt.Fprintf(tw, "\nPosts per minute (UTC)\n")
	for _, m := range s.Timeline {
		bar := 0
		if s.Peak.Count > 0 {
			bar = int((m.Count*barWidth + s.Peak.Count - 1) / s.Peak.Count) // a post shows
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", m.Minute.Format("2006-01-02 15:04"), m.Count, strings.Repeat("#", bar))
	}
	return tw.Flush()
}

// excerpt cuts s to n runes, with "…" when it cut.
func excerpt(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// clean makes untrusted text safe for a terminal: control characters
// (escape sequences could rewrite the screen) become U+FFFD.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\t' {
			return '\uFFFD'
		}
		return r
	}, s)
}

// writeCSV writes one long table, section,key,value, that a spreadsheet
// can pivot: every figure is a row.
func writeCSV(w io.Writer, s tweet.Stats) error {
	cw := csv.NewWriter(w)
	row := func(section, key, value string) {
		_ = cw.Write([]string{section, cell(key), cell(value)})
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	row("section", "key", "value")
	row("event", "name", s.Event.Name)
	row("event", "terms", strings.Join(s.Event.Terms, " "))
	row("event", "start", at(s.Event.Start))
	row("event", "end", at(s.Event.End))
	row("summary", "posts", n(s.Total))
	row("summary", "authors", n(s.Authors))
	row("summary", "retweets", n(s.Retweets))
	row("summary", "retweet_share", strconv.FormatFloat(s.RetweetShare, 'f', 4, 64))
	if s.Total > 0 {
		row("summary", "peak_minute", at(s.Peak.Minute))
		row("summary", "peak_posts", n(s.Peak.Count))
	}
	if s.First != nil {
		row("summary", "first_post", s.First.ID)
		row("summary", "first_post_at", at(s.First.CreatedAt))
	}
	if s.Last != nil {
		row("summary", "last_post", s.Last.ID)
		row("summary", "last_post_at", at(s.Last.CreatedAt))
	}
	for _, c := range s.Sources {
		row("source", c.Key, n(c.Count))
	}
	for _, c := range s.Langs {
		row("lang", c.Key, n(c.Count))
	}
	for _, a := range s.TopAuthors {
		row("author", a.Source+":"+a.User, n(a.Count))
	}
	for _, c := range s.TopHashtags {
		row("hashtag", c.Key, n(c.Count))
	}
	for _, p := range s.TopPosts {
		row("reposted", p.ID, n(p.Reposts))
	}
	for _, m := range s.Timeline {
		row("minute", at(m.Minute), n(m.Count))
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses text a spreadsheet would run as a formula: a hashtag or a
// handle is untrusted and could start with "=".
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
