package tweet

import (
	"context"
	"time"
)

// Writer is the write side of a Store: what ingestion needs. Both methods
// are idempotent, so a caller that is unsure whether a write landed (a
// timeout, a crash) may simply do it again.
type Writer interface {
	// Save stores t as a post of the named event. The post id is the
	// key: saving the same id again changes nothing and is not an error,
	// even when two saves of it race.
	Save(ctx context.Context, event string, t Tweet) error
	// Delete removes the post with the given id; a missing id is not an
	// error.
	Delete(ctx context.Context, id string) error
}

// Store keeps every post of every event, the events themselves, and
// answers the questions the API and the stats page ask. Implementations
// must be safe for concurrent use. An unreachable database is reported as
// an EUNAVAILABLE error.
type Store interface {
	Writer

	// Recent returns up to limit posts of the named event ("" for every
	// event), newest first: by CreatedAt, then by ID. With before set it
	// starts after that post (exclusive), for paging; a before that names
	// no stored post is an EINVALID error.
	Recent(ctx context.Context, event string, limit int, before string) ([]Tweet, error)

	// IDs returns the ids of up to limit of the named event's newest
	// posts, newest first (in the order of Recent): what duplicate
	// detection must know after a restart, without reading the posts.
	IDs(ctx context.Context, event string, limit int) ([]string, error)

	// StartEvent records that the named event runs from at, tracking
	// terms. Starting an event that exists resumes it: its start is kept,
	// its terms are replaced and its end is cleared, so that a restarted
	// server goes on with the same event.
	StartEvent(ctx context.Context, name string, terms []string, at time.Time) (Event, error)
	// EndEvent records that the named event ended at at. An event that
	// has already ended keeps its first end. An unknown name is an
	// ENOTFOUND error.
	EndEvent(ctx context.Context, name string, at time.Time) (Event, error)
	// Event returns the named event, or the most recently started one
	// when name is "". An unknown name, or no event at all, is an
	// ENOTFOUND error.
	Event(ctx context.Context, name string) (Event, error)
	// Events returns every event, the most recently started first.
	Events(ctx context.Context) ([]Event, error)

	// Stats summarises the posts of the named event, or of the most
	// recently started one when name is "".
	Stats(ctx context.Context, event string) (Stats, error)

	// Close releases the store's resources.
	Close(ctx context.Context) error
}

// Event is one occasion the wall follows: a conference, a match, a
// launch. Every stored post belongs to exactly one, so one database can
// hold many. (What a source emits, a post or a delete, is an Update.)
type Event struct {
	Name  string    `json:"name"`
	Terms []string  `json:"terms"`
	Start time.Time `json:"start"`
	// End is zero while the event runs.
	End time.Time `json:"end,omitzero"`
}

// Running reports whether the event has not ended.
func (e Event) Running() bool { return e.End.IsZero() }

// Stats summarises one event's stored posts. Deleted posts are not
// counted. Every list is non-nil, so clients receive `[]`, not `null`.
type Stats struct {
	Event Event `json:"event"`
	// Total is the number of posts.
	Total int64 `json:"total"`
	// Authors is the number of distinct authors; the same handle on two
	// services counts twice.
	Authors int64 `json:"authors"`
	// Retweets is the number of reposts; RetweetShare is Retweets/Total
	// (0 when there are no posts).
	Retweets     int64   `json:"retweets"`
	RetweetShare float64 `json:"retweet_share"`
	// Sources and Langs count posts per source and per language ("und"
	// when the source gave none), most posts first.
	Sources []Count `json:"sources"`
	Langs   []Count `json:"langs"`
	// TopAuthors and TopHashtags are the ten with the most posts, most
	// first, ties broken by name.
	TopAuthors  []AuthorCount `json:"top_authors"`
	TopHashtags []Count       `json:"top_hashtags"`
	// TopPosts are the ten most reposted posts (see PostCount), most
	// first, ties broken by the reposts seen, then by id.
	TopPosts []PostCount `json:"top_posts"`
	// Timeline counts posts per minute of CreatedAt, from the first
	// post's minute to the last one's, with a zero for every quiet
	// minute in between.
	Timeline []MinuteCount `json:"timeline"`
	// Peak is the busiest minute (the earliest of equals); zero when
	// there are no posts.
	Peak MinuteCount `json:"peak"`
	// First and Last are the earliest and the latest post; nil when
	// there are none.
	First *Tweet `json:"first"`
	Last  *Tweet `json:"last"`
	// Hidden is the number of posts moderation hid: they count in none
	// of the figures above.
	Hidden int64 `json:"hidden"`
}

// Count is a number of posts with one value of a field.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
	// Display, for a hashtag, is how most of its posts write it
	// ("GoConf" for "goconf"; ties go to the first in byte order);
	// empty when that is Key itself, and for other fields.
	Display string `json:"display,omitempty"`
}

// AuthorCount is a number of posts by one author. User is lower-case:
// handles are case-insensitive on every service we follow.
type AuthorCount struct {
	Source string `json:"source"`
	User   string `json:"user"`
	Count  int64  `json:"count"`
	// Name and Picture are the display name and avatar URL of the
	// author's newest post (by CreatedAt, then ID); empty when it had
	// none.
	Name    string `json:"name,omitempty"`
	Picture string `json:"picture,omitempty"`
}

// PostCount is a post that the event's public posts repost: the original,
// known only from its reposts (it need not be one of the event's posts),
// and how often it was reposted. Only posts with an id from their source
// (Original.ID) are ranked: Bluesky's Jetstream, for one, says whose post
// a repost is but has no reposts in its posts stream.
type PostCount struct {
	// ID, User, Name and URL are the original's (see Original); Text is
	// the newest repost's text, which carries the original's.
	ID     string `json:"id"`
	Source string `json:"source"`
	User   string `json:"user"`
	Name   string `json:"name,omitempty"`
	Text   string `json:"text"`
	URL    string `json:"url,omitempty"`
	// Reposts is the figure it is ranked by: the source's own count
	// (Reported) where it gave one, else the reposts seen here, whichever
	// is higher.
	Reposts int64 `json:"reposts"`
	// Seen is the number of the event's public posts that repost it;
	// a post no public post reposts any more (all hidden or deleted)
	// leaves the list.
	Seen int64 `json:"seen"`
	// Reported is the highest count the source gave with those reposts
	// (0 when it gave none): reposts everywhere, about the event or not.
	Reported int64 `json:"reported,omitempty"`
}

// MinuteCount is a number of posts created within one minute; Minute is
// the minute's start, in UTC.
type MinuteCount struct {
	Minute time.Time `json:"minute"`
	Count  int64     `json:"count"`
}
