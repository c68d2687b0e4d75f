package x_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/x"
	"github.com/tweetwire/tweetwire/server/source/x/xtest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// FuzzDecode feeds Decode arbitrary lines: it must never panic, and
// whatever it accepts must satisfy the tweet.Tweet invariants the rest of
// Tweetwire relies on.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		for _, line := range sourcetest.FixtureLines(f, filepath.Base(file)) {
			f.Add(line)
		}
	}
	f.Add([]byte(xtest.Post{ID: "1", Text: "hi", Username: "a", Retweets: &xtest.Post{ID: "2", Username: "b", Note: "long", Hashtags: []string{"Go"}}}.Line()))
	f.Add([]byte(xtest.OperationalDisconnect))
	f.Add([]byte(xtest.TooManyConnections))

	f.Fuzz(func(t *testing.T, line []byte) {
		msg, err := x.Decode(line)
		if err != nil {
			if msg.Event.Kind != 0 || err.Error() == "" {
				t.Fatalf("error %q with event %+v", err, msg.Event)
			}
			return
		}
		ev := msg.Event
		if ev.Kind == 0 {
			if ev.ID != "" || msg.RuleIDs != nil {
				t.Fatalf("no event but %+v", msg)
			}
			return
		}
		if !strings.HasPrefix(ev.ID, "x:") || len(ev.ID) == len("x:") {
			t.Fatalf("ID %q lacks the x: prefix or a native id", ev.ID)
		}
		sourcetest.CheckEvent(t, ev, "x")
		if ev.Kind == tweet.KindPost && !strings.HasPrefix(ev.Tweet.URL, "https://x.com/") {
			t.Fatalf("post URL %q", ev.Tweet.URL)
		}
	})
}
