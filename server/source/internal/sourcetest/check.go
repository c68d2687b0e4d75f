package sourcetest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Fixture returns the file testdata/name.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FixtureLines returns the lines of testdata/name, as a stream sends
// them.
func FixtureLines(t testing.TB, name string) [][]byte {
	t.Helper()
	return bytes.Split(bytes.TrimRight(Fixture(t, name), "\n"), []byte("\n"))
}

// CheckEvent fails the test at once unless ev, which a decoder of source
// accepted, holds the invariants the rest of Tweetwire relies on: it is a
// delete, or a post whose Tweet has the event's id, source, an author, a
// time in UTC, and hashtags that are normalised and not nil.
func CheckEvent(t testing.TB, ev tweet.Update, source string) {
	t.Helper()
	switch ev.Kind {
	case tweet.KindDelete:
	case tweet.KindPost:
		tw := ev.Tweet
		if tw.ID != ev.ID || tw.Source != source || tw.User == "" {
			t.Fatalf("post has ID %q (event %q), Source %q, User %q", tw.ID, ev.ID, tw.Source, tw.User)
		}
		if tw.CreatedAt.Location() != time.UTC {
			t.Fatalf("CreatedAt %v not in UTC", tw.CreatedAt)
		}
		if tw.Hashtags == nil {
			t.Fatal("Hashtags is nil")
		}
		for _, h := range tw.Hashtags {
			if h == "" || tweet.NormalizeHashtag(h) != h {
				t.Fatalf("hashtag %q is not normalised", h)
			}
		}
	default:
		t.Fatalf("unknown kind %v", ev.Kind)
	}
}
