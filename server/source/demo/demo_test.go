package demo_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/demo"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// odd returns the events that are not well-formed posts.
func oddEvents(events []tweet.Update) []tweet.Update {
	var out []tweet.Update
	for _, ev := range events {
		if ev.Kind != tweet.KindPost || ev.ID != ev.Tweet.ID {
			out = append(out, ev)
		}
	}
	return out
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
			sourcetest.CheckFieldError(t, err, "Rate", tweet.EINVALID, "rate", "out of range", "posts per second")
		})
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
			sink := &sourcetest.Sink{}
			if err := sourcetest.RunFor(t, ctx, d, sink, 10*time.Second); err != nil {
				t.Fatalf("Run = %v, want nil once ctx is done", err)
			}
			events, states := sink.Events(), sink.States()
			if len(events) < tt.min || len(events) > tt.max {
				t.Errorf("emitted %d posts, want %d to %d", len(events), tt.min, tt.max)
			}
			if len(states) != 1 || states[0].State != tweet.StateRunning {
				t.Errorf("states = %v, want [running]", states)
			}
			if odd := oddEvents(events); len(odd) > 0 {
				t.Errorf("emitted events that are not well-formed posts: %+v", odd)
			}
			ids := map[string]bool{}
			for _, ev := range events {
				p := ev.Tweet
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
	sink := &sourcetest.Sink{OnEmit: func(ctx context.Context, _ int) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}}
	if err := sourcetest.RunFor(t, ctx, d, sink, 10*time.Second); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

func TestRunReportsASinkFailure(t *testing.T) {
	d, err := demo.New(demo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	sink := &sourcetest.Sink{OnEmit: func(context.Context, int) error { return boom }}
	err = sourcetest.RunFor(t, context.Background(), d, sink, 10*time.Second)
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want it to wrap %v", err, boom)
	}
	if states := sink.States(); states[len(states)-1].State != tweet.StateFailed {
		t.Errorf("states = %v, want failed last", states)
	}
}
