package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/source/internal/rich"
	"github.com/tweetwire/tweetwire/server/source/internal/twittertext"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// sourceName is the Tweet.Source of every post, and idPrefix the prefix of
// every Tweet.ID and deleted ID. X ids are Twitter's, but a post read from
// X is "x:<id>" so that it never collides with the same post read by the
// twitter source or a replay.
const (
	sourceName = "x"
	idPrefix   = sourceName + ":"
)

// Message is one line of the filtered stream, decoded.
type Message struct {
	// Event is the post or the deletion the line carries; its Kind is 0
	// for a keep-alive or a message with neither.
	Event tweet.Update
	// RuleIDs are the ids of the stream rules the post matched.
	RuleIDs []string
	// Problems are the error objects of a line that carries no post: X
	// announces operational disconnects and stream errors this way.
	Problems []Problem
}

// Problem is one of the v2 API's error objects: RFC 7807 problem details
// with X's additions.
type Problem struct {
	Title           string `json:"title"`
	Detail          string `json:"detail"`
	Type            string `json:"type"`
	DisconnectType  string `json:"disconnect_type"`
	ConnectionIssue string `json:"connection_issue"`
	// Message is what the older error objects carry instead of Detail.
	Message string `json:"message"`
}

// Disconnect reports whether the problem announces the end of the stream,
// which X closes right after: an operational disconnect or a connection
// problem.
func (p Problem) Disconnect() bool {
	return p.DisconnectType != "" || p.ConnectionIssue != "" ||
		p.Title == "operational-disconnect" ||
		strings.HasSuffix(p.Type, "/operational-disconnect") ||
		strings.HasSuffix(p.Type, "/streaming-connection")
}

func (p Problem) String() string {
	detail := p.Detail
	if detail == "" {
		detail = p.Message
	}
	switch {
	case p.Title == "":
		return detail
	case detail == "":
		return p.Title
	default:
		return p.Title + ": " + detail
	}
}

// The wire format: a post under "data", the users and posts it refers to
// under "includes", and the rules it matched.
type wireMessage struct {
	Data          *wireData `json:"data"`
	Includes      includes  `json:"includes"`
	MatchingRules []struct {
		ID string `json:"id"`
	} `json:"matching_rules"`
	Errors []Problem `json:"errors"`
}

type wireData struct {
	wirePost
	// Delete is the v2 compliance event for a deleted post. The filtered
	// stream does not send deletions as of this writing; the compliance
	// streams do, in this shape, and a stream that carries them is
	// honoured.
	Delete *struct {
		Tweet struct {
			ID string `json:"id"`
		} `json:"tweet"`
	} `json:"delete"`
}

type wirePost struct {
	ID        string   `json:"id"`
	Text      string   `json:"text"`
	AuthorID  string   `json:"author_id"`
	CreatedAt string   `json:"created_at"`
	Lang      string   `json:"lang"`
	Entities  entities `json:"entities"`
	// NoteTweet holds the untruncated text of a post over 280
	// characters, whose Text is cut.
	NoteTweet *struct {
		Text     string   `json:"text"`
		Entities entities `json:"entities"`
	} `json:"note_tweet"`
	ReferencedTweets []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"referenced_tweets"`
	Attachments struct {
		MediaKeys []string `json:"media_keys"`
	} `json:"attachments"`
	// PublicMetrics are the post's counts when it was sent; a repost's
	// original carries how many times it has been reposted.
	PublicMetrics struct {
		RetweetCount int64 `json:"retweet_count"`
	} `json:"public_metrics"`
}

// entities hold offsets in code points of the text they belong to.
type entities struct {
	Hashtags []struct {
		Start int    `json:"start"`
		Tag   string `json:"tag"`
	} `json:"hashtags"`
	Mentions []struct {
		Start    int    `json:"start"`
		Username string `json:"username"`
	} `json:"mentions"`
	URLs []struct {
		Start       int    `json:"start"`
		URL         string `json:"url"`
		ExpandedURL string `json:"expanded_url"`
		DisplayURL  string `json:"display_url"`
	} `json:"urls"`
}

type media struct {
	Key             string `json:"media_key"`
	Type            string `json:"type"`
	URL             string `json:"url"`
	PreviewImageURL string `json:"preview_image_url"`
	AltText         string `json:"alt_text"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
}

type user struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Username        string `json:"username"`
	ProfileImageURL string `json:"profile_image_url"`
}

type includes struct {
	Users  []user     `json:"users"`
	Tweets []wirePost `json:"tweets"`
	Media  []media    `json:"media"`
}

// media returns the photos and video stills of p that came in includes,
// in p's order.
func (inc *includes) media(p *wirePost) []tweet.Media {
	var out []tweet.Media
	for _, key := range p.Attachments.MediaKeys {
		for _, m := range inc.Media {
			if m.Key != key {
				continue
			}
			tm := tweet.Media{Alt: m.AltText, Width: m.Width, Height: m.Height}
			switch m.Type {
			case "photo":
				tm.Type, tm.URL = tweet.MediaPhoto, m.URL
			case "video", "animated_gif":
				// The stream gives no page for the video itself: its
				// still links to the post.
				tm.Type, tm.URL = tweet.MediaVideo, m.PreviewImageURL
				if m.Type == "animated_gif" {
					tm.Type = tweet.MediaGIF
				}
			default:
				continue
			}
			out = append(out, tm)
			break
		}
	}
	return out
}

func (inc *includes) user(id string) *user {
	for i := range inc.Users {
		if inc.Users[i].ID == id {
			return &inc.Users[i]
		}
	}
	return nil
}

func (inc *includes) post(id string) *wirePost {
	for i := range inc.Tweets {
		if inc.Tweets[i].ID == id {
			return &inc.Tweets[i]
		}
	}
	return nil
}

// Decode decodes one line of the X API v2 filtered stream.
//
// A post becomes a tweet.Post and a deletion a tweet.Delete. A blank line
// (the keep-alive) and a message Tweetwire has no use for return a zero
// Message, and a line of error objects returns them as Problems; neither
// is an error, since the stream is working. A line that is not a JSON
// object, or a post that cannot be normalised, returns an error saying
// what is wrong with it.
func Decode(line []byte) (Message, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Message{}, nil
	}
	if line[0] != '{' {
		return Message{}, errors.New("line is not a JSON object: each line of the X stream holds one message")
	}
	var m wireMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return Message{}, fmt.Errorf("line is not one complete X API v2 message: %w", err)
	}
	if m.Data == nil {
		return Message{Problems: m.Errors}, nil
	}
	if d := m.Data.Delete; d != nil {
		if !twittertext.IsID(d.Tweet.ID) {
			return Message{}, fmt.Errorf("delete event has post id %q, which is not a number: X ids are decimal digits", d.Tweet.ID)
		}
		return Message{Event: tweet.Delete(idPrefix + d.Tweet.ID)}, nil
	}
	t, err := normalize(&m.Data.wirePost, &m.Includes)
	if err != nil {
		return Message{}, err
	}
	msg := Message{Event: tweet.Post(t)}
	for _, r := range m.MatchingRules {
		msg.RuleIDs = append(msg.RuleIDs, r.ID)
	}
	return msg, nil
}

// normalize maps a v2 post and the includes that came with it to a
// tweet.Tweet.
//
// The text is note_tweet.text when the post has one (a post over 280
// characters, whose text is cut), else text, with X's HTML escapes undone.
// A repost is shown as "RT @author: " followed by the original's full
// text, from the included original, because the repost's own text is cut
// at 140 characters; without the original it keeps its own text. Hashtags
// come from the entities X extracted for the text chosen.
func normalize(p *wirePost, inc *includes) (tweet.Tweet, error) {
	if !twittertext.IsID(p.ID) {
		return tweet.Tweet{}, fmt.Errorf("post has id %q, which is not a number: X ids are decimal digits", p.ID)
	}
	author := inc.user(p.AuthorID)
	if author == nil || author.Username == "" {
		return tweet.Tweet{}, fmt.Errorf("post %s has no author with a username in includes.users: the stream must be read with expansions=author_id and user.fields=username", p.ID)
	}
	created, err := time.Parse(time.RFC3339, p.CreatedAt)
	if err != nil {
		return tweet.Tweet{}, fmt.Errorf("post %s has created_at %q, which is not an RFC 3339 time: the stream must be read with tweet.fields=created_at", p.ID, p.CreatedAt)
	}
	text, tags, spans := p.full(0)
	out := tweet.Tweet{
		ID:        idPrefix + p.ID,
		Source:    sourceName,
		User:      author.Username,
		Name:      author.Name,
		Picture:   author.ProfileImageURL,
		Text:      twittertext.Unescape(text),
		CreatedAt: created.UTC(),
		Hashtags:  tags,
		Lang:      p.Lang,
		URL:       "https://x.com/" + url.PathEscape(author.Username) + "/status/" + p.ID,
		Media:     inc.media(p),
	}
	for _, ref := range p.ReferencedTweets {
		if ref.Type != "retweeted" {
			continue
		}
		out.Retweet = true
		orig := inc.post(ref.ID)
		if orig == nil {
			break
		}
		if ou := inc.user(orig.AuthorID); ou != nil && ou.Username != "" {
			prefix := "RT @" + ou.Username + ": "
			otext, otags, ospans := orig.full(utf8.RuneCountInString(prefix))
			out.Text = prefix + twittertext.Unescape(otext)
			out.Hashtags = otags
			spans = append(ospans, rich.Span{Kind: tweet.EntityMention, Literal: "@" + ou.Username, Hint: 3, Href: profile(ou.Username)})
			out.RepostOf = &tweet.Original{
				User: ou.Username, Name: ou.Name, ID: idPrefix + orig.ID, Reposts: orig.PublicMetrics.RetweetCount,
				URL: "https://x.com/" + url.PathEscape(ou.Username) + "/status/" + orig.ID,
			}
			if m := inc.media(orig); len(m) > 0 {
				out.Media = m
			}
			if out.Lang == "" {
				out.Lang = orig.Lang
			}
		}
		break
	}
	out.Entities = rich.Place(out.Text, spans)
	return out, nil
}

func profile(username string) string { return "https://x.com/" + url.PathEscape(username) }

// full returns the untruncated text, its hashtags, and its entities with
// their hints moved by shift code points.
func (p *wirePost) full(shift int) (string, []string, []rich.Span) {
	text, ents := p.Text, p.Entities
	if p.NoteTweet != nil && p.NoteTweet.Text != "" {
		text, ents = p.NoteTweet.Text, p.NoteTweet.Entities
	}
	tags := make([]string, 0, len(ents.Hashtags))
	var spans []rich.Span
	for _, h := range ents.Hashtags {
		tags = append(tags, h.Tag)
		spans = append(spans, rich.Span{Kind: tweet.EntityHashtag, Literal: "#" + h.Tag, Hint: h.Start + shift,
			Href: "https://x.com/hashtag/" + url.PathEscape(h.Tag)})
	}
	for _, m := range ents.Mentions {
		spans = append(spans, rich.Span{Kind: tweet.EntityMention, Literal: "@" + m.Username, Hint: m.Start + shift, Href: profile(m.Username)})
	}
	for _, u := range ents.URLs {
		href := u.ExpandedURL
		if href == "" {
			href = u.URL
		}
		spans = append(spans, rich.Span{Kind: tweet.EntityURL, Literal: u.URL, Hint: u.Start + shift, Href: href, Display: u.DisplayURL})
	}
	return text, tweet.NormalizeHashtags(tags), spans
}
