package store

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// The most reposted posts (Stats.TopPosts).
//
// A repost that names its original's id (tweet.Original.ID) counts for
// that original in three fields of the counter shard of the original's id
// (so that all its reposts meet in one document, whoever wrote them):
//
//	ro  the event's public posts that repost it ($inc, moved by Delete,
//	    Hide and Unhide like every other count)
//	rr  the highest repost count the source gave with them ($max)
//	rw  repostValue of the newest of them ($max): what the list shows
//
// rr and rw, like Who, are not taken back when a repost is deleted or
// hidden: a $max cannot be undone without reading, and both describe the
// original, not the repost (its count on the service does not drop
// because this event lost a repost of it). A recount takes them from the
// posts left. A post leaves the list when no public post reposts it any
// more, so that hiding every repost of a post hides it here too.

// maxTopText bounds the text the list keeps per post, in runes: the list
// shows the start of a post, and the counter shard holds every reposted
// post of its share of the event.
const maxTopText = 560

// original returns the original a post reposts, if the source gave its id.
func (p statsDoc) original() *authorDoc {
	if !p.Retweet || p.RepostOf == nil || p.RepostOf.ID == "" {
		return nil
	}
	return p.RepostOf
}

// repostValue is what rw keeps of a repost: its edgeKey, so that $max
// keeps the newest one's, then the original's source, author, name,
// permalink and text, after separators that sort before every byte of an
// id (see whoValue).
func repostValue(p statsDoc) string {
	o := p.original()
	return strings.Join([]string{edgeKey(p.CreatedAt, p.ID), p.Source, clean(o.User, 200), clean(o.Name, 200), clean(o.URL, 2048), topText(p.Text, o.User)}, whoSep)
}

// topText is the original's text as a repost carries it: without the
// "RT @author: " that Twitter's and X's reposts put first, cut to
// maxTopText runes.
func topText(text, user string) string {
	text = strings.TrimPrefix(text, "RT @"+user+": ")
	if utf8.RuneCountInString(text) > maxTopText {
		text = string([]rune(text)[:maxTopText-1]) + "…"
	}
	return text
}

// repostParts undoes repostValue into a PostCount without its counts.
func repostParts(id, v string) tweet.PostCount {
	parts := strings.SplitN(v, whoSep, 6)
	if len(parts) != 6 {
		return tweet.PostCount{ID: id}
	}
	return tweet.PostCount{ID: id, Source: parts[1], User: parts[2], Name: parts[3], URL: parts[4], Text: parts[5]}
}

// reposts is the part of a tally that ranks the reposted posts, keyed by
// the original's id.
type reposts struct {
	seen, reported map[string]int64
	newest         map[string]string // repostValue
}

func (r *reposts) init() {
	r.seen, r.reported, r.newest = map[string]int64{}, map[string]int64{}, map[string]string{}
}

// read records what every repost of p's original tells, public or
// hidden: the source's count and the newest text.
func (r *reposts) read(p statsDoc) {
	o := p.original()
	if o == nil {
		return
	}
	r.reported[o.ID] = max(r.reported[o.ID], o.Reposts)
	if v := repostValue(p); v > r.newest[o.ID] {
		r.newest[o.ID] = v
	}
}

// count counts p, a public post, as a repost of its original.
func (r *reposts) count(p statsDoc) {
	if o := p.original(); o != nil {
		r.seen[o.ID]++
	}
}

// top ranks the posts that public posts still repost: by Reposts, then
// Seen, then id.
func (r *reposts) top(n int) []tweet.PostCount {
	out := []tweet.PostCount{}
	for id, seen := range r.seen {
		if seen <= 0 {
			continue
		}
		c := repostParts(id, r.newest[id])
		c.Seen, c.Reported = seen, r.reported[id]
		c.Reposts = max(c.Seen, c.Reported)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b tweet.PostCount) int {
		return cmp.Or(cmp.Compare(b.Reposts, a.Reposts), cmp.Compare(b.Seen, a.Seen), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(n, len(out))]
}

// clean drops control characters, which no name, URL or handle needs and
// which could end a field of a stored value, and cuts s to n bytes.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}
