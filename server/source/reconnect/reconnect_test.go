package reconnect

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

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
