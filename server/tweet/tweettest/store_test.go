package tweettest_test

import (
	"context"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
)

// The fake keeps the contract that the real store keeps: the same suite
// runs against both (package store runs it on FerretDB).
func TestStore(t *testing.T) {
	tweettest.TestStore(t, func(t *testing.T) tweet.Store {
		s := tweettest.NewStore()
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	})
}

// A closed fake answers as a store whose database is down, which is how
// the API's tests get their 503s.
func TestClosedStoreIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s := tweettest.NewStore()
	if _, err := s.StartEvent(ctx, "conf", nil, tweettest.T0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	calls := map[string]error{
		"Save":       s.Save(ctx, "conf", tweet.Tweet{ID: "demo:1"}),
		"Delete":     s.Delete(ctx, "demo:1"),
		"Recent":     second(s.Recent(ctx, "conf", 10, "")),
		"Count":      second(s.Count(ctx, "conf")),
		"StartEvent": second(s.StartEvent(ctx, "conf", nil, tweettest.T0)),
		"EndEvent":   second(s.EndEvent(ctx, "conf", tweettest.T0)),
		"Event":      second(s.Event(ctx, "")),
		"Events":     second(s.Events(ctx)),
		"Stats":      second(s.Stats(ctx, "")),
	}
	for name, err := range calls {
		if tweet.ErrorCode(err) != tweet.EUNAVAILABLE {
			t.Errorf("%s after Close: %v, want EUNAVAILABLE", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// What a caller does with what it got back changes nothing stored.
func TestResultsAreCopies(t *testing.T) {
	ctx := context.Background()
	s := tweettest.NewStore()
	ev, err := s.StartEvent(ctx, "conf", []string{"go"}, tweettest.T0)
	if err != nil {
		t.Fatal(err)
	}
	ev.Terms[0] = "changed"
	if err := s.Save(ctx, "conf", tweet.Tweet{ID: "demo:1", CreatedAt: tweettest.T0, Hashtags: []string{"go"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Recent(ctx, "conf", 1, "")
	got[0].Hashtags[0] = "changed"
	st, _ := s.Stats(ctx, "conf")
	st.First.Hashtags[0] = "changed"
	again, _ := s.Recent(ctx, "conf", 1, "")
	if again[0].Hashtags[0] != "go" {
		t.Errorf("stored hashtags became %v", again[0].Hashtags)
	}
	if ev, _ := s.Event(ctx, "conf"); ev.Terms[0] != "go" {
		t.Errorf("stored terms became %v", ev.Terms)
	}
}

// A post with a wild date does not make the timeline millions of minutes
// long: as in the real store, it keeps its last 31 days and the peak.
func TestTimelineIsBounded(t *testing.T) {
	ctx := context.Background()
	s := tweettest.NewStore()
	if _, err := s.StartEvent(ctx, "conf", nil, tweettest.T0); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{time.Unix(0, 0), time.Unix(0, 0), tweettest.T0} {
		if err := s.Save(ctx, "conf", tweet.Tweet{ID: string(rune('a' + i)), CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Stats(ctx, "conf")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(st.Timeline); n != 31*24*60 {
		t.Errorf("timeline of %d minutes, want 31 days", n)
	}
	if last := st.Timeline[len(st.Timeline)-1]; !last.Minute.Equal(tweettest.T0) {
		t.Errorf("timeline ends at %v, want %v", last.Minute, tweettest.T0)
	}
	if !st.Peak.Minute.Equal(time.Unix(0, 0).UTC()) || st.Peak.Count != 2 {
		t.Errorf("peak %+v, want the two posts of 1970", st.Peak)
	}
}
