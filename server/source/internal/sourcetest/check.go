package sourcetest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

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
// time in UTC, hashtags that are normalised and not nil, and links that
// ingest keeps as they are.
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
		// A source places its links where they are: none is left for
		// ingest to drop as outside the text, overlapping or unsafe.
		clean := tw
		tweet.CleanRich(&clean)
		if len(clean.Entities) != len(tw.Entities) {
			t.Fatalf("entities %+v of text %q: ingest would keep only %+v", tw.Entities, tw.Text, clean.Entities)
		}
	default:
		t.Fatalf("unknown kind %v", ev.Kind)
	}
}

// CheckFieldError fails the test unless err is about the Config field
// named field (a *tweet.FieldError, or several of them), with code, a
// message containing each of want, and no flag or environment variable
// name in it: those are the program's to add.
func CheckFieldError(t testing.TB, err error, field, code string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one about %s", field)
	}
	fe := findField(err, field)
	if fe == nil {
		t.Fatalf("err = %v, want a *tweet.FieldError about %s", err, field)
	}
	if got := tweet.ErrorCode(err); got != code {
		t.Errorf("code = %s, want %s (err %v)", got, code, err)
	}
	msg := fe.Err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s error %q lacks %q", field, msg, w)
		}
	}
	if flagLike.MatchString(msg) || envLike.MatchString(msg) {
		t.Errorf("%s error %q names a flag or an environment variable", field, msg)
	}
}

var (
	flagLike = regexp.MustCompile(`--[a-z]`)
	envLike  = regexp.MustCompile(`\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b`)
)

// findField returns the *tweet.FieldError about field in err's tree.
func findField(err error, field string) *tweet.FieldError {
	if fe, ok := err.(*tweet.FieldError); ok && fe.Field == field {
		return fe
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			return findField(next, field)
		}
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if fe := findField(e, field); fe != nil {
				return fe
			}
		}
	}
	return nil
}

// Links describes each entity of a post as "kind text -> href", plus
// " [display]" when it has one, with the text cut out of the post's text
// by the entity's UTF-16 offsets as a browser cuts it: a test that
// compares these lines checks the offsets, not only that some were set.
func Links(t testing.TB, tw tweet.Tweet) []string {
	t.Helper()
	units := utf16.Encode([]rune(tw.Text))
	var out []string
	for _, e := range tw.Entities {
		if e.Start < 0 || e.End > len(units) || e.Start >= e.End {
			t.Fatalf("entity %+v is outside the text (%d UTF-16 units)", e, len(units))
		}
		s := e.Kind + " " + string(utf16.Decode(units[e.Start:e.End])) + " -> " + e.Href
		if e.Display != "" {
			s += " [" + e.Display + "]"
		}
		out = append(out, s)
	}
	return out
}
