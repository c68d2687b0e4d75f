package twitterv1_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
	"github.com/tweetwire/tweetwire/server/source/internal/twitterv1"
)

// FuzzDecode feeds Decode arbitrary lines: it must never panic (anaconda's
// own decoder can), and whatever it accepts must satisfy the tweet.Tweet
// invariants the rest of Tweetwire relies on.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Add([]byte(minimal + `}`))
	f.Add([]byte(`{"delete":{"status":{"id":1121338611069894657}}}`))
	f.Add([]byte(`{"id_str":"1","full_text":"hi","display_text_range":[0,50],"user":{"screen_name":"a"},"created_at":"Thu Apr 25 09:00:00 +0000 2019"}`))

	f.Fuzz(func(t *testing.T, line []byte) {
		ev, ok, err := twitterv1.Decode(line)
		if err != nil {
			if ok {
				t.Fatalf("ok with error %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if !ok {
			if ev.Kind != 0 || ev.ID != "" {
				t.Fatalf("not ok but event %+v", ev)
			}
			return
		}
		if !strings.HasPrefix(ev.ID, "twitter:") || len(ev.ID) == len("twitter:") {
			t.Fatalf("ID %q lacks the twitter: prefix or a native id", ev.ID)
		}
		sourcetest.CheckEvent(t, ev, "twitter")
	})
}
