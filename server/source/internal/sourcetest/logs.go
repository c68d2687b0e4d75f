package sourcetest

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/internal/syncbuf"
)

// Logs is a log destination that a source writes from its goroutines while
// the test reads it. Its zero value is ready to use.
type Logs struct{ syncbuf.Buffer }

// Logger returns a logger that writes JSON records of every level to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Records returns the records logged at level or above.
func (l *Logs) Records(t testing.TB, level slog.Level) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(rec["level"].(string))); err != nil {
			t.Fatal(err)
		}
		if lv >= level {
			out = append(out, rec)
		}
	}
	return out
}
