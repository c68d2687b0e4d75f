package tweet

import (
	"context"
	"time"
)

// ModerationState is where moderation put a post. A post without a
// Decision is shown.
type ModerationState string

const (
	// Hidden: an organiser took the post off the walls; it stays
	// stored and may come back.
	Hidden ModerationState = "hidden"
	// Blocked: a block (word, author) or the reposts switch kept the post
	// from ever being broadcast.
	Blocked ModerationState = "blocked"
	// Queued: pre-moderation holds the post until it is approved.
	Queued ModerationState = "queued"
	// Rejected: an organiser turned a queued post down.
	Rejected ModerationState = "rejected"
)

// Decision is moderation's record about one post. Post is a copy of the
// post, so that the queue and the list of hidden posts need no read of
// the posts themselves.
type Decision struct {
	Post  Tweet           `json:"post"`
	State ModerationState `json:"state"`
	// By is the admin session that decided ("api" without one), or
	// "rules" for a decision made at ingest.
	By string    `json:"by"`
	At time.Time `json:"at"`
	// Reason says why, in words: "word blocked: spoiler".
	Reason string `json:"reason,omitempty"`
	// Block is the id of the block that hid or blocked the post, so that
	// deleting the block undoes what it did.
	Block string `json:"block,omitempty"`
}

// Block kinds.
const (
	BlockWord   = "word"
	BlockAuthor = "author"
)

// Block keeps matching posts off the walls: a word or phrase
// (Kind BlockWord), or an author "source:handle" (Kind BlockAuthor).
type Block struct {
	ID    string    `json:"id"`
	Kind  string    `json:"kind"`
	Value string    `json:"value"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
}

// ModerationSettings are the switches of one event.
type ModerationSettings struct {
	// Premoderation holds new posts until an organiser approves them.
	Premoderation bool `json:"premoderation"`
	// HideReposts keeps reposts off the walls.
	HideReposts bool `json:"hide_reposts"`
	// Allow lists authors ("source:handle") whose posts skip the queue.
	Allow []string `json:"allow"`
}

// Pin keeps a post on top of the walls until it is unpinned.
type Pin struct {
	Post Tweet     `json:"post"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// AuditEntry is one moderation action.
type AuditEntry struct {
	ID string `json:"id"`
	// Action is what was done: "hide", "unhide", "pin", "unpin",
	// "block", "unblock", "settings", "approve", "reject".
	Action string `json:"action"`
	// Target is what it was done to: a post id, a block, "settings".
	Target string    `json:"target"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	// Detail adds what the action and target do not say.
	Detail string `json:"detail,omitempty"`
}

// Moderation is everything moderation keeps about one event.
type Moderation struct {
	Settings  ModerationSettings
	Blocks    []Block
	Pins      []Pin
	Decisions []Decision
}

// ModerationStore keeps moderation's state, per event, so that it
// survives restarts and is shared by every node on one database. An
// unreachable database is an EUNAVAILABLE error.
type ModerationStore interface {
	// LoadModeration returns the event's whole state: settings,
	// blocks (oldest first), pins (most recently pinned first) and
	// decisions.
	LoadModeration(ctx context.Context, event string) (Moderation, error)

	// PutDecision records d about d.Post, replacing any earlier one.
	PutDecision(ctx context.Context, event string, d Decision) error
	// DeleteDecision forgets the decision about the post; a missing
	// one is not an error.
	DeleteDecision(ctx context.Context, event, postID string) error

	// PutSettings replaces the event's settings.
	PutSettings(ctx context.Context, event string, s ModerationSettings) error
	// AddBlock stores b; RemoveBlock deletes the block with that id,
	// ENOTFOUND when there is none.
	AddBlock(ctx context.Context, event string, b Block) error
	RemoveBlock(ctx context.Context, event, id string) error
	// PutPin pins p.Post, RemovePin unpins the post (missing is not an
	// error).
	PutPin(ctx context.Context, event string, p Pin) error
	RemovePin(ctx context.Context, event, postID string) error

	// Audit records e; AuditLog returns up to limit entries, newest
	// first.
	Audit(ctx context.Context, event string, e AuditEntry) error
	AuditLog(ctx context.Context, event string, limit int) ([]AuditEntry, error)

	// Post returns one stored post of the event, ENOTFOUND when it has
	// none by that id.
	Post(ctx context.Context, event, id string) (Tweet, error)
	// PostsBy returns the event's stored posts by one author
	// (source and handle, the handle case-insensitive).
	PostsBy(ctx context.Context, event, source, user string) ([]Tweet, error)
}
