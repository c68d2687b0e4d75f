package sourcetest

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
)

// Backoff is a reconnect.HTTPBackoff that records the waits asked for and
// makes each 1 ms.
type Backoff struct {
	mu    sync.Mutex
	calls []string
}

var _ reconnect.HTTPBackoff = (*Backoff)(nil)

func (b *Backoff) record(c string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, c)
}

func (b *Backoff) Network() time.Duration { b.record("network"); return time.Millisecond }

func (b *Backoff) HTTP(status int) time.Duration {
	b.record(fmt.Sprint("http ", status))
	return time.Millisecond
}

func (b *Backoff) Reset() { b.record("reset") }

// Waits lists the waits asked for, without the resets.
func (b *Backoff) Waits() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, c := range b.calls {
		if c != "reset" {
			out = append(out, c)
		}
	}
	return strings.Join(out, ",")
}

// String lists every call, resets too.
func (b *Backoff) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.calls, ",")
}

// SlowBackoff waits as long as Twitter's rules first would after a
// network or an HTTP error, every time.
type SlowBackoff struct{}

func (SlowBackoff) Network() time.Duration { return 250 * time.Millisecond }
func (SlowBackoff) HTTP(int) time.Duration { return 5 * time.Second }
func (SlowBackoff) Reset()                 {}
