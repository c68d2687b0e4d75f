// Package reconnect holds what every live source needs to stay connected:
// the loop that connects again after a drop, the waits between attempts
// that each service publishes, and a watchdog that turns a silent
// connection into an error.
package reconnect

import (
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// Drop is how one connection (or attempt at one) ended.
type Drop struct {
	// Err says why, for the log and /healthz.
	Err error
	// Status is the HTTP error status; 0 after a network error or a
	// stall, which back off differently.
	Status int
	// Fatal means reconnecting cannot help.
	Fatal bool
	// Healthy means the connection delivered data, so that the waits
	// start over.
	Healthy bool
}

// Run calls connect, which makes one connection and reads it until it
// ends, again and again until ctx is done (Run returns nil) or a connection
// ends in a Fatal drop (Run returns that drop's Err). After any other drop
// it sleeps as long as retry says; retry is where the source picks the
// wait and reports the drop.
func Run(ctx context.Context, connect func() Drop, retry func(Drop) time.Duration) error {
	for {
		d := connect()
		if ctx.Err() != nil {
			return nil
		}
		if d.Fatal {
			return d.Err
		}
		if !Sleep(ctx, retry(d)) {
			return nil
		}
	}
}

// Backoff gives the wait before each reconnection attempt. The zero
// Backoff is not usable: fill Min and Max.
type Backoff struct {
	// Min is the first wait, Max the longest.
	Min, Max time.Duration
	// Linear adds Min each attempt; otherwise each wait doubles.
	Linear bool
	// Jitter spreads each wait by up to this fraction (0.2: ±20%), so
	// that many clients dropped at once do not come back at once.
	Jitter float64

	attempt int
}

// Next returns the wait before the next attempt and counts it.
func (b *Backoff) Next() time.Duration {
	d := b.Min
	if b.Linear {
		d = b.Min * time.Duration(b.attempt+1)
	} else {
		for i := 0; i < b.attempt && d < b.Max; i++ {
			d *= 2
		}
	}
	d = min(d, b.Max)
	b.attempt++
	if b.Jitter > 0 {
		d += time.Duration((rand.Float64()*2 - 1) * b.Jitter * float64(d))
	}
	return d
}

// Reset starts again from Min, after a connection that worked.
func (b *Backoff) Reset() { b.attempt = 0 }

// After returns the wait after d, from Min again after a healthy
// connection.
func (b *Backoff) After(d Drop) time.Duration {
	if d.Healthy {
		b.Reset()
	}
	return b.Next()
}

// HTTPBackoff gives the waits between the attempts to reach a service that,
// like Twitter and X, asks for other waits after an HTTP error than after a
// network error. *Twitter is the policy those two publish; tests pass
// shorter waits.
type HTTPBackoff interface {
	// Network is the wait after a network error or a stall.
	Network() time.Duration
	// HTTP is the wait after an HTTP error status.
	HTTP(status int) time.Duration
	// Reset is called once a connection delivered data.
	Reset()
}

var _ HTTPBackoff = (*Twitter)(nil)

// AfterHTTP returns b's wait after d.
func AfterHTTP(b HTTPBackoff, d Drop) time.Duration {
	if d.Status != 0 {
		return b.HTTP(d.Status)
	}
	return b.Network()
}

// Twitter follows the reconnection rules Twitter published for its
// streaming APIs, which X's v2 filtered stream keeps: back off linearly
// from 250 ms to 16 s after network errors, exponentially from 5 s to
// 320 s after HTTP errors, and exponentially from one minute after being
// rate limited (420 or 429).
type Twitter struct {
	network, http, limited Backoff
}

// NewTwitter returns the policy with no attempt made.
func NewTwitter() *Twitter {
	return &Twitter{
		network: Backoff{Min: 250 * time.Millisecond, Max: 16 * time.Second, Linear: true},
		http:    Backoff{Min: 5 * time.Second, Max: 320 * time.Second},
		limited: Backoff{Min: time.Minute, Max: 16 * time.Minute},
	}
}

// Network returns the wait after a network error or a stall.
func (t *Twitter) Network() time.Duration { return t.network.Next() }

// HTTP returns the wait after an HTTP error status; 420 and 429 mean the
// client is rate limited and wait longest.
func (t *Twitter) HTTP(status int) time.Duration {
	if status == 420 || status == 429 {
		return t.limited.Next()
	}
	return t.http.Next()
}

// Reset is called once a connection delivered data.
func (t *Twitter) Reset() {
	t.network.Reset()
	t.http.Reset()
	t.limited.Reset()
}

// Sleep waits d or until ctx is done, and reports whether it waited all d.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Watchdog calls stall once no Kick came for the idle time: a stream
// whose server went silent, without even keep-alives, counts as dropped.
// Typically stall cancels the request's context, so the blocked read
// returns.
type Watchdog struct {
	mu      sync.Mutex
	timer   *time.Timer
	idle    time.Duration
	stalled bool
}

// NewWatchdog starts a watchdog; Stop it when the connection ends.
func NewWatchdog(idle time.Duration, stall func()) *Watchdog {
	w := &Watchdog{idle: idle}
	w.timer = time.AfterFunc(idle, func() {
		w.mu.Lock()
		w.stalled = true
		w.mu.Unlock()
		stall()
	})
	return w
}

// Kick says data (or a keep-alive) arrived.
func (w *Watchdog) Kick() { w.timer.Reset(w.idle) }

// Stop ends the watchdog.
func (w *Watchdog) Stop() { w.timer.Stop() }

// Stalled reports whether the watchdog fired.
func (w *Watchdog) Stalled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stalled
}

// Reader kicks w on every read that returned data.
func (w *Watchdog) Reader(r io.Reader) io.Reader { return kickReader{r, w} }

type kickReader struct {
	r io.Reader
	w *Watchdog
}

func (k kickReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if n > 0 {
		k.w.Kick()
	}
	return n, err
}
