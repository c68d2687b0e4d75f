package replay_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/lines"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/replay"
	"github.com/tweetwire/tweetwire/server/tweet"
)

func newLogger() (*slog.Logger, *sourcetest.Logs) {
	logs := &sourcetest.Logs{}
	return logs.Logger(), logs
}

// status returns a minimal v1.1 status line.
func status(id, text string) string {
	return fmt.Sprintf(`{"created_at":"Thu Apr 25 09:00:00 +0000 2019","id":%s,"id_str":%q,"text":%q,"user":{"screen_name":"gopher","name":"Gopher"},"entities":{"hashtags":[{"text":"GoConf","indices":[0,7]}]},"lang":"en"}`,
		id, id, text)
}

func deleteLine(id string) string {
	return fmt.Sprintf(`{"delete":{"status":{"id":%s,"id_str":%q,"user_id":1,"user_id_str":"1"}}}`, id, id)
}

func writeFile(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "replay.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustNew(t *testing.T, cfg replay.Config, log *slog.Logger) *replay.Source {
	t.Helper()
	cfg.Logger = log
	r, err := replay.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// run runs r to completion, failing the test if it does not end in time.
func run(t *testing.T, ctx context.Context, r *replay.Source, sink tweet.Sink) error {
	t.Helper()
	return sourcetest.RunFor(t, ctx, r, sink, 10*time.Second)
}

// snapshot returns what sink recorded.
func snapshot(sink *sourcetest.Sink) ([]tweet.Update, []tweet.State) {
	var states []tweet.State
	for _, st := range sink.States() {
		states = append(states, st.State)
	}
	return sink.Events(), states
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.jsonl")
	empty := writeFile(t)
	noEvents := writeFile(t, "", "  ", `{"limit":{"track":12}}`, `{"warning":{"code":"FALLING_BEHIND"}}`)
	allBad := writeFile(t, "", `{"id_str":"1","text":`, `not json`)
	valid := writeFile(t, status("1", "hi"))

	tests := []struct {
		name    string
		cfg     replay.Config
		field   string // the Config field the error is about
		wantMsg string // a substring of tweet.ErrorMessage(err)
		wantIs  error
	}{
		{name: "no path", cfg: replay.Config{}, field: "Path", wantMsg: "no replay file given: give the path of a file of Twitter v1.1 JSON lines"},
		{
			name:    "missing file",
			cfg:     replay.Config{Path: missing},
			field:   "Path",
			wantMsg: fmt.Sprintf("replay file %q does not exist: give the path of an existing file", missing),
			wantIs:  fs.ErrNotExist,
		},
		{name: "directory", cfg: replay.Config{Path: dir}, field: "Path", wantMsg: "is a directory"},
		{name: "negative rate", cfg: replay.Config{Path: valid, Rate: -1}, field: "Rate", wantMsg: "replay rate -1 is not allowed"},
		{name: "NaN rate", cfg: replay.Config{Path: valid, Rate: math.NaN()}, field: "Rate", wantMsg: "replay rate NaN is not allowed"},
		{name: "rate below one a day", cfg: replay.Config{Path: valid, Rate: 1e-9}, field: "Rate", wantMsg: "below one post a day"},
		{name: "empty file", cfg: replay.Config{Path: empty}, field: "Path", wantMsg: "has no line with a Twitter v1.1 status or delete notice"},
		{name: "only keep-alives and control messages", cfg: replay.Config{Path: noEvents}, field: "Path", wantMsg: "has no line with a Twitter v1.1 status"},
		{name: "only malformed lines names the first", cfg: replay.Config{Path: allBad}, field: "Path", wantMsg: "(line 2: line is not one complete JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := replay.New(tt.cfg)
			if err == nil {
				t.Fatalf("New = %v, nil; want an error", r)
			}
			sourcetest.CheckFieldError(t, err, tt.field, tweet.EINVALID, tt.wantMsg)
			if msg := tweet.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("ErrorMessage = %q, want it to contain %q", msg, tt.wantMsg)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
		})
	}
}

func TestNewUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file; permissions cannot be tested")
	}
	path := writeFile(t, status("1", "hi"))
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := replay.New(replay.Config{Path: path})
	sourcetest.CheckFieldError(t, err, "Path", tweet.EINVALID, "give the server read permission")
	if msg := tweet.ErrorMessage(err); !strings.Contains(msg, "give the server read permission") {
		t.Fatalf("err = %v, want a permission message", err)
	}
}

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		rate  float64
	}{
		{name: "a status after bad lines", lines: []string{"", "garbage", `{"limit":{"track":1}}`, status("1", "hi")}},
		{name: "only a delete notice", lines: []string{deleteLine("1")}},
		{name: "infinite rate means no pacing", lines: []string{status("1", "hi")}, rate: math.Inf(1)},
		{name: "slow rate", lines: []string{status("1", "hi")}, rate: 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := replay.New(replay.Config{Path: writeFile(t, tt.lines...), Rate: tt.rate}); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

func TestRunPlaysSample(t *testing.T) {
	log, logs := newLogger()
	r := mustNew(t, replay.Config{Path: filepath.Join("testdata", "sample.jsonl")}, log)
	sink := &sourcetest.Sink{}
	if err := run(t, context.Background(), r, sink); err != nil {
		t.Fatalf("Run: %v", err)
	}
	events, states := snapshot(sink)

	if want := []tweet.State{tweet.StateRunning, tweet.StateFinished}; fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("states = %v, want %v", states, want)
	}

	var posts, retweets, deletes int
	seen := map[string]bool{}
	langs := map[string]bool{}
	authors := map[string]bool{}
	var last time.Time
	for i, ev := range events {
		switch ev.Kind {
		case tweet.KindPost:
			posts++
			tw := ev.Tweet
			if seen[tw.ID] {
				t.Errorf("event %d: id %s played twice", i, tw.ID)
			}
			seen[tw.ID] = true
			if tw.Retweet {
				retweets++
				if !strings.HasPrefix(tw.Text, "RT @") || strings.Contains(tw.Text, "…") {
					t.Errorf("retweet %s has text %q, want RT @author: and the whole original", tw.ID, tw.Text)
				}
			}
			if tw.CreatedAt.Before(last) {
				t.Errorf("post %s at %v is before the previous one at %v", tw.ID, tw.CreatedAt, last)
			}
			last = tw.CreatedAt
			if !containsTag(tw.Hashtags, "goconf") && !tw.Retweet && !strings.HasPrefix(tw.Text, "@") {
				t.Errorf("post %s has hashtags %q, want goconf among them", tw.ID, tw.Hashtags)
			}
			langs[tw.Lang] = true
			authors[tw.User] = true
		case tweet.KindDelete:
			deletes++
			if !seen[ev.ID] {
				t.Errorf("delete of %s, which was not played before it", ev.ID)
			}
		}
	}
	if posts < 55 || posts > 70 || retweets < 2 || deletes != 1 {
		t.Errorf("played %d posts (%d retweets) and %d deletes, want ~60 posts, >=2 retweets, 1 delete", posts, retweets, deletes)
	}
	if len(langs) < 5 || len(authors) < 20 {
		t.Errorf("sample has %d languages and %d authors, want a varied sample", len(langs), len(authors))
	}

	warns := logs.Records(t, slog.LevelWarn)
	if len(warns) != 1 {
		t.Fatalf("logged %d warnings, want 1 for the one malformed line: %v", len(warns), warns)
	}
	if warns[0]["line"] != float64(22) {
		t.Errorf("warning names line %v, want 22: %v", warns[0]["line"], warns[0])
	}
}

func containsTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func TestRunSkipsBadLines(t *testing.T) {
	long := status("3", strings.Repeat("x", lines.MaxBytes))
	tests := []struct {
		name      string
		lines     []string
		wantIDs   []string
		wantWarns []float64 // line numbers
	}{
		{
			name:      "malformed line in the middle",
			lines:     []string{status("1", "a"), `{"id_str":"2","text":"b`, status("3", "c")},
			wantIDs:   []string{"twitter:1", "twitter:3"},
			wantWarns: []float64{2},
		},
		{
			name:      "line longer than 1 MiB",
			lines:     []string{status("1", "a"), long, status("2", "b")},
			wantIDs:   []string{"twitter:1", "twitter:2"},
			wantWarns: []float64{2},
		},
		{
			name:    "keep-alives and control messages are silent",
			lines:   []string{"", status("1", "a"), "   ", `{"limit":{"track":3}}`, "\r", status("2", "b")},
			wantIDs: []string{"twitter:1", "twitter:2"},
		},
		{
			name:      "status that cannot be normalised",
			lines:     []string{`{"id_str":"9","text":"x","user":{"screen_name":"a"},"created_at":"yesterday"}`, status("1", "a")},
			wantIDs:   []string{"twitter:1"},
			wantWarns: []float64{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := newLogger()
			r := mustNew(t, replay.Config{Path: writeFile(t, tt.lines...)}, log)
			sink := &sourcetest.Sink{}
			if err := run(t, context.Background(), r, sink); err != nil {
				t.Fatalf("Run: %v", err)
			}
			events, _ := snapshot(sink)
			if got := ids(events); fmt.Sprint(got) != fmt.Sprint(tt.wantIDs) {
				t.Errorf("ids = %v, want %v", got, tt.wantIDs)
			}
			var lines []float64
			for _, rec := range logs.Records(t, slog.LevelWarn) {
				lines = append(lines, rec["line"].(float64))
			}
			if fmt.Sprint(lines) != fmt.Sprint(tt.wantWarns) {
				t.Errorf("warned about lines %v, want %v", lines, tt.wantWarns)
			}
		})
	}
}

func ids(events []tweet.Update) []string {
	out := make([]string, 0, len(events))
	for _, ev := range events {
		out = append(out, ev.ID)
	}
	return out
}

func TestRunLoopGivesEachPassNewIDs(t *testing.T) {
	log, logs := newLogger()
	path := writeFile(t, status("1", "a"), `broken`, status("2", "b"), deleteLine("1"))
	r := mustNew(t, replay.Config{Path: path, Loop: true}, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &sourcetest.Sink{OnEmit: func(_ context.Context, n int) error {
		if n == 9 {
			cancel() // three passes of three events
		}
		return nil
	}}
	if err := run(t, ctx, r, sink); err != nil {
		t.Fatalf("Run: %v", err)
	}
	events, states := snapshot(sink)
	want := []string{
		"twitter:1", "twitter:2", "twitter:1",
		"twitter:1~2", "twitter:2~2", "twitter:1~2",
		"twitter:1~3", "twitter:2~3", "twitter:1~3",
	}
	if got := ids(events); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ids = %v, want %v", got, want)
	}
	for _, ev := range events {
		if ev.Kind == tweet.KindPost {
			if ev.Tweet.ID != ev.ID {
				t.Errorf("Tweet.ID %q differs from event ID %q", ev.Tweet.ID, ev.ID)
			}
			if !strings.HasSuffix(ev.Tweet.URL, "/status/"+strings.TrimPrefix(strings.Split(ev.ID, "~")[0], "twitter:")) {
				t.Errorf("URL %q should still point at the original post", ev.Tweet.URL)
			}
		}
	}
	if events[2].Kind != tweet.KindDelete || events[5].Kind != tweet.KindDelete {
		t.Errorf("the delete notice should play as a delete in every pass")
	}
	for _, st := range states {
		if st == tweet.StateFinished {
			t.Error("a looping replay reported finished")
		}
	}
	if n := len(logs.Records(t, slog.LevelWarn)); n != 1 {
		t.Errorf("logged %d warnings for one malformed line over three passes, want 1", n)
	}
}

func TestRunPacing(t *testing.T) {
	lines := make([]string, 6)
	for i := range lines {
		lines[i] = status(fmt.Sprint(i+1), "tick")
	}
	// Deletes are not paced, so adding them must not slow the replay.
	lines = append(lines, deleteLine("1"), deleteLine("2"))
	path := writeFile(t, lines...)

	tests := []struct {
		name    string
		rate    float64
		atLeast time.Duration
	}{
		// 6 posts at 50/s: the first at once, then 5 gaps of 20ms. Only
		// a lower bound is checked, since a loaded machine can be slow.
		{name: "50 posts a second", rate: 50, atLeast: 90 * time.Millisecond},
		{name: "no pacing", rate: 0, atLeast: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustNew(t, replay.Config{Path: path, Rate: tt.rate}, nil)
			sink := &sourcetest.Sink{}
			start := time.Now()
			if err := run(t, context.Background(), r, sink); err != nil {
				t.Fatalf("Run: %v", err)
			}
			elapsed := time.Since(start)
			if events, _ := snapshot(sink); len(events) != 8 {
				t.Fatalf("played %d events, want 8", len(events))
			}
			if elapsed < tt.atLeast {
				t.Errorf("played in %v, want at least %v", elapsed, tt.atLeast)
			}
		})
	}
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	path := writeFile(t, status("1", "a"), status("2", "b"), status("3", "c"))
	tests := []struct {
		name string
		cfg  replay.Config
		// emit runs after each recorded event with the run's cancel.
		emit func(ctx context.Context, cancel context.CancelFunc, n int) error
	}{
		{
			name: "while waiting for the next post's turn",
			cfg:  replay.Config{Path: path, Rate: 0.02}, // 50s between posts
			emit: func(_ context.Context, cancel context.CancelFunc, n int) error {
				go func() { time.Sleep(20 * time.Millisecond); cancel() }()
				return nil
			},
		},
		{
			name: "while the sink applies back-pressure",
			cfg:  replay.Config{Path: path},
			emit: func(ctx context.Context, cancel context.CancelFunc, n int) error {
				go func() { time.Sleep(20 * time.Millisecond); cancel() }()
				<-ctx.Done()
				return ctx.Err()
			},
		},
		{
			name: "while looping",
			cfg:  replay.Config{Path: path, Loop: true},
			emit: func(_ context.Context, cancel context.CancelFunc, n int) error {
				if n == 100 {
					cancel()
				}
				return nil
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := mustNew(t, tt.cfg, nil)
			sink := &sourcetest.Sink{OnEmit: func(ctx context.Context, n int) error { return tt.emit(ctx, cancel, n) }}
			start := time.Now()
			if err := run(t, ctx, r, sink); err != nil {
				t.Fatalf("Run = %v, want nil when ctx ends", err)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Run took %v to notice the cancellation", elapsed)
			}
			_, states := snapshot(sink)
			if fmt.Sprint(states) != fmt.Sprint([]tweet.State{tweet.StateRunning}) {
				t.Errorf("states = %v, want only running", states)
			}
		})
	}
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name    string
		cfg     func(path string) replay.Config
		after   func(t *testing.T, path string) // changes the file after New
		sinkErr error
		wantMsg string
	}{
		{
			name:    "file removed after New",
			cfg:     func(p string) replay.Config { return replay.Config{Path: p} },
			after:   func(t *testing.T, p string) { mustRemove(t, p) },
			wantMsg: "does not exist",
		},
		{
			name: "file emptied under a looping replay",
			cfg:  func(p string) replay.Config { return replay.Config{Path: p, Loop: true} },
			after: func(t *testing.T, p string) {
				if err := os.WriteFile(p, []byte("\n\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: "no longer has a Twitter v1.1 status",
		},
		{
			name:    "sink fails while ctx is live",
			cfg:     func(p string) replay.Config { return replay.Config{Path: p} },
			sinkErr: errors.New("encode: boom"),
			wantMsg: "boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, status("1", "a"))
			r := mustNew(t, tt.cfg(path), nil)
			if tt.after != nil {
				tt.after(t, path)
			}
			sink := &sourcetest.Sink{OnEmit: func(context.Context, int) error { return tt.sinkErr }}
			err := run(t, context.Background(), r, sink)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Run = %v, want an error containing %q", err, tt.wantMsg)
			}
			if tt.sinkErr == nil {
				sourcetest.CheckFieldError(t, err, "Path", tweet.EINVALID, tt.wantMsg)
			}
			_, states := snapshot(sink)
			if states[len(states)-1] != tweet.StateFailed {
				t.Errorf("states = %v, want failed last", states)
			}
		})
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// A looping replay on a restarted server goes on where the last run
// stopped, in the same pass, so every post it plays is new to the store;
// from the start it would replay pass 1, which the store already holds.
func TestLoopResumesWhereItStopped(t *testing.T) {
	log, _ := newLogger()
	path := writeFile(t, status("1", "Grüße aus Zürich 👋"), status("2", "東京から"), status("3", "مرحبا"))
	runUntil := func(r *replay.Source, n int) []string {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sink := &sourcetest.Sink{OnEmit: func(_ context.Context, got int) error {
			if got == n {
				cancel()
			}
			return nil
		}}
		if err := run(t, ctx, r, sink); err != nil {
			t.Fatalf("Run: %v", err)
		}
		events, _ := snapshot(sink)
		return ids(events)[:n]
	}

	first := mustNew(t, replay.Config{Path: path, Loop: true}, log)
	if first.Position() != "" {
		t.Errorf("position before anything played: %q", first.Position())
	}
	got := runUntil(first, 4)
	if fmt.Sprint(got) != "[twitter:1 twitter:2 twitter:3 twitter:1~2]" {
		t.Fatalf("first run played %v", got)
	}
	pos := first.Position()
	if pos != "2:1" {
		t.Errorf("position after the first post of pass 2 = %q, want 2:1", pos)
	}

	second := mustNew(t, replay.Config{Path: path, Loop: true}, log)
	second.ResumeFrom(pos)
	got = runUntil(second, 4)
	if want := "[twitter:2~2 twitter:3~2 twitter:1~3 twitter:2~3]"; fmt.Sprint(got) != want {
		t.Errorf("the resumed run played %v, want %v", got, want)
	}

	// A pass the last run had finished is not played again.
	third := mustNew(t, replay.Config{Path: path, Loop: true}, log)
	third.ResumeFrom("3:3")
	if got = runUntil(third, 1); fmt.Sprint(got) != "[twitter:1~4]" {
		t.Errorf("resumed at the end of pass 3, played %v first, want twitter:1~4", got)
	}

	// Played once, a replay keeps no position: it starts over, and
	// downstream drops what was stored.
	once := mustNew(t, replay.Config{Path: path}, log)
	once.ResumeFrom("2:1")
	if err := run(t, context.Background(), once, &sourcetest.Sink{}); err != nil {
		t.Fatal(err)
	}
	if once.Position() != "" {
		t.Errorf("a replay without Loop has position %q", once.Position())
	}
}
