package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Moderation keeps its state in collections of its own, one document per
// thing, so that two nodes changing different things never overwrite each
// other, and every write is a plain insert, replace or delete by _id, which
// FerretDB 1.24 takes as MongoDB does. Every _id starts with the event's
// name and a "/", and every document carries its event for the reads.
const (
	decisionsName = "moderation"
	settingsName  = "moderation_settings"
	blocksName    = "moderation_blocks"
	pinsName      = "moderation_pins"
	auditName     = "moderation_audit"
)

var _ tweet.ModerationStore = (*DB)(nil)

type decisionDoc struct {
	ID     string    `bson:"_id"`
	Event  string    `bson:"event"`
	Post   postDoc   `bson:"post"`
	State  string    `bson:"state"`
	By     string    `bson:"by"`
	At     time.Time `bson:"at"`
	Reason string    `bson:"reason,omitempty"`
	Block  string    `bson:"block,omitempty"`
}

type settingsDoc struct {
	ID            string   `bson:"_id"`
	Event         string   `bson:"event"`
	Premoderation bool     `bson:"premoderation"`
	HideReposts   bool     `bson:"hide_reposts"`
	Allow         []string `bson:"allow"`
}

type blockDoc struct {
	ID    string    `bson:"_id"`
	Event string    `bson:"event"`
	Block string    `bson:"block"`
	Kind  string    `bson:"kind"`
	Value string    `bson:"value"`
	By    string    `bson:"by"`
	At    time.Time `bson:"at"`
}

type pinDoc struct {
	ID    string    `bson:"_id"`
	Event string    `bson:"event"`
	Post  postDoc   `bson:"post"`
	By    string    `bson:"by"`
	At    time.Time `bson:"at"`
}

type auditDoc struct {
	ID     string    `bson:"_id"`
	Event  string    `bson:"event"`
	Entry  string    `bson:"entry"`
	Action string    `bson:"action"`
	Target string    `bson:"target"`
	By     string    `bson:"by"`
	At     time.Time `bson:"at"`
	Detail string    `bson:"detail,omitempty"`
}

func (db *DB) coll(name string) *mongo.Collection { return db.posts.Database().Collection(name) }

func key(event, id string) string { return event + "/" + id }

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// LoadModeration reads the event's whole moderation state.
func (db *DB) LoadModeration(ctx context.Context, event string) (tweet.Moderation, error) {
	var m tweet.Moderation
	byEvent := bson.D{{Key: "event", Value: event}}

	var s settingsDoc
	err := db.coll(settingsName).FindOne(ctx, bson.D{{Key: "_id", Value: event}}).Decode(&s)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return m, classify("read the moderation settings", err)
	}
	m.Settings = tweet.ModerationSettings{Premoderation: s.Premoderation, HideReposts: s.HideReposts, Allow: s.Allow}
	if m.Settings.Allow == nil {
		m.Settings.Allow = []string{}
	}

	var blocks []blockDoc
	if err := findAll(ctx, db.coll(blocksName), byEvent, bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}, &blocks); err != nil {
		return m, classify("read the blocks", err)
	}
	m.Blocks = make([]tweet.Block, 0, len(blocks))
	for _, b := range blocks {
		m.Blocks = append(m.Blocks, tweet.Block{ID: b.Block, Kind: b.Kind, Value: b.Value, By: b.By, At: b.At.UTC()})
	}

	var pins []pinDoc
	if err := findAll(ctx, db.coll(pinsName), byEvent, bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}, &pins); err != nil {
		return m, classify("read the pins", err)
	}
	m.Pins = make([]tweet.Pin, 0, len(pins))
	for _, p := range pins {
		m.Pins = append(m.Pins, tweet.Pin{Post: p.Post.tweet(), By: p.By, At: p.At.UTC()})
	}

	var decisions []decisionDoc
	if err := findAll(ctx, db.coll(decisionsName), byEvent, bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}, &decisions); err != nil {
		return m, classify("read the moderation decisions", err)
	}
	m.Decisions = make([]tweet.Decision, 0, len(decisions))
	for _, d := range decisions {
		m.Decisions = append(m.Decisions, tweet.Decision{
			Post: d.Post.tweet(), State: tweet.ModerationState(d.State), By: d.By, At: d.At.UTC(), Reason: d.Reason, Block: d.Block,
		})
	}
	return m, nil
}

func findAll(ctx context.Context, c *mongo.Collection, filter, sort bson.D, out any) error {
	cur, err := c.Find(ctx, filter, options.Find().SetSort(sort))
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}

// replace writes doc under id, whether or not one was there.
func replace(ctx context.Context, c *mongo.Collection, id string, doc any) error {
	_, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true))
	return err
}

// PutDecision records d, replacing an earlier decision about its post.
func (db *DB) PutDecision(ctx context.Context, event string, d tweet.Decision) error {
	if d.Post.ID == "" {
		return tweet.Errorf(tweet.EINVALID, "a decision needs the post it is about")
	}
	doc := decisionDoc{
		ID: key(event, d.Post.ID), Event: event, Post: newPostDoc(event, d.Post, d.At),
		State: string(d.State), By: d.By, At: ms(d.At), Reason: d.Reason, Block: d.Block,
	}
	if err := replace(ctx, db.coll(decisionsName), doc.ID, doc); err != nil {
		return classify("record the decision about "+d.Post.ID, err)
	}
	// Every decision keeps the post off the walls: it leaves the public
	// statistics and counts as hidden (counters.go). A post held at
	// ingest is not stored yet: Hide finds nothing, and it counts when
	// saved.
	return db.Hide(ctx, d.Post.ID)
}

// DeleteDecision forgets the decision about postID.
func (db *DB) DeleteDecision(ctx context.Context, event, postID string) error {
	if _, err := db.coll(decisionsName).DeleteOne(ctx, bson.D{{Key: "_id", Value: key(event, postID)}}); err != nil {
		return classify("forget the decision about "+postID, err)
	}
	// Shown again (unhidden, approved): it counts in the statistics again.
	return db.Unhide(ctx, postID)
}

// PutSettings replaces the event's settings.
func (db *DB) PutSettings(ctx context.Context, event string, s tweet.ModerationSettings) error {
	allow := s.Allow
	if allow == nil {
		allow = []string{}
	}
	doc := settingsDoc{ID: event, Event: event, Premoderation: s.Premoderation, HideReposts: s.HideReposts, Allow: allow}
	return classify("save the moderation settings", replace(ctx, db.coll(settingsName), event, doc))
}

// AddBlock stores b.
func (db *DB) AddBlock(ctx context.Context, event string, b tweet.Block) error {
	if b.ID == "" {
		return tweet.Errorf(tweet.EINVALID, "a block needs an id")
	}
	doc := blockDoc{ID: key(event, b.ID), Event: event, Block: b.ID, Kind: b.Kind, Value: b.Value, By: b.By, At: ms(b.At)}
	_, err := db.coll(blocksName).InsertOne(ctx, doc)
	return classify("save the block", err)
}

// RemoveBlock deletes the block with that id.
func (db *DB) RemoveBlock(ctx context.Context, event, id string) error {
	res, err := db.coll(blocksName).DeleteOne(ctx, bson.D{{Key: "_id", Value: key(event, id)}})
	if err != nil {
		return classify("delete the block", err)
	}
	if res.DeletedCount == 0 {
		return tweet.Errorf(tweet.ENOTFOUND, "there is no block with that id: list the blocks with GET /api/admin/blocks")
	}
	return nil
}

// PutPin pins p.Post.
func (db *DB) PutPin(ctx context.Context, event string, p tweet.Pin) error {
	doc := pinDoc{ID: key(event, p.Post.ID), Event: event, Post: newPostDoc(event, p.Post, p.At), By: p.By, At: ms(p.At)}
	return classify("pin "+p.Post.ID, replace(ctx, db.coll(pinsName), doc.ID, doc))
}

// RemovePin unpins the post.
func (db *DB) RemovePin(ctx context.Context, event, postID string) error {
	_, err := db.coll(pinsName).DeleteOne(ctx, bson.D{{Key: "_id", Value: key(event, postID)}})
	return classify("unpin "+postID, err)
}

// Audit records e. Its _id begins with the time in nanoseconds, so that
// sorting by _id is sorting by time, ties broken at random.
func (db *DB) Audit(ctx context.Context, event string, e tweet.AuditEntry) error {
	if e.ID == "" {
		e.ID = auditID(e.At)
	}
	doc := auditDoc{ID: key(event, e.ID), Event: event, Entry: e.ID, Action: e.Action, Target: e.Target, By: e.By, At: ms(e.At), Detail: e.Detail}
	_, err := db.coll(auditName).InsertOne(ctx, doc)
	return classify("record the action in the audit log", err)
}

func auditID(at time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%020d-%s", at.UnixNano(), hex.EncodeToString(b))
}

// AuditLog returns up to limit entries, newest first.
func (db *DB) AuditLog(ctx context.Context, event string, limit int) ([]tweet.AuditEntry, error) {
	if limit <= 0 {
		return nil, tweet.Errorf(tweet.EINVALID, "limit must be positive, not %d", limit)
	}
	cur, err := db.coll(auditName).Find(ctx, bson.D{{Key: "event", Value: event}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, classify("read the audit log", err)
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify("read the audit log", err)
	}
	out := make([]tweet.AuditEntry, 0, len(docs))
	for _, d := range docs {
		out = append(out, tweet.AuditEntry{ID: d.Entry, Action: d.Action, Target: d.Target, By: d.By, At: d.At.UTC(), Detail: d.Detail})
	}
	return out, nil
}

// Post returns one stored post of the event.
func (db *DB) Post(ctx context.Context, event, id string) (tweet.Tweet, error) {
	var d postDoc
	err := db.posts.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && d.Event != event) {
		return tweet.Tweet{}, tweet.Errorf(tweet.ENOTFOUND, "no post with that id is stored for this event: use the id clients receive, such as twitter:123")
	}
	if err != nil {
		return tweet.Tweet{}, classify("read the post "+id, err)
	}
	return d.tweet(), nil
}

// PostsBy returns the event's stored posts by one author.
func (db *DB) PostsBy(ctx context.Context, event, source, user string) ([]tweet.Tweet, error) {
	var docs []postDoc
	filter := bson.D{{Key: "event", Value: event}, {Key: "author", Value: AuthorKey(source, user)}}
	if err := findAll(ctx, db.posts, filter, newestFirst, &docs); err != nil {
		return nil, classify("read the posts of "+source+":"+user, err)
	}
	out := make([]tweet.Tweet, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.tweet())
	}
	return out, nil
}
