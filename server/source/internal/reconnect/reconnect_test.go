package reconnect

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	refused := errors.New("refused")
	t.Run("retries until a fatal drop", func(t *testing.T) {
		drops := []Drop{{Err: errors.New("reset")}, {Err: errors.New("503"), Status: 503, Healthy: true}, {Err: refused, Fatal: true}}
		var retried []Drop
		err := Run(context.Background(), func() Drop {
			d := drops[0]
			drops = drops[1:]
			return d
		}, func(d Drop) time.Duration {
			retried = append(retried, d)
			return time.Millisecond
		})
		if !errors.Is(err, refused) {
			t.Errorf("Run = %v, want the fatal drop's error", err)
		}
		if len(retried) != 2 || retried[1].Status != 503 || !retried[1].Healthy {
			t.Errorf("retried %+v, want the two drops before the fatal one", retried)
		}
	})
	t.Run("ends with ctx, whatever the drop", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		err := Run(ctx, func() Drop { cancel(); return Drop{Err: refused, Fatal: true} }, func(Drop) time.Duration {
			t.Error("retried after ctx ended")
			return 0
		})
		if err != nil {
			t.Errorf("Run = %v, want nil once ctx is done", err)
		}
	})
	t.Run("ends with ctx while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		attempts := 0
		err := Run(ctx, func() Drop { attempts++; return Drop{} }, func(Drop) time.Duration { cancel(); return time.Hour })
		if err != nil || attempts != 1 {
			t.Errorf("Run = %v after %d attempts, want nil after 1", err, attempts)
		}
	})
}

func TestWaits(t *testing.T) {
	b := Backoff{Min: time.Second, Max: time.Minute}
	if w := []time.Duration{b.After(Drop{}), b.After(Drop{}), b.After(Drop{Healthy: true})}; w[0] != time.Second || w[1] != 2*time.Second || w[2] != time.Second {
		t.Errorf("Backoff.After waits %v, want 1s, 2s, then 1s again after a healthy connection", w)
	}
	tw := NewTwitter()
	if got := AfterHTTP(tw, Drop{}); got != 250*time.Millisecond {
		t.Errorf("AfterHTTP of a network drop = %v, want Twitter's network wait", got)
	}
	if got := AfterHTTP(tw, Drop{Status: 429}); got != time.Minute {
		t.Errorf("AfterHTTP of a 429 = %v, want Twitter's rate-limit wait", got)
	}
}

func TestTwitterRules(t *testing.T) {
	tw := NewTwitter()
	var network []time.Duration
	for range 70 {
		network = append(network, tw.Network())
	}
	if network[0] != 250*time.Millisecond || network[1] != 500*time.Millisecond || network[63] != 16*time.Second || network[69] != 16*time.Second {
		t.Errorf("network waits %v, %v ... %v: want linear from 250ms, capped at 16s", network[0], network[1], network[69])
	}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 320}
	for i, w := range want {
		if got := tw.HTTP(503); got != w*time.Second {
			t.Errorf("HTTP wait %d = %v, want %v", i, got, w*time.Second)
		}
	}
	if got := tw.HTTP(429); got != time.Minute {
		t.Errorf("first wait after 429 = %v, want 1m", got)
	}
	if got := tw.HTTP(420); got != 2*time.Minute {
		t.Errorf("second wait after 420 = %v, want 2m", got)
	}
	tw.Reset()
	if got := tw.Network(); got != 250*time.Millisecond {
		t.Errorf("after Reset network wait = %v", got)
	}
	if got := tw.HTTP(500); got != 5*time.Second {
		t.Errorf("after Reset HTTP wait = %v", got)
	}
}

func TestBackoffJitterStaysInBounds(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 30 * time.Second, Jitter: 0.2}
	for i := range 20 {
		base := min(time.Second<<i, 30*time.Second)
		got := b.Next()
		if got < base*8/10 || got > base*12/10 {
			t.Fatalf("attempt %d: %v outside ±20%% of %v", i, got, base)
		}
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep did not wait")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep ignored a done context")
	}
}

func TestWatchdogFiresOnlyWhenIdle(t *testing.T) {
	fired := make(chan struct{})
	w := NewWatchdog(400*time.Millisecond, func() { close(fired) })
	defer w.Stop()
	r := w.Reader(bytes.NewReader([]byte("keep-alive")))
	for range 5 {
		time.Sleep(50 * time.Millisecond)
		buf := make([]byte, 2)
		if _, err := r.Read(buf); err != nil && err != io.EOF {
			t.Fatal(err)
		}
	}
	if w.Stalled() {
		t.Fatal("fired although data kept coming")
	}
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("did not fire when the data stopped")
	}
	if !w.Stalled() {
		t.Fatal("Stalled() is false after firing")
	}
}
