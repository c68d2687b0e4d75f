// Package replay is a tweet.Source that plays a recorded Twitter v1.1
// stream from a file: one JSON status or stream message a line, the format
// the streaming API sent and that captures of it store. It lets an event
// wall be rehearsed, demonstrated and tested end to end without network
// access or credentials.
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/lines"
	"github.com/tweetwire/tweetwire/server/source/internal/twitterv1"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Config says what to play. The zero Rate plays as fast as the sink takes it.
type Config struct {
	// Path is the file to play.
	Path string
	// Rate is in posts per second; 0 means as fast as possible. Deletes
	// and skipped lines are not paced.
	Rate float64
	// Loop plays the file again from the start each time it ends.
	Loop bool
	// Logger gets what happens while playing; nil means slog.Default().
	Logger *slog.Logger
}

// Source plays a file into a sink. It holds no open resources between
// runs: each pass opens the file anew, so it needs no Close.
type Source struct {
	cfg      Config
	interval time.Duration // between posts; 0 means no pacing
	log      *slog.Logger

	// at is where a looping replay stands: the pass and the last line
	// emitted in it. A restarted server resumes there (ResumeFrom), so
	// that its passes go on with ids the store has not seen; from the
	// start, pass 1 again would repeat every stored post, all dropped as
	// duplicates, and the wall would show nothing new.
	mu sync.Mutex
	at position
}

// position is where a looping replay stands.
type position struct{ pass, line int }

var (
	_ tweet.Source    = (*Source)(nil)
	_ tweet.Resumable = (*Source)(nil)
)

// Position is "<pass>:<line>", the last line emitted and its pass, for a
// looping replay; "" without Loop (a replay played once starts over, and
// downstream drops what it stored before) or before the first event.
func (r *Source) Position() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.cfg.Loop || r.at.pass == 0 {
		return ""
	}
	return strconv.Itoa(r.at.pass) + ":" + strconv.Itoa(r.at.line)
}

// ResumeFrom makes the next Run of a looping replay start after the line
// and in the pass that Position gave; anything else is ignored.
func (r *Source) ResumeFrom(pos string) {
	a, b, ok := strings.Cut(pos, ":")
	pass, err1 := strconv.Atoi(a)
	line, err2 := strconv.Atoi(b)
	if !r.cfg.Loop || !ok || err1 != nil || err2 != nil || pass < 1 || line < 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at = position{pass: pass, line: line}
}

func (r *Source) setAt(pass, line int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at = position{pass: pass, line: line}
}

// New checks cfg up front, so that a mistake is reported when the server
// starts rather than as a source that fails once running: the file must
// exist, be readable, and hold at least one status or delete notice.
// Its errors are *tweet.FieldError about the Config field at fault.
func New(cfg Config) (*Source, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Path == "" {
		return nil, invalid("Path", nil, "no replay file given: give the path of a file of Twitter v1.1 JSON lines, one status per line")
	}
	// !(x >= 0) also catches NaN, which compares false with everything.
	if !(cfg.Rate >= 0) {
		return nil, invalid("Rate", nil, "replay rate %v is not allowed: it is negative or not a number; give posts per second, or 0 to play as fast as possible", cfg.Rate)
	}
	var interval time.Duration
	if cfg.Rate > 0 {
		// A rate so high that the interval rounds to 0 (or +Inf) simply
		// means no pacing. A tiny one would overflow time.Duration.
		d := float64(time.Second) / cfg.Rate
		if d > float64(24*time.Hour) {
			return nil, invalid("Rate", nil, "replay rate %v is below one post a day: give a higher rate in posts per second, or 0 to play as fast as possible", cfg.Rate)
		}
		interval = time.Duration(d)
	}
	if err := check(cfg.Path); err != nil {
		return nil, err
	}
	return &Source{cfg: cfg, interval: interval, log: log}, nil
}

// check opens path and reads it up to the first line that decodes to an
// event, which for a real capture is the first line or nearly so.
func check(path string) error {
	f, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	lr := lines.NewReader(f, lines.MaxBytes)
	var firstErr error
	firstErrLine := 0
	for {
		line, tooLong, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return invalid("Path", err, "replay file %q cannot be read: check that it is a readable file", path)
		}
		if tooLong {
			continue
		}
		_, ok, err := twitterv1.Decode(line)
		if ok {
			return nil
		}
		if err != nil && firstErr == nil {
			firstErr, firstErrLine = err, lr.N()
		}
	}
	if firstErr != nil {
		return invalid("Path", nil, "replay file %q has no line with a Twitter v1.1 status or delete notice (line %d: %v): pass a file with one JSON status per line",
			path, firstErrLine, firstErr)
	}
	return invalid("Path", nil, "replay file %q has no line with a Twitter v1.1 status or delete notice: pass a file with one JSON status per line", path)
}

// open opens path for reading and turns the usual failures into sentences
// that say what to fix.
func open(path string) (*os.File, error) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, invalid("Path", err, "replay file %q does not exist: give the path of an existing file", path)
	case errors.Is(err, fs.ErrPermission):
		return nil, invalid("Path", err, "replay file %q cannot be read: give the server read permission on it", path)
	case err != nil:
		return nil, invalid("Path", err, "replay file %q cannot be opened: give the path of a readable file", path)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, invalid("Path", nil, "replay file %q is a directory: give the path of a file in it", path)
	}
	return f, nil
}

// invalid returns a *tweet.FieldError about field whose Err is an
// EINVALID *tweet.Error, said to the user as it is, wrapping cause (when
// there is one) for errors.Is and for logs.
func invalid(field string, cause error, format string, args ...any) error {
	var e error = tweet.Errorf(tweet.EINVALID, format, args...)
	if cause != nil {
		e = fmt.Errorf("%w: %w", e, cause)
	}
	return &tweet.FieldError{Field: field, Err: e}
}

// Run plays the file into sink until it ends (without Loop), ctx is done,
// or the file can no longer be read. Bad lines are logged with their line
// number and skipped, so one damaged record does not stop the show.
func (r *Source) Run(ctx context.Context, sink tweet.Sink) error {
	sink.SetState(tweet.StateRunning, nil)
	p := &pacer{interval: r.interval}
	defer p.stop()
	r.mu.Lock()
	start := r.at
	r.mu.Unlock()
	first := max(start.pass, 1)
	if start.pass > 0 {
		r.log.Info("replay: resuming where the last run stopped", "path", r.cfg.Path, "pass", start.pass, "after_line", start.line)
	}
	for pass := first; ; pass++ {
		skip := 0
		if pass == start.pass {
			skip = start.line
		}
		emitted, err := r.play(ctx, sink, p, pass, skip)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil && emitted == 0 && skip > 0 {
			// The last run had finished this pass: on to the next.
			continue
		}
		if err == nil && emitted == 0 {
			// The file was checked in New, so it changed since; looping
			// over it would spin without end.
			err = invalid("Path", nil, "replay file %q no longer has a Twitter v1.1 status or delete notice: restore the file", r.cfg.Path)
		}
		if err != nil {
			sink.SetState(tweet.StateFailed, err)
			return err
		}
		if !r.cfg.Loop {
			r.log.Info("replay: finished", "path", r.cfg.Path, "events", emitted)
			sink.SetState(tweet.StateFinished, nil)
			return nil
		}
		r.log.Info("replay: playing again from the start", "path", r.cfg.Path, "pass", pass+1)
	}
}

// play makes one pass over the file, after its first skip lines, and
// returns how many events it emitted.
//
// Downstream drops an event whose id it has already seen, so from the
// second pass on every id (of a post and of a delete alike) gets "~N"
// appended, N being the pass: "twitter:123" plays as "twitter:123~2" the
// second time and is shown again, and a delete in that pass retracts that
// pass's copy. The URL still points at the original post.
func (r *Source) play(ctx context.Context, sink tweet.Sink, p *pacer, pass, skip int) (emitted int, err error) {
	f, err := open(r.cfg.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()

	// A line already reported in the first pass would be reported again on
	// every pass of a looping replay; later passes say it at Debug.
	level := slog.LevelWarn
	if pass > 1 {
		level = slog.LevelDebug
	}
	suffix := ""
	if pass > 1 {
		suffix = "~" + strconv.Itoa(pass)
	}

	lr := lines.NewReader(f, lines.MaxBytes)
	for {
		line, tooLong, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return emitted, nil
		}
		if err != nil {
			return emitted, invalid("Path", err, "replay file %q could not be read past line %d: check the file and the disk", r.cfg.Path, lr.N())
		}
		if lr.N() <= skip {
			continue // emitted by the run this one resumes
		}
		if tooLong {
			r.log.Log(ctx, level, "replay: skipping a line longer than 1 MiB", "path", r.cfg.Path, "line", lr.N())
			continue
		}
		ev, ok, err := twitterv1.Decode(line)
		if err != nil {
			r.log.Log(ctx, level, "replay: skipping a line that is not a valid status", "path", r.cfg.Path, "line", lr.N(), "err", err)
			continue
		}
		if !ok {
			continue // keep-alive or a stream control message
		}
		ev.ID += suffix
		if ev.Kind == tweet.KindPost {
			ev.Tweet.ID = ev.ID
			if !p.wait(ctx) {
				return emitted, nil
			}
		}
		if err := sink.Emit(ctx, ev); err != nil {
			if ctx.Err() != nil {
				return emitted, nil
			}
			// tweet.Sink promises an error only once ctx is done.
			return emitted, fmt.Errorf("replay: the sink refused %s from line %d: %w", ev.ID, lr.N(), err)
		}
		r.setAt(pass, lr.N())
		emitted++
	}
}

// pacer spaces posts interval apart. The first post goes at once. After a
// stall (a slow sink, a long run of skipped lines) it does not burst to
// catch up, because a wall that suddenly shows a dozen posts at once reads
// as a glitch, not a replay.
type pacer struct {
	interval time.Duration
	next     time.Time
	timer    *time.Timer
}

// wait blocks until the next post is due and reports false if ctx ended
// first.
func (p *pacer) wait(ctx context.Context) bool {
	if p.interval <= 0 {
		return ctx.Err() == nil
	}
	now := time.Now()
	if d := p.next.Sub(now); d > 0 {
		if p.timer == nil {
			p.timer = time.NewTimer(d)
		} else {
			// Since Go 1.23 Reset needs no drain of a fired timer.
			p.timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return false
		case <-p.timer.C:
		}
		now = time.Now()
	}
	p.next = now.Add(p.interval)
	return ctx.Err() == nil
}

func (p *pacer) stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}
