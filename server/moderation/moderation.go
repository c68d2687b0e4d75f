// Package moderation decides which posts reach the walls: the organisers'
// blocks and switches applied to every new post (Decide), and their
// actions on posts already shown (hide, unhide, pin, approve, ...), each
// stored first, then carried to every node's clients through the broker
// and recorded in the audit log.
//
// The state lives in the store (tweet.ModerationStore) and is held in
// memory by every node: loaded before the node serves, and again whenever
// another node says it changed (Load). The set of moderated posts is
// small (organisers hide dozens, blocks catch hundreds), so reads of
// posts filter through it (Filtered) instead of asking the database.
package moderation

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/ingest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Config wires a Service. Store, Posts and Broker are required.
type Config struct {
	// Store keeps the state; Posts reads the event's posts for the
	// console (unfiltered: it shows what moderation did).
	Store tweet.ModerationStore
	Posts tweet.Store
	Event string
	// Broker carries what an action does (a delete, a post, the pins) to
	// every node's clients.
	Broker hub.Broker
	// Changed, when set, is called after this node changed the state,
	// so that the other nodes Load it. It must not block.
	Changed func()
	Now     func() time.Time
	Logger  *slog.Logger
}

// RulesBy is who made a decision at ingest.
const RulesBy = "rules"

// Service is one event's moderation. Its methods are safe for concurrent
// use.
type Service struct {
	cfg Config

	// mu guards st. Decide changes st in place (a held post), so a Load
	// that read the store before that change replays it from journal.
	mu      sync.RWMutex
	st      *state
	loading int
	journal []func(*state)
	loadSeq uint64
	swapped uint64

	// actions runs one organiser action at a time on this node: each
	// reads the state, writes the store, then loads it again.
	actions sync.Mutex
}

type state struct {
	mod       tweet.Moderation
	rules     *rules
	decisions map[string]tweet.Decision
	pinned    map[string]bool
}

func newState(m tweet.Moderation) *state {
	st := &state{mod: m, rules: newRules(m.Settings, m.Blocks), decisions: make(map[string]tweet.Decision, len(m.Decisions)), pinned: map[string]bool{}}
	for _, d := range m.Decisions {
		st.decisions[d.Post.ID] = d
	}
	for _, p := range m.Pins {
		st.pinned[p.Post.ID] = true
	}
	st.mod.Decisions = nil // the map holds them
	return st
}

// New returns a Service with nothing blocked; Load reads the stored state.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, st: newState(tweet.Moderation{Settings: tweet.ModerationSettings{Allow: []string{}}})}
}

// Load reads the state from the store and makes it current. A node loads
// before it serves and whenever another node changed the state.
func (s *Service) Load(ctx context.Context) error {
	s.mu.Lock()
	s.loading++
	s.loadSeq++
	seq, from := s.loadSeq, len(s.journal)
	s.mu.Unlock()

	m, err := s.cfg.Store.LoadModeration(ctx, s.cfg.Event)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.loading--
	defer func() {
		if s.loading == 0 {
			s.journal = nil
		}
	}()
	if err != nil {
		return fmt.Errorf("load the moderation state: %w", err)
	}
	if seq < s.swapped {
		return nil // a later load already swapped in a newer state
	}
	st := newState(m)
	for _, f := range s.journal[from:] {
		f(st)
	}
	s.st, s.swapped = st, seq
	return nil
}

// mutate changes the current state in place, and the state of any load
// under way.
func (s *Service) mutate(f func(*state)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.st)
	if s.loading > 0 {
		s.journal = append(s.journal, f)
	}
}

func (s *Service) changed() {
	if s.cfg.Changed != nil {
		s.cfg.Changed()
	}
}

// Decide is ingest's hook: it reports whether to publish a new post. A
// post it holds back (blocked, or queued for approval) has its decision
// recorded before the post is stored, so that no read ever shows it.
func (s *Service) Decide(ctx context.Context, t *tweet.Tweet) bool {
	s.mu.RLock()
	v := s.st.rules.decide(t)
	s.mu.RUnlock()
	if v.State == "" {
		return true
	}
	d := tweet.Decision{Post: wire(*t), State: v.State, By: RulesBy, At: s.cfg.Now().UTC(), Reason: v.Reason, Block: v.Block}
	if err := s.cfg.Store.PutDecision(ctx, s.cfg.Event, d); err != nil && ctx.Err() == nil {
		// Held back all the same: a post that should not show must
		// not show because the database is down. Until it is back,
		// only this node's memory knows.
		s.cfg.Logger.Error("a post moderation held back could not be recorded; other nodes and a restart will not know why it is held", "id", t.ID, "state", v.State, "err", err)
	}
	s.mutate(func(st *state) { st.decisions[d.Post.ID] = d })
	s.changed()
	return false
}

// Visible reports whether moderation lets the post show.
func (s *Service) Visible(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.st.decisions[id]
	return !ok
}

// moderated is how many posts have a decision.
func (s *Service) moderated() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.st.decisions)
}

// wire is t as clients receive it.
func wire(t tweet.Tweet) tweet.Tweet {
	t.CreatedAt = t.CreatedAt.UTC()
	if t.Hashtags == nil {
		t.Hashtags = []string{}
	}
	return t
}

// Item is a post with what moderation did to it, for the console.
type Item struct {
	Post tweet.Tweet `json:"post"`
	// State is "shown", or a tweet.ModerationState.
	State  string    `json:"state"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Reason string    `json:"reason,omitempty"`
	Block  string    `json:"block,omitempty"`
	Pinned bool      `json:"pinned"`
}

// Shown is Item.State for a post moderation lets through.
const Shown = "shown"

func (st *state) item(t tweet.Tweet) Item {
	it := Item{Post: wire(t), State: Shown, Pinned: st.pinned[t.ID]}
	if d, ok := st.decisions[t.ID]; ok {
		it.State, it.By, it.At, it.Reason, it.Block = string(d.State), d.By, d.At, d.Reason, d.Block
	}
	return it
}

// Settings returns the current settings.
func (s *Service) Settings() tweet.ModerationSettings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := s.st.mod.Settings
	out.Allow = slices.Clone(out.Allow)
	if out.Allow == nil {
		out.Allow = []string{}
	}
	return out
}

// Blocks returns the blocks, oldest first.
func (s *Service) Blocks() []tweet.Block {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]tweet.Block{}, s.st.mod.Blocks...)
}

// Pins returns the pinned posts, most recently pinned first.
func (s *Service) Pins() []tweet.Pin {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]tweet.Pin{}, s.st.mod.Pins...)
}

// withState returns the items of the decisions in state, sorted by cmp.
func (s *Service) withState(want tweet.ModerationState, order func(a, b Item) int) []Item {
	s.mu.RLock()
	out := []Item{}
	for _, d := range s.st.decisions {
		if d.State == want {
			out = append(out, s.st.item(d.Post))
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, order)
	return out
}

// Queue returns the posts waiting for approval, oldest first (by arrival).
func (s *Service) Queue() []Item {
	return s.withState(tweet.Queued, func(a, b Item) int {
		return cmp.Or(a.At.Compare(b.At), a.Post.CreatedAt.Compare(b.Post.CreatedAt), strings.Compare(a.Post.ID, b.Post.ID))
	})
}

// Hidden returns the hidden posts, most recently hidden first.
func (s *Service) Hidden() []Item {
	return s.withState(tweet.Hidden, func(a, b Item) int {
		return cmp.Or(b.At.Compare(a.At), strings.Compare(b.Post.ID, a.Post.ID))
	})
}

// Posts returns the event's newest posts, moderated ones included, each
// with what moderation did to it.
func (s *Service) Posts(ctx context.Context, limit int) ([]Item, error) {
	posts, err := s.cfg.Posts.Recent(ctx, s.cfg.Event, limit, "")
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Item, 0, len(posts))
	for _, p := range posts {
		out = append(out, s.st.item(p))
	}
	return out, nil
}

// Item returns one post with what moderation did to it.
func (s *Service) Item(ctx context.Context, id string) (Item, error) {
	p, err := s.post(ctx, id)
	if err != nil {
		return Item{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.item(p), nil
}

// PinnedItems returns the pinned posts, most recently pinned first.
func (s *Service) PinnedItems() []Item {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Item, 0, len(s.st.mod.Pins))
	for _, p := range s.st.mod.Pins {
		it := s.st.item(p.Post)
		it.By, it.At = p.By, p.At
		out = append(out, it)
	}
	return out
}

// AuditLog returns up to limit actions, newest first.
func (s *Service) AuditLog(ctx context.Context, limit int) ([]tweet.AuditEntry, error) {
	return s.cfg.Store.AuditLog(ctx, s.cfg.Event, limit)
}

// PinsMessage is the pins event as clients receive it: the pinned posts,
// most recently pinned first.
func (s *Service) PinsMessage() *hub.Message {
	pins := s.Pins()
	posts := make([]tweet.Tweet, len(pins))
	for i, p := range pins {
		posts[i] = wire(p.Post)
	}
	data, _ := json.Marshal(posts) // a Tweet always encodes
	return &hub.Message{Kind: hub.KindPins, ID: hub.KindPins, Data: data}
}

// Errors of the actions, said to the organiser as they are.
var (
	errNotHidden = tweet.Errorf(tweet.EINVALID, "this post is not hidden: only hidden posts can be unhidden")
	errNotQueued = tweet.Errorf(tweet.EINVALID, "this post is not waiting in the queue: list the queue with GET /api/admin/queue")
)

// decision returns the decision about a post, if any.
func (s *Service) decision(id string) (tweet.Decision, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.st.decisions[id]
	return d, ok
}

func (s *Service) isPinned(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.pinned[id]
}

// post finds a post by id: in the decisions, or in the store.
func (s *Service) post(ctx context.Context, id string) (tweet.Tweet, error) {
	if d, ok := s.decision(id); ok {
		return d.Post, nil
	}
	return s.cfg.Store.Post(ctx, s.cfg.Event, id)
}

// action runs do as one organiser action: do writes the store and
// returns what to publish; then the state is loaded again, the messages
// published, the action audited and the other nodes told.
func (s *Service) action(ctx context.Context, by, action, target string, do func() (detail string, msgs []*hub.Message, err error)) error {
	s.actions.Lock()
	defer s.actions.Unlock()
	detail, msgs, err := do()
	if err != nil {
		return err
	}
	if err := s.Load(ctx); err != nil {
		// The store took the change; the next load shows it.
		s.cfg.Logger.Error("the action was stored but this node could not read the state back", "action", action, "err", err)
	}
	for _, m := range msgs {
		if m == pinsChanged {
			m = s.PinsMessage()
		}
		if err := s.cfg.Broker.Publish(ctx, m); err != nil {
			s.cfg.Logger.Error("an action's effect could not be published to the walls", "action", action, "target", target, "err", err)
		}
	}
	e := tweet.AuditEntry{Action: action, Target: target, By: by, At: s.cfg.Now().UTC(), Detail: detail}
	if err := s.cfg.Store.Audit(ctx, s.cfg.Event, e); err != nil {
		s.cfg.Logger.Error("an action took effect but the audit log could not record it", "action", action, "target", target, "by", by, "err", err)
	}
	s.cfg.Logger.Info("moderation", "action", action, "target", target, "by", by, "detail", detail)
	s.changed()
	return nil
}

// pinsChanged stands among an action's messages for the pins event,
// which is built once the action's state is loaded.
var pinsChanged = &hub.Message{}

func tweetMessage(t tweet.Tweet) *hub.Message {
	m, _ := ingest.Encode(t) // a decision's post always has an id
	return m
}

func deleteMessage(id string) *hub.Message {
	m, _ := ingest.EncodeDelete(id) // an id is never empty here
	return m
}

// Hide takes a shown post off every wall; it stays stored, hidden.
// Hiding a hidden post changes nothing.
func (s *Service) Hide(ctx context.Context, by, id string) error {
	p, err := s.post(ctx, id)
	if err != nil {
		return err
	}
	if d, ok := s.decision(id); ok {
		switch d.State {
		case tweet.Hidden:
			return nil
		case tweet.Queued:
			return tweet.Errorf(tweet.EINVALID, "this post waits in the queue and was never shown: reject it instead")
		default:
			return tweet.Errorf(tweet.EINVALID, "this post is %s and was never shown: there is nothing to hide", d.State)
		}
	}
	return s.action(ctx, by, "hide", id, func() (string, []*hub.Message, error) {
		d := tweet.Decision{Post: p, State: tweet.Hidden, By: by, At: s.cfg.Now().UTC()}
		if err := s.cfg.Store.PutDecision(ctx, s.cfg.Event, d); err != nil {
			return "", nil, err
		}
		msgs := []*hub.Message{deleteMessage(id)}
		if s.isPinned(id) {
			if err := s.cfg.Store.RemovePin(ctx, s.cfg.Event, id); err != nil {
				return "", nil, err
			}
			msgs = append(msgs, pinsChanged)
		}
		return "", msgs, nil
	})
}

// Unhide brings a hidden post back to every wall.
func (s *Service) Unhide(ctx context.Context, by, id string) error {
	if _, err := s.post(ctx, id); err != nil {
		return err
	}
	d, ok := s.decision(id)
	if !ok || d.State != tweet.Hidden {
		return errNotHidden
	}
	return s.action(ctx, by, "unhide", id, func() (string, []*hub.Message, error) {
		if err := s.cfg.Store.DeleteDecision(ctx, s.cfg.Event, id); err != nil {
			return "", nil, err
		}
		return "", []*hub.Message{tweetMessage(d.Post)}, nil
	})
}

// Pin keeps a shown post on top of the walls.
func (s *Service) Pin(ctx context.Context, by, id string) error {
	p, err := s.post(ctx, id)
	if err != nil {
		return err
	}
	if d, ok := s.decision(id); ok {
		return tweet.Errorf(tweet.EINVALID, "this post is %s: only a shown post can be pinned", d.State)
	}
	return s.action(ctx, by, "pin", id, func() (string, []*hub.Message, error) {
		if err := s.cfg.Store.PutPin(ctx, s.cfg.Event, tweet.Pin{Post: p, By: by, At: s.cfg.Now().UTC()}); err != nil {
			return "", nil, err
		}
		return "", []*hub.Message{pinsChanged}, nil
	})
}

// Unpin takes a post off the top of the walls; unpinning a post that is
// not pinned changes nothing.
func (s *Service) Unpin(ctx context.Context, by, id string) error {
	if !s.isPinned(id) {
		_, err := s.post(ctx, id)
		return err
	}
	return s.action(ctx, by, "unpin", id, func() (string, []*hub.Message, error) {
		if err := s.cfg.Store.RemovePin(ctx, s.cfg.Event, id); err != nil {
			return "", nil, err
		}
		return "", []*hub.Message{pinsChanged}, nil
	})
}

// Limits of what an organiser types.
const (
	MaxBlockValue = 200
	MaxAllow      = 1000
)

// checkAuthor checks "source:handle".
func checkAuthor(what, v string) error {
	src, user, ok := strings.Cut(v, ":")
	user = strings.TrimPrefix(user, "@")
	if !ok || src == "" || user == "" || strings.IndexFunc(src, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) >= 0 ||
		strings.IndexFunc(user, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 || len(v) > MaxBlockValue {
		return tweet.Errorf(tweet.EINVALID, "%s must be written source:handle, such as twitter:jack or mastodon:ada@example.social", what)
	}
	return nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AddBlock blocks a word (or phrase, #tag, emoji) or an author from now
// on. Blocking an author also hides what they posted already, which
// RemoveBlock undoes.
func (s *Service) AddBlock(ctx context.Context, by, kind, value string) (tweet.Block, error) {
	value = strings.TrimSpace(value)
	switch kind {
	case tweet.BlockWord:
		if value == "" || !utf8.ValidString(value) || utf8.RuneCountInString(value) > MaxBlockValue || strings.IndexFunc(value, unicode.IsControl) >= 0 {
			return tweet.Block{}, tweet.Errorf(tweet.EINVALID, "a blocked word must be 1 to %d characters on one line", MaxBlockValue)
		}
	case tweet.BlockAuthor:
		if err := checkAuthor("a blocked author", value); err != nil {
			return tweet.Block{}, err
		}
		src, user, _ := strings.Cut(value, ":")
		value = AuthorKey(src, user)
	default:
		return tweet.Block{}, tweet.Errorf(tweet.EINVALID, `kind must be "word" or "author"`)
	}
	for _, b := range s.Blocks() {
		if b.Kind == kind && fold(b.Value) == fold(value) {
			return tweet.Block{}, tweet.Errorf(tweet.EINVALID, "this %s is blocked already (block %s)", kind, b.ID)
		}
	}
	b := tweet.Block{ID: newID(), Kind: kind, Value: value, By: by, At: s.cfg.Now().UTC()}
	err := s.action(ctx, by, "block", kind+" "+value, func() (string, []*hub.Message, error) {
		if err := s.cfg.Store.AddBlock(ctx, s.cfg.Event, b); err != nil {
			return "", nil, err
		}
		if kind != tweet.BlockAuthor {
			return "block " + b.ID, nil, nil
		}
		src, user, _ := strings.Cut(value, ":")
		posts, err := s.cfg.Store.PostsBy(ctx, s.cfg.Event, src, user)
		if err != nil {
			return "", nil, err
		}
		var msgs []*hub.Message
		pins := false
		for _, p := range posts {
			if _, ok := s.decision(p.ID); ok {
				continue
			}
			d := tweet.Decision{Post: p, State: tweet.Hidden, By: by, At: b.At, Reason: "author blocked: " + value, Block: b.ID}
			if err := s.cfg.Store.PutDecision(ctx, s.cfg.Event, d); err != nil {
				return "", nil, err
			}
			msgs = append(msgs, deleteMessage(p.ID))
			if s.isPinned(p.ID) {
				if err := s.cfg.Store.RemovePin(ctx, s.cfg.Event, p.ID); err != nil {
					return "", nil, err
				}
				pins = true
			}
		}
		if pins {
			msgs = append(msgs, pinsChanged)
		}
		return fmt.Sprintf("block %s; %d posts hidden", b.ID, len(posts)), msgs, nil
	})
	return b, err
}

// RemoveBlock deletes a block: posts it blocks from now on show again,
// and the posts that blocking an author hid come back.
func (s *Service) RemoveBlock(ctx context.Context, by, id string) error {
	var b tweet.Block
	for _, x := range s.Blocks() {
		if x.ID == id {
			b = x
		}
	}
	if b.ID == "" {
		return tweet.Errorf(tweet.ENOTFOUND, "there is no block with that id: list the blocks with GET /api/admin/blocks")
	}
	return s.action(ctx, by, "unblock", b.Kind+" "+b.Value, func() (string, []*hub.Message, error) {
		if err := s.cfg.Store.RemoveBlock(ctx, s.cfg.Event, id); err != nil {
			return "", nil, err
		}
		var back []tweet.Tweet
		for _, it := range s.Hidden() {
			if it.Block == id {
				back = append(back, it.Post)
			}
		}
		// Oldest first, so a wall that appends sees them in order.
		slices.SortFunc(back, func(a, b tweet.Tweet) int { return a.CreatedAt.Compare(b.CreatedAt) })
		var msgs []*hub.Message
		for _, p := range back {
			if err := s.cfg.Store.DeleteDecision(ctx, s.cfg.Event, p.ID); err != nil {
				return "", nil, err
			}
			msgs = append(msgs, tweetMessage(p))
		}
		return fmt.Sprintf("block %s; %d posts back", id, len(back)), msgs, nil
	})
}

// SetSettings replaces the switches and the allow-list. Posts already
// queued stay queued when pre-moderation is switched off.
func (s *Service) SetSettings(ctx context.Context, by string, set tweet.ModerationSettings) error {
	if len(set.Allow) > MaxAllow {
		return tweet.Errorf(tweet.EINVALID, "the allow-list holds at most %d authors", MaxAllow)
	}
	allow := []string{}
	seen := map[string]bool{}
	for _, a := range set.Allow {
		a = strings.TrimSpace(a)
		if err := checkAuthor("each allowed author", a); err != nil {
			return err
		}
		src, user, _ := strings.Cut(a, ":")
		if k := AuthorKey(src, user); !seen[k] {
			seen[k] = true
			allow = append(allow, k)
		}
	}
	set.Allow = allow
	return s.action(ctx, by, "settings", "settings", func() (string, []*hub.Message, error) {
		if err := s.cfg.Store.PutSettings(ctx, s.cfg.Event, set); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("premoderation=%t hide_reposts=%t allow=%d", set.Premoderation, set.HideReposts, len(allow)), nil, nil
	})
}

// Approve publishes a queued post now.
func (s *Service) Approve(ctx context.Context, by, id string) error {
	d, err := s.queued(ctx, id)
	if err != nil {
		return err
	}
	return s.action(ctx, by, "approve", id, func() (string, []*hub.Message, error) {
		if err := s.cfg.Store.DeleteDecision(ctx, s.cfg.Event, id); err != nil {
			return "", nil, err
		}
		return "", []*hub.Message{tweetMessage(d.Post)}, nil
	})
}

// Reject keeps a queued post off the walls for good; it stays stored.
func (s *Service) Reject(ctx context.Context, by, id string) error {
	d, err := s.queued(ctx, id)
	if err != nil {
		return err
	}
	return s.action(ctx, by, "reject", id, func() (string, []*hub.Message, error) {
		d.State, d.By, d.At, d.Reason = tweet.Rejected, by, s.cfg.Now().UTC(), ""
		return "", nil, s.cfg.Store.PutDecision(ctx, s.cfg.Event, d)
	})
}

func (s *Service) queued(ctx context.Context, id string) (tweet.Decision, error) {
	d, ok := s.decision(id)
	if !ok {
		if _, err := s.cfg.Store.Post(ctx, s.cfg.Event, id); err != nil {
			return d, err
		}
		return d, errNotQueued
	}
	if d.State != tweet.Queued {
		return d, errNotQueued
	}
	return d, nil
}
