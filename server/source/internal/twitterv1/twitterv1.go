// Package twitterv1 turns Twitter API v1.1 statuses into Tweetwire events.
//
// The input is the JSON the v1.1 streaming API sends and that captures and
// archives of it store: one object a line, with blank keep-alive lines and
// control messages (delete, limit, warning, ...) mixed in. The replay source
// and the live stream source both decode through this package so that a post
// looks the same on the wall whichever way it arrived.
//
// Statuses are decoded with anaconda's own types so that a status the live
// source receives through anaconda and the same status read from a file are
// normalised from identical values.
package twitterv1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/ChimeraCoder/anaconda"

	"github.com/tweetwire/tweetwire/server/source/internal/rich"
	"github.com/tweetwire/tweetwire/server/source/internal/twittertext"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// sourceName is the Tweet.Source of every post, and idPrefix the prefix of
// every Tweet.ID and deleted ID, which keeps ids unique across services.
const (
	sourceName = "twitter"
	idPrefix   = sourceName + ":"
)

// envelope is the little of a line needed to tell a status from a control
// message before paying for the full decode. A status always carries at
// least one of these top-level fields; control messages wrap their payload
// in a named key ("delete", "limit", ...) and carry none of them. Not
// created_at: user stream events ("event":"favorite") have one too.
type envelope struct {
	Delete *struct {
		Status *struct {
			IDStr string `json:"id_str"`
			// ID is a json.Number because status ids exceed 2^53 and
			// would lose digits as a float64.
			ID json.Number `json:"id"`
		} `json:"status"`
	} `json:"delete"`

	IDStr    json.RawMessage `json:"id_str"`
	ID       json.RawMessage `json:"id"`
	Text     json.RawMessage `json:"text"`
	FullText json.RawMessage `json:"full_text"`
	User     json.RawMessage `json:"user"`
}

func (e *envelope) isStatus() bool {
	return e.IDStr != nil || e.ID != nil || e.Text != nil || e.FullText != nil || e.User != nil
}

// utf8BOM is stripped because editors on Windows put it at the start of a
// file, and a replay file edited there must still play from its first line.
var utf8BOM = []byte("\xef\xbb\xbf")

// Decode decodes one line of v1.1 streaming JSON.
//
// A status becomes a tweet.Post and a status deletion notice a tweet.Delete;
// both return ok. A blank line (the stream's keep-alive) and any control
// message Tweetwire has no use for (limit, warning, scrub_geo, disconnect,
// ...) return ok false and no error, because the stream is healthy and the
// caller simply reads on. A line that is not a JSON object, or a status that
// cannot be normalised, returns an error saying what is wrong with it.
func Decode(line []byte) (ev tweet.Update, ok bool, err error) {
	line = bytes.TrimSpace(bytes.TrimPrefix(line, utf8BOM))
	if len(line) == 0 {
		return tweet.Update{}, false, nil
	}
	if line[0] != '{' {
		return tweet.Update{}, false, errors.New("line is not a JSON object: each line must hold one Twitter v1.1 status or stream message")
	}
	var env envelope
	if err := json.Unmarshal(line, &env); err != nil {
		return tweet.Update{}, false, fmt.Errorf("line is not one complete JSON object (repair or remove it): %w", err)
	}
	switch {
	case env.Delete != nil:
		return decodeDelete(&env)
	case env.isStatus():
		var t anaconda.Tweet
		if err := unmarshalStatus(line, &t); err != nil {
			return tweet.Update{}, false, err
		}
		tw, err := Normalize(t)
		if err != nil {
			return tweet.Update{}, false, err
		}
		return tweet.Post(tw), true, nil
	default:
		// limit, warning, scrub_geo, status_withheld, disconnect,
		// friends, event, and whatever Twitter adds later: the stream
		// documentation asks clients to tolerate unknown messages.
		return tweet.Update{}, false, nil
	}
}

func decodeDelete(env *envelope) (tweet.Update, bool, error) {
	st := env.Delete.Status
	if st == nil {
		// A direct message deletion: Tweetwire never showed it.
		return tweet.Update{}, false, nil
	}
	id := st.IDStr
	if id == "" {
		// Twitter always sends id_str, but a hand-written file may have
		// only the number; it is exact as a json.Number.
		id = st.ID.String()
	}
	if id == "" {
		return tweet.Update{}, false, errors.New(`delete notice has no status id: give "delete":{"status":{"id_str":"..."}}`)
	}
	if !twittertext.IsID(id) {
		return tweet.Update{}, false, fmt.Errorf("delete notice has status id %q, which is not a number: Twitter ids are decimal digits", id)
	}
	return tweet.Delete(idPrefix + id), true, nil
}

// unmarshalStatus decodes a status with anaconda's UnmarshalJSON. That
// method slices full_text by display_text_range without checking the bounds
// (anaconda tweet.go, extractExtendedTweet), so a status without "text" and
// with a range past the end of its full_text panics inside json.Unmarshal,
// in this status or any nested one (retweeted_status, quoted_status). One
// bad line must not take the server down, so the panic becomes an error.
func unmarshalStatus(line []byte, t *anaconda.Tweet) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("status has a display_text_range that does not fit its full_text (fix or remove the range): %v", p)
		}
	}()
	if err := json.Unmarshal(line, t); err != nil {
		return fmt.Errorf("status does not have Twitter v1.1's field types (check the field named in the error): %w", err)
	}
	return nil
}

// Normalize maps a v1.1 status to a tweet.Tweet.
//
// The text is the untruncated one (extended_tweet.full_text, else
// full_text, else text) with Twitter's HTML escapes undone. A retweet is
// shown as "RT @author: " followed by the original's full text, because the
// retweet's own text is cut to 140 characters; its hashtags are the
// original's too. Hashtags come from the entities Twitter extracted, not
// from parsing the text, so they match what Twitter itself linked.
func Normalize(t anaconda.Tweet) (tweet.Tweet, error) {
	if t.IdStr == "" {
		return tweet.Tweet{}, errors.New("status has no id_str: keep the id_str field Twitter sends with every status")
	}
	if !twittertext.IsID(t.IdStr) {
		return tweet.Tweet{}, fmt.Errorf("status has id_str %q, which is not a number: Twitter ids are decimal digits", t.IdStr)
	}
	if t.User.ScreenName == "" {
		return tweet.Tweet{}, fmt.Errorf("status %s has no user.screen_name: keep the user object Twitter sends with every status", t.IdStr)
	}
	created, err := time.Parse(time.RubyDate, t.CreatedAt)
	if err != nil {
		return tweet.Tweet{}, fmt.Errorf("status %s has created_at %q, which is not in Twitter's %q layout: %w",
			t.IdStr, t.CreatedAt, time.RubyDate, err)
	}

	out := tweet.Tweet{
		ID:        idPrefix + t.IdStr,
		Source:    sourceName,
		User:      t.User.ScreenName,
		Name:      t.User.Name,
		Picture:   t.User.ProfileImageUrlHttps,
		Text:      twittertext.Unescape(fullText(&t)),
		CreatedAt: created.UTC(),
		Hashtags:  hashtags(&t),
		Lang:      t.Lang,
		URL:       "https://twitter.com/" + url.PathEscape(t.User.ScreenName) + "/status/" + t.IdStr,
	}
	if out.Picture == "" {
		out.Picture = t.User.ProfileImageURL
	}
	spans, media := richParts(&t, 0)
	if orig := t.RetweetedStatus; orig != nil {
		if orig.User.ScreenName == "" {
			return tweet.Tweet{}, fmt.Errorf("status %s retweets a status with no user.screen_name: keep the retweeted_status.user object", t.IdStr)
		}
		out.Retweet = true
		out.RepostOf = &tweet.Original{User: orig.User.ScreenName, Name: orig.User.Name, Reposts: int64(orig.RetweetCount)}
		if twittertext.IsID(orig.IdStr) {
			out.RepostOf.ID = idPrefix + orig.IdStr
			out.RepostOf.URL = "https://twitter.com/" + url.PathEscape(orig.User.ScreenName) + "/status/" + orig.IdStr
		}
		prefix := "RT @" + orig.User.ScreenName + ": "
		out.Text = prefix + twittertext.Unescape(fullText(orig))
		out.Hashtags = hashtags(orig)
		if out.Lang == "" {
			out.Lang = orig.Lang
		}
		// The original's entities, after the prefix, and the prefix's
		// mention of the original's author.
		spans, media = richParts(orig, utf8.RuneCountInString(prefix))
		spans = append(spans, rich.Span{Kind: tweet.EntityMention, Literal: "@" + orig.User.ScreenName, Hint: 3, Href: profile(orig.User.ScreenName)})
	}
	out.Entities = rich.Place(out.Text, spans)
	out.Media = media
	return out, nil
}

// profile and hashtagSearch are where Twitter shows an account and a tag.
func profile(screenName string) string {
	return "https://twitter.com/" + url.PathEscape(screenName)
}

func hashtagSearch(tag string) string {
	return "https://twitter.com/hashtag/" + url.PathEscape(tag)
}

// richParts returns the entities of the text fullText chose, their hints
// moved by shift code points, and the status's media. Twitter counts
// indices in code points of the text before its HTML escapes were added;
// rich.Place copes when a capture disagrees.
func richParts(t *anaconda.Tweet, shift int) ([]rich.Span, []tweet.Media) {
	ents, ext := t.Entities, t.ExtendedEntities
	if t.ExtendedTweet.FullText != "" {
		ents, ext = t.ExtendedTweet.Entities, t.ExtendedTweet.ExtendedEntities
	}
	hint := func(indices []int) int {
		if len(indices) == 0 {
			return -1
		}
		return indices[0] + shift
	}
	var spans []rich.Span
	for _, u := range ents.Urls {
		href := u.Expanded_url
		if href == "" {
			href = u.Url
		}
		spans = append(spans, rich.Span{Kind: tweet.EntityURL, Literal: u.Url, Hint: hint(u.Indices), Href: href, Display: u.Display_url})
	}
	for _, h := range ents.Hashtags {
		spans = append(spans, rich.Span{Kind: tweet.EntityHashtag, Literal: "#" + h.Text, Hint: hint(h.Indices), Href: hashtagSearch(h.Text)})
	}
	for _, m := range ents.User_mentions {
		spans = append(spans, rich.Span{Kind: tweet.EntityMention, Literal: "@" + m.Screen_name, Hint: hint(m.Indices), Href: profile(m.Screen_name)})
	}
	// Every photo of a status shares one t.co link in its text, listed
	// in entities.media (extended_entities has all the photos).
	all := ext.Media
	if len(all) == 0 {
		all = ents.Media
	}
	if len(all) > 0 {
		m := all[0]
		spans = append(spans, rich.Span{Kind: tweet.EntityURL, Literal: m.Url, Hint: hint(m.Indices), Href: m.Expanded_url, Display: m.Display_url})
	}
	var media []tweet.Media
	for _, m := range all {
		size := m.Sizes.Large
		if size.W == 0 {
			size = m.Sizes.Medium
		}
		out := tweet.Media{Alt: m.ExtAltText, Width: size.W, Height: size.H}
		switch m.Type {
		case "photo":
			out.Type, out.URL = tweet.MediaPhoto, m.Media_url_https
		case "video", "animated_gif":
			out.Type, out.URL, out.Preview = tweet.MediaVideo, m.Expanded_url, m.Media_url_https
			if m.Type == "animated_gif" {
				out.Type = tweet.MediaGIF
			}
		default:
			continue
		}
		media = append(media, out)
	}
	return spans, media
}

// fullText returns a status's untruncated text. anaconda's UnmarshalJSON
// already copies extended_tweet.full_text into FullText, but a Tweet built
// any other way has not had that done, so the order is spelled out here.
func fullText(t *anaconda.Tweet) string {
	switch {
	case t.ExtendedTweet.FullText != "":
		return t.ExtendedTweet.FullText
	case t.FullText != "":
		return t.FullText
	default:
		return t.Text
	}
}

// hashtags takes the entities that belong to the text fullText chose: the
// top-level entities of a truncated status cover only its first 140
// characters.
func hashtags(t *anaconda.Tweet) []string {
	ents := t.Entities
	if t.ExtendedTweet.FullText != "" {
		ents = t.ExtendedTweet.Entities
	}
	tags := make([]string, 0, len(ents.Hashtags))
	for _, h := range ents.Hashtags {
		tags = append(tags, h.Text)
	}
	return tweet.NormalizeHashtags(tags)
}
