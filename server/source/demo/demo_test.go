package demo_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/demo"
	"github.com/tweetwire/tweetwire/server/tweet"
)

type fakeSink struct {
	mu     sync.Mutex
	posts  []tweet.Tweet
	states []tweet.State
	odd    []tweet.Event // events that are not well-formed posts
	onEmit func(ctx context.Context) error
}

func (s *fakeSink) Emit(ctx context.Context, ev tweet.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.posts = append(s.posts, ev.Tweet)
	if ev.Kind != tweet.KindPost || ev.ID != ev.Tweet.ID {
		s.odd = append(s.odd, ev)
	}
	s.mu.Unlock()
	if s.onEmit != nil {
		return s.onEmit(ctx)
	}
	return nil
}

func (s *fakeSink) SetState(st tweet.State, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = append(s.states, st)
}

func (s *fakeSink) snapshot() ([]tweet.Tweet, []tweet.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tweet.Tweet(nil), s.posts...), append([]tweet.State(nil), s.states...)
}

func (s *fakeSink) oddEvents() []tweet.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.odd
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		wantErr bool
	}{
		{name: "zero means the default", rate: 0},
		{name: "fractional", rate: 0.25},
		{name: "the maximum", rate: demo.MaxRate},
		{name: "negative", rate: -1, wantErr: true},
		{name: "NaN", rate: math.NaN(), wantErr: true},
		{name: "above the maximum", rate: demo.MaxRate + 1, wantErr: true},
		{name: "infinite", rate: math.Inf(1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := demo.New(demo.Config{Rate: tt.rate})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New accepted the rate")
			}
			if tweet.ErrorCode(err) != tweet.EINVALID || !strings.Contains(tweet.ErrorMessage(err), "demo rate") {
				t.Errorf("err = %v (code %s), want an invalid-input message about the demo rate", err, tweet.ErrorCode(err))
			}
		})
	}
}

// runFor runs d until ctx ends and fails the test if Run does not return
// soon after.
func runFor(t *testing.T, ctx context.Context, d *demo.Demo, sink tweet.Sink) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, sink) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s")
		return nil
	}
}

func TestRunPaces(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		duration time.Duration
		min, max int
	}{
		// The first post goes at once, then one per interval. Bounds are
		// loose: a busy machine delays ticks but never adds them.
		{name: "slow rate emits only the first post", rate: 0.1, duration: 100 * time.Millisecond, min: 1, max: 1},
		{name: "20 a second for 200ms", rate: 20, duration: 200 * time.Millisecond, min: 1, max: 6},
		{name: "fast rate emits many", rate: 1000, duration: 200 * time.Millisecond, min: 10, max: 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := demo.New(demo.Config{Rate: tt.rate, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.duration)
			defer cancel()
			sink := &fakeSink{}
			if err := runFor(t, ctx, d, sink); err != nil {
				t.Fatalf("Run = %v, want nil once ctx is done", err)
			}
			posts, states := sink.snapshot()
			if len(posts) < tt.min || len(posts) > tt.max {
				t.Errorf("emitted %d posts, want %d to %d", len(posts), tt.min, tt.max)
			}
			if len(states) != 1 || states[0] != tweet.StateRunning {
				t.Errorf("states = %v, want [running]", states)
			}
			if odd := sink.oddEvents(); len(odd) > 0 {
				t.Errorf("emitted events that are not well-formed posts: %+v", odd)
			}
			ids := map[string]bool{}
			for _, p := range posts {
				if ids[p.ID] {
					t.Errorf("id %s emitted twice", p.ID)
				}
				ids[p.ID] = true
				if time.Since(p.CreatedAt) > time.Minute || p.CreatedAt.Location() != time.UTC {
					t.Errorf("CreatedAt = %v, want now in UTC", p.CreatedAt)
				}
			}
		})
	}
}

func TestRunStopsWhileSinkBlocks(t *testing.T) {
	d, err := demo.New(demo.Config{Rate: demo.MaxRate})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sink := &fakeSink{onEmit: func(ctx context.Context) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}}
	if err := runFor(t, ctx, d, sink); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

func TestRunReportsASinkFailure(t *testing.T) {
	d, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	sink := &fakeSink{onEmit: func(context.Context) error { return boom }}
	err = runFor(t, context.Background(), d, sink)
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want it to wrap %v", err, boom)
	}
	if _, states := sink.snapshot(); states[len(states)-1] != tweet.StateFailed {
		t.Errorf("states = %v, want failed last", states)
	}
}
