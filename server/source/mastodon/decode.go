package mastodon

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/source/internal/rich"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// status is the part of Mastodon's Status entity the wall uses.
type status struct {
	ID          string  `json:"id"`
	CreatedAt   string  `json:"created_at"`
	Content     string  `json:"content"`
	SpoilerText string  `json:"spoiler_text"`
	URL         string  `json:"url"`
	URI         string  `json:"uri"`
	Language    string  `json:"language"`
	Account     account `json:"account"`
	Tags        []tag   `json:"tags"`
	Reblog      *status `json:"reblog"`
	Media       []media `json:"media_attachments"`
	// ReblogsCount is how many times the status has been boosted, as far
	// as the server knows.
	ReblogsCount int64 `json:"reblogs_count"`
}

// media is a Mastodon MediaAttachment.
type media struct {
	// Type is image, gifv, video, audio or unknown.
	Type        string `json:"type"`
	URL         string `json:"url"`
	PreviewURL  string `json:"preview_url"`
	RemoteURL   string `json:"remote_url"`
	Description string `json:"description"`
	Meta        struct {
		Original struct {
			Width  int `json:"width"`
			Height int `json:"height"`
		} `json:"original"`
	} `json:"meta"`
}

type account struct {
	Acct         string `json:"acct"`
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	Avatar       string `json:"avatar"`
	AvatarStatic string `json:"avatar_static"`
}

type tag struct {
	Name string `json:"name"`
}

// Decode reads one event of a Mastodon stream from host (the server's
// host[:port], which makes ids unique: a status id is only unique on the
// server that gave it). "update" gives a post and "delete" a delete; other
// events ("status.update" for an edit, notifications, announcements) give
// ok false. An error says what is malformed; the caller skips the event.
func Decode(host, event string, data []byte) (ev tweet.Update, ok bool, err error) {
	switch event {
	case "update":
		var st status
		if err := json.Unmarshal(data, &st); err != nil {
			return tweet.Update{}, false, fmt.Errorf("update is not a status: %w", err)
		}
		t, err := toTweet(host, st)
		if err != nil {
			return tweet.Update{}, false, err
		}
		return tweet.Post(t), true, nil
	case "delete":
		id := string(data)
		if !validID(id) {
			return tweet.Update{}, false, fmt.Errorf("delete of an invalid status id %q", truncate(id, 40))
		}
		return tweet.Delete(postID(host, id)), true, nil
	default:
		// An edit cannot change a post the wall showed: skipped.
		return tweet.Update{}, false, nil
	}
}

func postID(host, id string) string { return "mastodon:" + host + ":" + id }

// toTweet normalises a status. A reblog (boost) is the booster's post, as
// a retweet is on Twitter, with the original's text, tags and language.
func toTweet(host string, st status) (tweet.Tweet, error) {
	if !validID(st.ID) {
		return tweet.Tweet{}, fmt.Errorf("status with an invalid id %q", truncate(st.ID, 40))
	}
	user := st.Account.Acct
	if user == "" {
		user = st.Account.Username
	}
	user = strings.TrimPrefix(user, "@")
	if user == "" {
		return tweet.Tweet{}, fmt.Errorf("status %s has no account", st.ID)
	}
	created, err := time.Parse(time.RFC3339Nano, st.CreatedAt)
	if err != nil {
		return tweet.Tweet{}, fmt.Errorf("status %s has no valid created_at: %w", st.ID, err)
	}
	orig := st
	if st.Reblog != nil {
		orig = *st.Reblog
	}
	var tags []string
	for _, t := range orig.Tags {
		tags = append(tags, t.Name)
	}
	text, links := richText(orig.Content)
	shift := 0
	if cw := strings.TrimSpace(orig.SpoilerText); cw != "" {
		// The content warning comes first, as Mastodon shows it.
		shift = len(cw) + 2
		text = strings.TrimSpace(cw + "\n\n" + text)
	}
	name := strings.TrimSpace(st.Account.DisplayName)
	if name == "" {
		name = st.Account.Username
	}
	picture := st.Account.AvatarStatic
	if picture == "" {
		picture = st.Account.Avatar
	}
	url := st.URL
	if url == "" && st.Reblog != nil {
		url = st.Reblog.URL
	}
	if url == "" {
		url = orig.URI
	}
	return tweet.Tweet{
		ID:        postID(host, st.ID),
		Source:    "mastodon",
		User:      user,
		Name:      name,
		Picture:   picture,
		Text:      text,
		CreatedAt: created.UTC(),
		Hashtags:  tweet.NormalizeHashtags(tags),
		Lang:      orig.Language,
		URL:       url,
		Retweet:   st.Reblog != nil,
		RepostOf:  repostOf(host, st.Reblog),
		Entities:  entities(text, links, shift),
		Media:     attachments(orig.Media),
	}, nil
}

// repostOf describes a boosted status. Its id is the one the followed
// server gave it (a boost seen on two servers counts as two posts), and
// its URL the one on its own server.
func repostOf(host string, orig *status) *tweet.Original {
	if orig == nil {
		return nil
	}
	user := strings.TrimPrefix(orig.Account.Acct, "@")
	if user == "" {
		user = orig.Account.Username
	}
	o := &tweet.Original{User: user, Name: strings.TrimSpace(orig.Account.DisplayName), URL: cmp.Or(orig.URL, orig.URI), Reposts: orig.ReblogsCount}
	if validID(orig.ID) {
		o.ID = postID(host, orig.ID)
	}
	return o
}

// entities turns the content's links into entities: Mastodon marks a
// hashtag with class "hashtag" (or rel="tag") and a mention with class
// "mention"; both link to the page of the tag or account on its server.
// Any other link is a URL, shown shortened, since the text holds it whole.
func entities(text string, links []anchor, shift int) []tweet.Entity {
	var spans []rich.Span
	for _, a := range links {
		classes := strings.Fields(a.class)
		kind, display := tweet.EntityURL, ""
		switch {
		case slices.Contains(classes, "hashtag") || slices.Contains(strings.Fields(a.rel), "tag"):
			kind = tweet.EntityHashtag
		case slices.Contains(classes, "mention"):
			kind = tweet.EntityMention
		default:
			display = rich.ShortURL(a.href)
		}
		if s, ok := rich.ByteSpan(text, a.start+shift, a.end+shift, kind, a.href, display); ok {
			spans = append(spans, s)
		}
	}
	return rich.Place(text, spans)
}

// attachments maps the pictures of a status; audio and unknown files are
// not shown.
func attachments(in []media) []tweet.Media {
	var out []tweet.Media
	for _, m := range in {
		u := m.URL
		if u == "" {
			// Not yet cached by this server: the original's.
			u = m.RemoteURL
		}
		tm := tweet.Media{URL: u, Preview: m.PreviewURL, Alt: m.Description, Width: m.Meta.Original.Width, Height: m.Meta.Original.Height}
		switch m.Type {
		case "image":
			tm.Type = tweet.MediaPhoto
		case "gifv":
			tm.Type = tweet.MediaGIF
		case "video":
			tm.Type = tweet.MediaVideo
		default:
			continue
		}
		out = append(out, tm)
	}
	return out
}

// validID accepts what a status id may be: Mastodon's are decimal
// snowflakes, other servers' API-compatible ids are opaque; none has white
// space, control characters, or more than 100 bytes.
func validID(id string) bool {
	if id == "" || len(id) > 100 {
		return false
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
