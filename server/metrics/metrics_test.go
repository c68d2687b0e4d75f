package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	dropped := uint64(2)
	m := New()
	// Counted before the readings are watched, as while a spool drains at
	// start-up.
	m.Stored()
	m.Watch(Sources{
		Clients:     func() map[string]int { return map[string]int{"websocket": 3, "polling": 1} },
		Dropped:     func() uint64 { return dropped },
		SpoolDepth:  func() int { return 7 },
		Lost:        func() uint64 { return 9 },
		Reconnects:  func() uint64 { return 4 },
		LeaseHolder: func() bool { return true },
		Pending:     func() int { return 6 },
		// A counter update failed after its post was stored.
		CounterFailures: func() uint64 { return 1 },
	})
	m.Ingested("bluesky")
	m.Ingested("bluesky")
	m.Stored()
	m.FanOut(time.Now().Add(-20 * time.Millisecond))
	m.FanOut(time.Time{}) // unknown: not observed
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`tweetwire_clients{transport="websocket"} 3`,
		`tweetwire_clients{transport="polling"} 1`,
		`tweetwire_clients_dropped_total 2`,
		`tweetwire_spool_depth 7`,
		`tweetwire_posts_lost_total 9`,
		`tweetwire_source_reconnects_total 4`,
		`tweetwire_lease_holder 1`,
		`tweetwire_sessions_pending 6`,
		`tweetwire_stats_counter_failures_total 1`,
		`tweetwire_posts_ingested_total{source="bluesky"} 2`,
		`tweetwire_posts_stored_total 2`,
		`tweetwire_fanout_latency_seconds_count 1`,
		`tweetwire_fanout_latency_seconds_bucket{le="0.025"} 1`,
		`tweetwire_fanout_latency_seconds_bucket{le="0.01"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
