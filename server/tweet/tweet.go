// Package tweet is Tweetwire's domain: the one post model every source
// normalises into, the updates that flow from sources to clients, the
// event (the occasion) posts belong to, and the
// interfaces the rest of the program is wired through. It imports only the
// standard library so that every other package can depend on it.
package tweet

import (
	"context"
	"time"
)

// Tweet is one post, whatever service it came from. The JSON names are the
// wire format of the Socket.IO `tweet` event and of /api/tweets; `user` and
// `picture` keep the names of the original design.
type Tweet struct {
	// ID is globally unique: "<source>:<native id>", e.g. "twitter:123".
	ID string `json:"id"`
	// Source is the service the post came from: "twitter", "demo", ...
	Source string `json:"source"`
	// User is the author's handle, without a leading "@".
	User string `json:"user"`
	// Name is the author's display name.
	Name string `json:"name"`
	// Picture is the author's avatar URL; it may be relative to the server.
	Picture string `json:"picture"`
	// Text is the full text: never a 140-character truncation, and for a
	// repost the original's full text.
	Text string `json:"text"`
	// CreatedAt is in UTC.
	CreatedAt time.Time `json:"created_at"`
	// Hashtags are lower-case, without "#", never nil.
	Hashtags []string `json:"hashtags"`
	Lang     string   `json:"lang,omitempty"`
	// URL is the post's permalink; empty when the source has none.
	URL string `json:"url"`
	// Retweet is true when the post is a repost of another; statistics
	// report the repost share. It stays a boolean for the clients that
	// read it as one; RepostOf says whose post it is.
	Retweet bool `json:"retweet,omitempty"`
	// RepostOf is the author of the reposted post, when Retweet is true
	// and the source says who it is.
	RepostOf *Original `json:"repost_of,omitempty"`
	// Entities are the links in Text (URLs, hashtags, mentions) in the
	// order they appear, without overlaps; see Entity for the offsets'
	// unit. Nil when the post has none.
	Entities []Entity `json:"entities,omitempty"`
	// Media are the post's photos and the stills of its videos, at most
	// MaxMedia. Nil when the post has none.
	Media []Media `json:"media,omitempty"`
}

// Kind says what an Update does.
type Kind int

const (
	// KindPost adds a post.
	KindPost Kind = iota + 1
	// KindDelete retracts the post whose ID is Update.ID.
	KindDelete
)

// Update is what a source emits: a new post or the retraction of one.
type Update struct {
	Kind Kind
	// Tweet is set for KindPost.
	Tweet Tweet
	// ID is the retracted post's Tweet.ID, for KindDelete.
	ID string
}

// Post wraps t in a KindPost update.
func Post(t Tweet) Update { return Update{Kind: KindPost, Tweet: t, ID: t.ID} }

// Delete returns the KindDelete update for the post with the given id.
func Delete(id string) Update { return Update{Kind: KindDelete, ID: id} }

// State is a source's health as /healthz reports it.
type State string

const (
	StateStarting     State = "starting"
	StateRunning      State = "running"
	StateReconnecting State = "reconnecting"
	// StateFailed means the source stopped for good (bad credentials,
	// retired endpoint, bad configuration); the error says what to fix.
	StateFailed State = "failed"
	// StateFinished means a finite source (a replay without loop) ran out,
	// or the event ended.
	StateFinished State = "finished"
	// StateStandby means another node holds the lease and consumes the
	// source; this one serves its clients.
	StateStandby State = "standby"
)

// Sink receives what a source produces.
type Sink interface {
	// Emit hands one update on. It may block to apply back-pressure and
	// returns an error only when ctx is done.
	Emit(ctx context.Context, ev Update) error
	// SetState records the source's health; err may be nil.
	SetState(s State, err error)
}

// Source streams updates about the tracked terms.
type Source interface {
	// Run streams into sink until ctx is done (it then returns nil) or the
	// source cannot go on (it returns an error saying what to fix). A
	// source reconnects on its own; only unrecoverable errors end Run.
	Run(ctx context.Context, sink Sink) error
}

// Resumable is a source that can start where another copy of it stopped,
// when the node consuming it changes (with several servers, one holds the
// source at a time). Both methods are safe to call while Run runs.
type Resumable interface {
	// Position says where the stream is now, in the source's own opaque
	// form; "" when nothing was read yet.
	Position() string
	// ResumeFrom makes the next connection start at a position another
	// copy returned, as far as the service allows.
	ResumeFrom(position string)
}
