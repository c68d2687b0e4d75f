package bluesky

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/rich"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// PostCollection is the record collection of posts; reposts and likes are
// collections of their own, which the subscription does not ask for.
const PostCollection = "app.bsky.feed.post"

// Message is what one Jetstream message means to Tweetwire.
type Message struct {
	// TimeUS is the message's time_us, the cursor to resume after it; 0
	// when the message had none.
	TimeUS int64
	// DID is the account the message is about.
	DID string
	// Event is a post or a delete; its Kind is 0 for messages that carry
	// neither (accounts, other collections, edits).
	Event tweet.Update
	// Identity is set for an identity message: the account's handle may
	// have changed, so a cached profile is stale.
	Identity bool
}

// Decode reads one Jetstream message (a WebSocket text frame).
//
// A post comes with its author's DID as User and no Name or Picture:
// Jetstream carries only the record, and the source fills the rest from
// the author's profile. Errors say what is malformed; the caller skips the
// message.
func Decode(msg []byte) (Message, error) {
	var m struct {
		DID    string `json:"did"`
		TimeUS int64  `json:"time_us"`
		Kind   string `json:"kind"`
		Commit *struct {
			Operation  string          `json:"operation"`
			Collection string          `json:"collection"`
			RKey       string          `json:"rkey"`
			Record     json.RawMessage `json:"record"`
		} `json:"commit"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		return Message{}, fmt.Errorf("not a Jetstream message: %w", err)
	}
	if m.TimeUS < 0 {
		return Message{}, fmt.Errorf("negative time_us %d", m.TimeUS)
	}
	out := Message{TimeUS: m.TimeUS, DID: m.DID}
	switch m.Kind {
	case "identity":
		if !validDID(m.DID) {
			return Message{}, fmt.Errorf("identity message with invalid did %q", m.DID)
		}
		out.Identity = true
		return out, nil
	case "commit":
	default:
		return out, nil // "account" and kinds added later
	}
	c := m.Commit
	if c == nil {
		return Message{}, errors.New("commit message without a commit")
	}
	if c.Collection != PostCollection {
		return out, nil
	}
	if !validDID(m.DID) {
		return Message{}, fmt.Errorf("commit with invalid did %q", m.DID)
	}
	if !validRKey(c.RKey) {
		return Message{}, fmt.Errorf("commit with invalid rkey %q", c.RKey)
	}
	id := "bluesky:" + m.DID + "/" + c.RKey
	switch c.Operation {
	case "delete":
		out.Event = tweet.Delete(id)
		return out, nil
	case "create":
	default:
		// "update": posts are not edited on Bluesky today, and the wall
		// has no way to change a post it showed.
		return out, nil
	}
	var rec struct {
		Text      string   `json:"text"`
		CreatedAt string   `json:"createdAt"`
		Langs     []string `json:"langs"`
		Tags      []string `json:"tags"`
		Facets    []facet  `json:"facets"`
		Embed     *embed   `json:"embed"`
	}
	if len(c.Record) == 0 || string(c.Record) == "null" {
		return Message{}, fmt.Errorf("create of %s without a record", id)
	}
	if err := json.Unmarshal(c.Record, &rec); err != nil {
		return Message{}, fmt.Errorf("post %s has a malformed record: %w", id, err)
	}
	var tags []string
	for _, f := range rec.Facets {
		for _, feat := range f.Features {
			if feat.Type == "app.bsky.richtext.facet#tag" {
				tags = append(tags, feat.Tag)
			}
		}
	}
	// record.tags are hashtags the author added outside the text.
	tags = append(tags, rec.Tags...)
	t := tweet.Tweet{
		ID:        id,
		Source:    "bluesky",
		User:      m.DID,
		Text:      rec.Text,
		CreatedAt: createdAt(rec.CreatedAt, m.TimeUS),
		Hashtags:  tweet.NormalizeHashtags(tags),
		URL:       "https://bsky.app/profile/" + m.DID + "/post/" + c.RKey,
		Entities:  entities(rec.Text, rec.Facets),
		Media:     rec.Embed.media(m.DID),
	}
	if len(rec.Langs) > 0 {
		t.Lang = rec.Langs[0]
	}
	out.Event = tweet.Post(t)
	return out, nil
}

// facet is a range of a post's text, in UTF-8 bytes, and what it is:
// app.bsky.richtext.facet with its #link, #mention and #tag features.
type facet struct {
	Index struct {
		ByteStart int `json:"byteStart"`
		ByteEnd   int `json:"byteEnd"`
	} `json:"index"`
	Features []struct {
		Type string `json:"$type"`
		Tag  string `json:"tag"`
		URI  string `json:"uri"`
		DID  string `json:"did"`
	} `json:"features"`
}

// entities turns facets into entities. The text of a link facet is what
// the author's client wrote, usually already shortened
// ("goconf.example/sched..."), so it shows as it is.
func entities(text string, facets []facet) []tweet.Entity {
	var spans []rich.Span
	for _, f := range facets {
		for _, feat := range f.Features {
			var kind, href string
			switch feat.Type {
			case "app.bsky.richtext.facet#link":
				kind, href = tweet.EntityURL, feat.URI
			case "app.bsky.richtext.facet#mention":
				if !validDID(feat.DID) {
					continue
				}
				kind, href = tweet.EntityMention, "https://bsky.app/profile/"+feat.DID
			case "app.bsky.richtext.facet#tag":
				kind, href = tweet.EntityHashtag, "https://bsky.app/hashtag/"+url.PathEscape(feat.Tag)
			default:
				continue
			}
			if s, ok := rich.ByteSpan(text, f.Index.ByteStart, f.Index.ByteEnd, kind, href, ""); ok {
				spans = append(spans, s)
			}
			break // one link per range
		}
	}
	return rich.Place(text, spans)
}

// embed is the part of a post's embed that holds pictures: images
// (app.bsky.embed.images), a video (app.bsky.embed.video), or either
// next to a quoted post (app.bsky.embed.recordWithMedia).
type embed struct {
	Type   string  `json:"$type"`
	Images []image `json:"images"`
	// Video, Alt and AspectRatio are a video's.
	Video       *blob  `json:"video"`
	Alt         string `json:"alt"`
	AspectRatio *ratio `json:"aspectRatio"`
	Media       *embed `json:"media"`
}

type image struct {
	Alt         string `json:"alt"`
	Image       *blob  `json:"image"`
	AspectRatio *ratio `json:"aspectRatio"`
}

type blob struct {
	Ref struct {
		Link string `json:"$link"`
	} `json:"ref"`
}

type ratio struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

func (r *ratio) size() (int, int) {
	if r == nil {
		return 0, 0
	}
	return r.Width, r.Height
}

// media returns the images of e, served by Bluesky's CDN (the URLs its own
// app uses: a blob is addressed by its author's DID and its CID), and a
// video's still.
func (e *embed) media(did string) []tweet.Media {
	if e == nil {
		return nil
	}
	switch e.Type {
	case "app.bsky.embed.images":
		var out []tweet.Media
		for _, img := range e.Images {
			if img.Image == nil || !validCID(img.Image.Ref.Link) {
				continue
			}
			cid := img.Image.Ref.Link
			w, h := img.AspectRatio.size()
			out = append(out, tweet.Media{
				Type:    tweet.MediaPhoto,
				URL:     "https://cdn.bsky.app/img/feed_fullsize/plain/" + did + "/" + cid + "@jpeg",
				Preview: "https://cdn.bsky.app/img/feed_thumbnail/plain/" + did + "/" + cid + "@jpeg",
				Alt:     img.Alt,
				Width:   w,
				Height:  h,
			})
		}
		return out
	case "app.bsky.embed.video":
		if e.Video == nil || !validCID(e.Video.Ref.Link) {
			return nil
		}
		w, h := e.AspectRatio.size()
		return []tweet.Media{{
			Type:   tweet.MediaVideo,
			URL:    "https://video.bsky.app/watch/" + url.PathEscape(did) + "/" + e.Video.Ref.Link + "/thumbnail.jpg",
			Alt:    e.Alt,
			Width:  w,
			Height: h,
		}}
	case "app.bsky.embed.recordWithMedia":
		return e.Media.media(did)
	}
	return nil
}

// validCID accepts the base32 or base58 CIDs blobs are addressed by: only
// letters and digits, so one cannot change the path of a CDN URL.
func validCID(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !alnum(r) {
			return false
		}
	}
	return true
}

// createdAt is the record's createdAt, which the author's client sets and
// may get wrong: one that does not parse, or lies more than five minutes
// past the time Jetstream saw the post, gives way to that time.
func createdAt(s string, timeUS int64) time.Time {
	seen := time.UnixMicro(timeUS).UTC()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 || (timeUS > 0 && t.After(seen.Add(5*time.Minute))) {
		if timeUS == 0 {
			return time.Time{}
		}
		return seen
	}
	return t.UTC()
}

// validDID accepts the DID syntax of the AT Protocol: "did:", a lower-case
// method, ":", and an identifier of letters, digits and ._:%-.
func validDID(s string) bool {
	rest, ok := strings.CutPrefix(s, "did:")
	if !ok || len(s) > 2048 {
		return false
	}
	method, id, ok := strings.Cut(rest, ":")
	if !ok || method == "" || id == "" || strings.HasSuffix(id, ":") || strings.HasSuffix(id, "%") {
		return false
	}
	for _, r := range method {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	for _, r := range id {
		if !alnum(r) && !strings.ContainsRune("._:%-", r) {
			return false
		}
	}
	return true
}

// validRKey accepts the record key syntax: 1 to 512 of letters, digits and
// ._:~-, but not "." or "..".
func validRKey(s string) bool {
	if s == "" || len(s) > 512 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !alnum(r) && !strings.ContainsRune("._:~-", r) {
			return false
		}
	}
	return true
}

func alnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
