package e2e

import (
	"testing"
	"time"
)

// A looping replay restarted on the same data directory goes on playing
// posts new to the store, instead of repeating its first pass, which the
// store holds and the wall would drop as duplicates.
func TestLoopingReplayKeepsPlayingAfterARestart(t *testing.T) {
	t.Parallel()
	file, _ := writeReplay(t, 0, 5)
	dataDir := t.TempDir()
	args := []string{"--source", "replay", "--replay-file", file, "--replay-loop", "--replay-rate", "20", "--data-dir", dataDir}
	first := startServer(t, args...)
	first.waitHealth(t, "two passes played", func(h map[string]any) bool {
		s, _ := h["source"].(map[string]any)
		n, _ := s["posts"].(float64)
		return n >= 12
	})
	first.Stop()
	second := startServer(t, args...)
	c := startClients(t, second.URL, "--transports", "websocket")
	c.waitUntil("new posts after the restart", 30*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "tweet") >= 5 })
	h := second.health(t)
	// A clean stop saved where the replay stood: nothing is repeated.
	if s := h["source"].(map[string]any); s["duplicates"].(float64) != 0 {
		t.Errorf("the restarted replay repeated stored posts: /healthz source %v", s)
	}
}
