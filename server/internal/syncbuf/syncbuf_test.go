package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

// Writers and a reader at once: every write arrives whole (run with -race).
func TestConcurrentWritesArriveWhole(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("Grüße 🎉 مرحبا\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "Grüße 🎉 مرحبا\n"); n != 800 {
		t.Fatalf("%d whole lines, want 800", n)
	}
}
