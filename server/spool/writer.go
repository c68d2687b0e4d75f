package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// WriterConfig tunes a Writer. Zero values mean "use the default".
type WriterConfig struct {
	// Timeout bounds one write to the database (default 2s). Past it the
	// database counts as down and the write goes to the spool.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between two tries to
	// drain the spool while the database is down (default 200ms and 10s).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Batch is how many records the drainer reads at a time (default 64).
	Batch  int
	Logger *slog.Logger
	Now    func() time.Time
}

// Health is the write path's state as /healthz reports it.
type Health struct {
	// State is "ok" while writes go straight to the database,
	// "spooling" while they queue on disk, "full" when the spool cannot
	// take them (at its bounds, or the disk refuses: full, read-only,
	// failing) and new posts are not stored.
	State string `json:"state"`
	// Spooled and SpoolBytes are the spool's depth.
	Spooled    int       `json:"spooled"`
	SpoolBytes int64     `json:"spool_bytes"`
	Since      time.Time `json:"since"`
	// LastError is the last reason a write failed, while not "ok".
	LastError string `json:"last_error,omitempty"`
	// Lost counts posts and deletes that could not be stored at all
	// (spool full, or refused by the database as invalid).
	Lost uint64 `json:"lost"`
}

// Writer is the ingest side of the store. Save and Delete try the
// database with a short timeout; when it is down or slow the operation is
// appended to the spool instead, and from then on every operation goes to
// the spool behind it, so that order holds (a delete never overtakes the
// save it retracts). Run writes the spool back, oldest first, and returns
// to direct writes once it is empty. Nothing is lost across a crash: an
// operation is on disk or in the database when Save returns.
type Writer struct {
	db  tweet.Writer
	q   *Spool
	cfg WriterConfig
	log *slog.Logger

	// mu serialises the direct writes and appends, and the drainer's
	// "spool is empty: back to direct" decision, so that no operation
	// can slip past one still in the spool.
	mu       sync.Mutex
	spooling bool

	// hmu guards health alone, so that /healthz never waits behind a
	// write to a slow database.
	hmu    sync.Mutex
	health Health
	// lostBefore is Lost when the spool last became full, so that its
	// recovery can say how many were lost meanwhile.
	lostBefore uint64

	wake chan struct{}
}

var _ tweet.Writer = (*Writer)(nil)

// NewWriter returns a Writer to db that spools to q. A non-empty q (left
// by an outage before a restart) is drained first by Run.
func NewWriter(db tweet.Writer, q *Spool, cfg WriterConfig) *Writer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Writer{db: db, q: q, cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
	w.health = Health{State: "ok", Since: cfg.Now().UTC()}
	// What Open could not read from a damaged segment is lost: count it
	// and say where the damaged file is, for anyone who wants to look.
	for _, d := range q.Damaged() {
		w.health.Lost += uint64(d.Unreadable)
		w.log.Error("spool: a damaged segment was moved aside; its readable records will be stored, the unreadable ones are lost",
			"moved_to", d.MovedTo, "recovered", d.Recovered, "unreadable_stretches", d.Unreadable, "unreadable_bytes", d.Bytes)
	}
	if q.Len() > 0 {
		w.spooling = true
		w.setState("spooling", nil)
	}
	return w
}

// record is one spooled operation.
type record struct {
	Op    string       `json:"op"` // "save" or "delete"
	Event string       `json:"event,omitempty"`
	Tweet *tweet.Tweet `json:"tweet,omitempty"`
	ID    string       `json:"id,omitempty"`
}

// Save stores t, or spools it when the database does not answer in time.
// It returns an error only when the post is not stored and will not be:
// the database refused it as invalid, or the spool is full.
func (w *Writer) Save(ctx context.Context, event string, t tweet.Tweet) error {
	return w.do(ctx, record{Op: "save", Event: event, Tweet: &t, ID: t.ID})
}

// Delete removes the post with the given id, or spools the deletion.
func (w *Writer) Delete(ctx context.Context, id string) error {
	return w.do(ctx, record{Op: "delete", ID: id})
}

func (w *Writer) do(ctx context.Context, r record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.spooling && ctx.Err() == nil {
		err := w.apply(ctx, r)
		if err == nil {
			return nil
		}
		if !transient(err) {
			w.lost()
			w.log.Error("the database refuses this post; it is not stored", "op", r.Op, "id", r.ID, "err", err)
			return fmt.Errorf("store %s %s: %w", r.Op, r.ID, err)
		}
		w.log.Warn("database unavailable: spooling posts to disk until it is back", "err", err)
		w.spooling = true
		w.setState("spooling", err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode %s %s for the spool: %w", r.Op, r.ID, err)
	}
	if err := w.q.Append(data); err != nil {
		w.full(err)
		if errors.Is(err, ErrFull) {
			return tweet.Errorf(tweet.EUNAVAILABLE, "post %s is not stored: the database has been unreachable so long that the spool is full (%v); bring the database back or give the spool more room", r.ID, err)
		}
		return tweet.Errorf(tweet.EUNAVAILABLE, "post %s is not stored: the database is unreachable and the spool cannot write (%v); free space under the data directory or fix the disk", r.ID, err)
	}
	w.writable()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// apply performs r on the database within the configured timeout.
func (w *Writer) apply(ctx context.Context, r record) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	switch r.Op {
	case "save":
		if r.Tweet == nil {
			return tweet.Errorf(tweet.EINVALID, "spooled save without a post")
		}
		return w.db.Save(ctx, r.Event, *r.Tweet)
	case "delete":
		return w.db.Delete(ctx, r.ID)
	default:
		return tweet.Errorf(tweet.EINVALID, "unknown spooled operation %q", r.Op)
	}
}

// transient reports whether err may go away by itself: the database is
// down, slow or restarting. Anything else (an invalid post) will fail the
// same way every time, so retrying it would block the spool for good.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	return tweet.ErrorCode(err) != tweet.EINVALID
}

// full counts one operation lost because the spool could not take it, and
// on the first says so, once, with what to do: the state is "full" (and
// /healthz 503) until an append succeeds again. Must hold mu.
func (w *Writer) full(err error) {
	w.hmu.Lock()
	w.health.Lost++
	first := w.health.State != "full"
	if first {
		w.lostBefore = w.health.Lost - 1
	}
	w.hmu.Unlock()
	w.setState("full", err)
	if first {
		w.log.Error("spool cannot write: new posts reach the clients but are not stored until it can; /healthz says full and /metrics counts the lost",
			"err", err, "spooled", w.q.Len(), "lost_so_far", w.lostBefore)
	}
}

// writable ends a "full" spell once an append succeeded, saying how much
// it lost. Must hold mu.
func (w *Writer) writable() {
	w.hmu.Lock()
	wasFull := w.health.State == "full"
	lost := w.health.Lost - w.lostBefore
	w.hmu.Unlock()
	if wasFull {
		w.setState("spooling", nil)
		w.log.Warn("spool writes again; posts are stored from here on", "lost_while_full", lost, "spooled", w.q.Len())
	}
}

func (w *Writer) setState(state string, err error) {
	w.hmu.Lock()
	defer w.hmu.Unlock()
	if w.health.State != state {
		w.health.Since = w.cfg.Now().UTC()
	}
	w.health.State = state
	w.health.LastError = ""
	if err != nil {
		w.health.LastError = err.Error()
	}
}

// Health returns a snapshot of the write path's state.
func (w *Writer) Health() Health {
	w.hmu.Lock()
	h := w.health
	w.hmu.Unlock()
	h.Spooled = w.q.Len()
	h.SpoolBytes = w.q.Bytes()
	return h
}

// Run drains the spool into the database whenever it holds something,
// backing off while the database (or the disk) fails, until ctx is done.
// Failures show in Health; Run has nothing to return.
func (w *Writer) Run(ctx context.Context) {
	backoff := w.cfg.MinBackoff
	for {
		empty, err := w.step(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			w.hmu.Lock()
			w.health.LastError = err.Error()
			w.hmu.Unlock()
			// Wake-ups while backing off would only retry sooner.
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(backoff*2, w.cfg.MaxBackoff)
		case empty:
			backoff = w.cfg.MinBackoff
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
			}
		default:
			backoff = w.cfg.MinBackoff
		}
	}
}

// Drain writes the spool back until it is empty, the database fails, or
// ctx is done. Call it at startup, before loading recent posts, so that
// what was spooled before a restart is in the database; Run does the same
// in the background.
func (w *Writer) Drain(ctx context.Context) error {
	for {
		empty, err := w.step(ctx)
		if err != nil {
			return err
		}
		if empty {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// step writes back one batch. It reports whether the spool was empty (and
// direct writes are back on).
func (w *Writer) step(ctx context.Context) (empty bool, err error) {
	recs, err := w.q.Front(w.cfg.Batch)
	if err != nil {
		return false, fmt.Errorf("read the spool: %w", err)
	}
	if len(recs) == 0 {
		w.mu.Lock()
		defer w.mu.Unlock()
		// Appends happen under mu, so an empty spool here stays empty
		// until direct writes are back on.
		if w.spooling && w.q.Len() == 0 {
			w.writable()
			w.spooling = false
			w.setState("ok", nil)
			w.log.Info("database back: spool drained")
		}
		return true, nil
	}
	for _, data := range recs {
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			w.drop(fmt.Errorf("undecodable spool record: %w", err), "")
		} else if err := w.apply(ctx, r); err != nil {
			if transient(err) {
				return false, err
			}
			w.drop(err, r.ID)
		}
		if err := w.q.Discard(1); err != nil {
			return false, fmt.Errorf("consume the spool: %w", err)
		}
	}
	return false, nil
}

// drop gives up on a record the database will never take, so that it
// does not hold back the ones behind it.
func (w *Writer) drop(err error, id string) {
	w.log.Error("dropping a spooled operation the database refuses", "id", id, "err", err)
	w.lost()
}

func (w *Writer) lost() {
	w.hmu.Lock()
	w.health.Lost++
	w.hmu.Unlock()
}
