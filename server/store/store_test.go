package store_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/store/embedded"
	"github.com/tweetwire/tweetwire/server/tweet"
)

var t0 = time.Date(2024, 5, 17, 9, 0, 0, 0, time.UTC)

func post(id string, at time.Time) tweet.Tweet {
	return tweet.Tweet{
		ID: id, Source: "demo", User: "gopher", Name: "Gopher", Text: "hello " + id,
		CreatedAt: at, Hashtags: []string{"go"}, Lang: "en", URL: "https://example.org/" + id,
	}
}

func TestSave(t *testing.T) {
	tests := []struct {
		name  string
		saves []tweet.Tweet
		// concurrent saves every post this many times at once.
		concurrent int
		want       []string // ids stored, newest first
	}{
		{name: "one post", saves: []tweet.Tweet{post("demo:1", t0)}, want: []string{"demo:1"}},
		{
			name:  "same id twice is stored once",
			saves: []tweet.Tweet{post("demo:1", t0), post("demo:1", t0)},
			want:  []string{"demo:1"},
		},
		{
			name: "a second save changes nothing",
			saves: []tweet.Tweet{post("demo:1", t0), func() tweet.Tweet {
				p := post("demo:1", t0)
				p.Text = "edited"
				return p
			}()},
			want: []string{"demo:1"},
		},
		{
			name:       "concurrent saves of the same id",
			saves:      []tweet.Tweet{post("demo:1", t0), post("demo:2", t0.Add(time.Second))},
			concurrent: 16,
			want:       []string{"demo:2", "demo:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := openDB(t)
			if tt.concurrent > 0 {
				var wg sync.WaitGroup
				errs := make(chan error, tt.concurrent*len(tt.saves))
				for range tt.concurrent {
					for _, p := range tt.saves {
						wg.Go(func() { errs <- db.Save(ctx, "ev", p) })
					}
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatalf("concurrent Save: %v", err)
					}
				}
			} else {
				for _, p := range tt.saves {
					if err := db.Save(ctx, "ev", p); err != nil {
						t.Fatalf("Save(%s): %v", p.ID, err)
					}
				}
			}
			got, err := db.Recent(ctx, "", 100, "")
			if err != nil {
				t.Fatal(err)
			}
			if ids := idsOf(got); !slices.Equal(ids, tt.want) {
				t.Fatalf("stored %v, want %v", ids, tt.want)
			}
			if n, _ := db.Count(ctx, ""); n != int64(len(tt.want)) {
				t.Fatalf("Count = %d, want %d", n, len(tt.want))
			}
			// The first save wins: its text is what is stored.
			if got[len(got)-1].Text != tt.saves[0].Text {
				t.Errorf("stored text %q, want the first save's %q", got[len(got)-1].Text, tt.saves[0].Text)
			}
		})
	}
}

func TestSaveRoundTrip(t *testing.T) {
	ctx := ctxT(t)
	db := openDB(t)
	in := tweet.Tweet{
		ID: "twitter:42", Source: "twitter", User: "Ada", Name: "Ada L.", Picture: "https://example.org/a.png",
		Text: "<b>not html</b> 🎉", CreatedAt: t0.Add(1234567 * time.Microsecond), Hashtags: []string{"go", "gophercon"},
		Lang: "fr", URL: "https://x.example/42", Retweet: true,
	}
	if err := db.Save(ctx, "ev", in); err != nil {
		t.Fatal(err)
	}
	got, err := db.Recent(ctx, "ev", 1, "")
	if err != nil || len(got) != 1 {
		t.Fatalf("Recent: %v %v", got, err)
	}
	want := in
	want.CreatedAt = in.CreatedAt.Truncate(time.Millisecond) // BSON dates hold milliseconds
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got[0], want)
	}
}

func TestSaveInvalid(t *testing.T) {
	db := openDB(t)
	err := db.Save(ctxT(t), "ev", tweet.Tweet{Text: "no id"})
	if tweet.ErrorCode(err) != tweet.EINVALID {
		t.Fatalf("Save without id: %v, want an EINVALID error", err)
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name    string
		saved   []string
		deleted []string
		want    []string
	}{
		{name: "removes the post", saved: []string{"a", "b"}, deleted: []string{"a"}, want: []string{"b"}},
		{name: "missing id is not an error", saved: []string{"a"}, deleted: []string{"zzz"}, want: []string{"a"}},
		{name: "twice is not an error", saved: []string{"a", "b"}, deleted: []string{"b", "b"}, want: []string{"a"}},
		{name: "everything", saved: []string{"a", "b"}, deleted: []string{"a", "b"}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := openDB(t)
			for i, id := range tt.saved {
				if err := db.Save(ctx, "ev", post(id, t0.Add(time.Duration(-i)*time.Second))); err != nil {
					t.Fatal(err)
				}
			}
			for _, id := range tt.deleted {
				if err := db.Delete(ctx, id); err != nil {
					t.Fatalf("Delete(%s): %v", id, err)
				}
			}
			got, err := db.Recent(ctx, "", 100, "")
			if err != nil {
				t.Fatal(err)
			}
			if ids := idsOf(got); !slices.Equal(ids, tt.want) {
				t.Fatalf("after deletes: %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestRecentPaging(t *testing.T) {
	ctx := ctxT(t)
	db := openDB(t)
	// 23 posts in two events; several share a millisecond so that the
	// id decides their order.
	var all []tweet.Tweet
	for i := range 23 {
		p := post(fmt.Sprintf("demo:%02d", i), t0.Add(time.Duration(i/3)*time.Minute))
		ev := "main"
		if i%5 == 4 {
			ev = "other"
		}
		if err := db.Save(ctx, ev, p); err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
		if ev == "main" {
			all[len(all)-1].Name = "main"
		}
	}
	newest := func(event string) []string {
		var ps []tweet.Tweet
		for _, p := range all {
			if event == "" || p.Name == "main" {
				ps = append(ps, p)
			}
		}
		slices.SortFunc(ps, func(a, b tweet.Tweet) int {
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
		})
		return idsOf(ps)
	}

	tests := []struct {
		name  string
		event string
		limit int
	}{
		{name: "all events by 10", event: "", limit: 10},
		{name: "all events by 1", event: "", limit: 1},
		{name: "one event by 4", event: "main", limit: 4},
		{name: "one page", event: "main", limit: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			before := ""
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatal("paging does not end")
				}
				page, err := db.Recent(ctx, tt.event, tt.limit, before)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > tt.limit {
					t.Fatalf("page of %d posts, limit %d", len(page), tt.limit)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, idsOf(page)...)
				before = page[len(page)-1].ID
			}
			if want := newest(tt.event); !slices.Equal(got, want) {
				t.Fatalf("paged through\n %v\nwant\n %v", got, want)
			}
		})
	}

	t.Run("unknown before is invalid", func(t *testing.T) {
		_, err := db.Recent(ctx, "", 10, "demo:nope")
		if tweet.ErrorCode(err) != tweet.EINVALID {
			t.Fatalf("got %v, want EINVALID", err)
		}
	})
	t.Run("zero limit is invalid", func(t *testing.T) {
		_, err := db.Recent(ctx, "", 0, "")
		if tweet.ErrorCode(err) != tweet.EINVALID {
			t.Fatalf("got %v, want EINVALID", err)
		}
	})
}

func TestEvents(t *testing.T) {
	ctx := ctxT(t)
	db := openDB(t)

	if _, err := db.Event(ctx, ""); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Fatalf("Event(\"\") with no events: %v, want ENOTFOUND", err)
	}
	a, err := db.StartEvent(ctx, "gophercon", []string{"#gophercon"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Running() || !a.Start.Equal(t0) || !slices.Equal(a.Terms, []string{"#gophercon"}) {
		t.Fatalf("started %+v", a)
	}
	ended, err := db.EndEvent(ctx, "gophercon", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if ended.Running() || !ended.End.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ended %+v", ended)
	}
	again, err := db.EndEvent(ctx, "gophercon", t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !again.End.Equal(t0.Add(time.Hour)) {
		t.Errorf("a second end moved the end to %v; the first end must stay", again.End)
	}
	resumed, err := db.StartEvent(ctx, "gophercon", []string{"#gophercon", "golang"}, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.Running() || !resumed.Start.Equal(t0) || len(resumed.Terms) != 2 {
		t.Errorf("resumed %+v; want the first start, new terms, no end", resumed)
	}
	if _, err := db.StartEvent(ctx, "later", nil, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	latest, err := db.Event(ctx, "")
	if err != nil || latest.Name != "later" {
		t.Errorf("Event(\"\") = %+v, %v; want the latest, \"later\"", latest, err)
	}
	all, err := db.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := []string{all[0].Name, all[1].Name}; len(all) != 2 || names[0] != "later" {
		t.Errorf("Events = %+v", all)
	}
	if _, err := db.Event(ctx, "nope"); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("Event(nope): %v, want ENOTFOUND", err)
	}
	if _, err := db.EndEvent(ctx, "nope", t0); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("EndEvent(nope): %v, want ENOTFOUND", err)
	}
	if _, err := db.StartEvent(ctx, "", nil, t0); tweet.ErrorCode(err) != tweet.EINVALID {
		t.Errorf("StartEvent without name: %v, want EINVALID", err)
	}
}

// fixture returns n pseudo-random posts (fixed seed) spread over about
// 40 minutes with quiet gaps, mixed-case handles, missing languages and
// repeated hashtags.
func fixture(n int, seed uint64) []tweet.Tweet {
	r := rand.New(rand.NewPCG(seed, seed))
	sources := []string{"twitter", "mastodon", "bluesky"}
	users := []string{"Ada", "ada", "bob", "Carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar"}
	langs := []string{"en", "en", "fr", "de", ""}
	tags := []string{"Go", "gophercon", "golang", "tinygo", "wasm", "generics", "iter", "slog", "pgo", "rangefunc", "fuzz", "race"}
	var out []tweet.Tweet
	for i := range n {
		minute := r.IntN(40)
		if minute >= 10 && minute < 14 {
			minute += 10 // a quiet stretch: the timeline must show zeros
		}
		at := t0.Add(time.Duration(minute)*time.Minute + time.Duration(r.IntN(60000))*time.Millisecond)
		var ht []string
		for range r.IntN(4) {
			ht = append(ht, tags[r.IntN(len(tags))])
		}
		out = append(out, tweet.Tweet{
			ID:        fmt.Sprintf("%s:%d", sources[i%3], i),
			Source:    sources[i%3],
			User:      users[r.IntN(len(users))],
			Text:      "post",
			CreatedAt: at,
			Hashtags:  tweet.NormalizeHashtags(ht),
			Lang:      langs[r.IntN(len(langs))],
			Retweet:   r.IntN(4) == 0,
		})
	}
	return out
}

// expectStats computes what Stats must answer with plain loops over the
// posts, independently of the store's queries.
func expectStats(ev tweet.EventInfo, posts []tweet.Tweet) tweet.Stats {
	s := tweet.Stats{Event: ev}
	bySource := map[string]int64{}
	byLang := map[string]int64{}
	byAuthor := map[string]int64{}
	byTag := map[string]int64{}
	byMinute := map[int64]int64{}
	for _, p := range posts {
		s.Total++
		if p.Retweet {
			s.Retweets++
		}
		bySource[p.Source]++
		lang := p.Lang
		if lang == "" {
			lang = "und"
		}
		byLang[lang]++
		byAuthor[p.Source+":"+strings.ToLower(p.User)]++
		for _, h := range p.Hashtags {
			byTag[h]++
		}
		byMinute[p.CreatedAt.Truncate(time.Minute).Unix()/60]++
		if s.First == nil || p.CreatedAt.Before(s.First.CreatedAt) {
			q := p
			s.First = &q
		}
		if s.Last == nil || p.CreatedAt.After(s.Last.CreatedAt) {
			q := p
			s.Last = &q
		}
	}
	if s.Total > 0 {
		s.RetweetShare = float64(s.Retweets) / float64(s.Total)
	}
	s.Authors = int64(len(byAuthor))
	ranked := func(m map[string]int64, n int) []tweet.Count {
		out := []tweet.Count{}
		for k, v := range m {
			out = append(out, tweet.Count{Key: k, Count: v})
		}
		// Bubble sort: deliberately not the store's code.
		for i := range out {
			for j := len(out) - 1; j > i; j-- {
				a, b := out[j-1], out[j]
				if b.Count > a.Count || (b.Count == a.Count && b.Key < a.Key) {
					out[j-1], out[j] = b, a
				}
			}
		}
		if n > 0 && len(out) > n {
			out = out[:n]
		}
		return out
	}
	s.Sources = ranked(bySource, 0)
	s.Langs = ranked(byLang, 0)
	s.TopHashtags = ranked(byTag, 10)
	s.TopAuthors = []tweet.AuthorCount{}
	for _, c := range ranked(byAuthor, 10) {
		i := strings.Index(c.Key, ":")
		s.TopAuthors = append(s.TopAuthors, tweet.AuthorCount{Source: c.Key[:i], User: c.Key[i+1:], Count: c.Count})
	}
	s.Timeline = []tweet.MinuteCount{}
	if len(byMinute) > 0 {
		lo, hi := int64(1<<62), int64(-1<<62)
		for m := range byMinute {
			lo, hi = min(lo, m), max(hi, m)
		}
		for m := lo; m <= hi; m++ {
			mc := tweet.MinuteCount{Minute: time.Unix(m*60, 0).UTC(), Count: byMinute[m]}
			s.Timeline = append(s.Timeline, mc)
			if mc.Count > s.Peak.Count {
				s.Peak = mc
			}
		}
	}
	return s
}

func TestStats(t *testing.T) {
	posts := fixture(400, 7)
	tests := []struct {
		name    string
		posts   []tweet.Tweet
		deleted int // this many of the posts are deleted after saving
	}{
		{name: "no posts", posts: nil},
		{name: "one post", posts: posts[:1]},
		{name: "four hundred posts", posts: posts},
		{name: "deleted posts do not count", posts: posts[:120], deleted: 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := openDB(t)
			ev, err := db.StartEvent(ctx, "conf", []string{"go"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.posts {
				if err := db.Save(ctx, "conf", p); err != nil {
					t.Fatal(err)
				}
			}
			// Another event's posts must not count.
			for _, p := range fixture(50, 99) {
				p.ID = "other-" + p.ID
				if err := db.Save(ctx, "other", p); err != nil {
					t.Fatal(err)
				}
			}
			kept := tt.posts
			if tt.deleted > 0 {
				for _, p := range tt.posts[:tt.deleted] {
					if err := db.Delete(ctx, p.ID); err != nil {
						t.Fatal(err)
					}
				}
				kept = tt.posts[tt.deleted:]
			}
			want := expectStats(ev, msTruncated(kept))
			got, err := db.Stats(ctx, "conf")
			if err != nil {
				t.Fatal(err)
			}
			compareStats(t, got, want)

			// "" means the latest event, which is this one.
			latest, err := db.Stats(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if latest.Event.Name != "conf" || latest.Total != want.Total {
				t.Errorf("Stats(\"\") = event %q with %d posts, want conf with %d", latest.Event.Name, latest.Total, want.Total)
			}
		})
	}
	t.Run("unknown event", func(t *testing.T) {
		db := openDB(t)
		if _, err := db.Stats(ctxT(t), "nope"); tweet.ErrorCode(err) != tweet.ENOTFOUND {
			t.Fatalf("got %v, want ENOTFOUND", err)
		}
	})
}

func msTruncated(posts []tweet.Tweet) []tweet.Tweet {
	out := make([]tweet.Tweet, len(posts))
	for i, p := range posts {
		p.CreatedAt = p.CreatedAt.Truncate(time.Millisecond)
		if p.Hashtags == nil {
			p.Hashtags = []string{}
		}
		out[i] = p
	}
	return out
}

func compareStats(t *testing.T, got, want tweet.Stats) {
	t.Helper()
	check := func(field string, g, w any) {
		t.Helper()
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", field, g, w)
		}
	}
	check("Event", got.Event, want.Event)
	check("Total", got.Total, want.Total)
	check("Authors", got.Authors, want.Authors)
	check("Retweets", got.Retweets, want.Retweets)
	check("RetweetShare", got.RetweetShare, want.RetweetShare)
	check("Sources", got.Sources, nonNil(want.Sources))
	check("Langs", got.Langs, nonNil(want.Langs))
	check("TopAuthors", got.TopAuthors, want.TopAuthors)
	check("TopHashtags", got.TopHashtags, nonNil(want.TopHashtags))
	check("Timeline", got.Timeline, want.Timeline)
	check("Peak", got.Peak, want.Peak)
	if (got.First == nil) != (want.First == nil) || (got.First != nil && (got.First.ID != want.First.ID || !got.First.CreatedAt.Equal(want.First.CreatedAt))) {
		t.Errorf("First = %+v, want %+v", got.First, want.First)
	}
	if (got.Last == nil) != (want.Last == nil) || (got.Last != nil && (got.Last.ID != want.Last.ID || !got.Last.CreatedAt.Equal(want.Last.CreatedAt))) {
		t.Errorf("Last = %+v, want %+v", got.Last, want.Last)
	}
}

func nonNil(c []tweet.Count) []tweet.Count {
	if c == nil {
		return []tweet.Count{}
	}
	return c
}

func TestTimeline(t *testing.T) {
	m := func(min int64) time.Time { return time.Unix(min*60, 0).UTC() }
	tests := []struct {
		name      string
		in        map[int64]int64
		wantLen   int
		wantFirst time.Time
		wantPeak  tweet.MinuteCount
	}{
		{name: "empty", in: nil, wantLen: 0},
		{name: "one minute", in: map[int64]int64{100: 3}, wantLen: 1, wantFirst: m(100), wantPeak: tweet.MinuteCount{Minute: m(100), Count: 3}},
		{name: "gap is zero-filled", in: map[int64]int64{100: 1, 104: 1}, wantLen: 5, wantFirst: m(100), wantPeak: tweet.MinuteCount{Minute: m(100), Count: 1}},
		{name: "earliest of equal peaks", in: map[int64]int64{100: 1, 101: 5, 103: 5}, wantLen: 4, wantFirst: m(100), wantPeak: tweet.MinuteCount{Minute: m(101), Count: 5}},
		{
			name:      "a wild date is cut off, the peak is kept",
			in:        map[int64]int64{0: 9, 28_000_000: 1},
			wantLen:   store.MaxTimeline,
			wantFirst: m(28_000_000 - store.MaxTimeline + 1),
			wantPeak:  tweet.MinuteCount{Minute: m(0), Count: 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, peak := store.Timeline(tt.in)
			if tl == nil || len(tl) != tt.wantLen {
				t.Fatalf("timeline of %d minutes, want %d", len(tl), tt.wantLen)
			}
			if tt.wantLen > 0 && !tl[0].Minute.Equal(tt.wantFirst) {
				t.Errorf("first minute %v, want %v", tl[0].Minute, tt.wantFirst)
			}
			if peak != tt.wantPeak {
				t.Errorf("peak %+v, want %+v", peak, tt.wantPeak)
			}
		})
	}
}

func TestRestartKeepsPostsAndStats(t *testing.T) {
	dir := t.TempDir()
	srv, err := embedded.Start(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	db := openAt(t, srv.URI(), "tweetwire")
	if _, err := db.StartEvent(ctx, "conf", []string{"go"}, t0); err != nil {
		t.Fatal(err)
	}
	posts := fixture(60, 3)
	for _, p := range posts {
		if err := db.Save(ctx, "conf", p); err != nil {
			t.Fatal(err)
		}
	}
	before, err := db.Stats(ctx, "conf")
	if err != nil {
		t.Fatal(err)
	}
	recent, err := db.Recent(ctx, "conf", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	srv, err = embedded.Start(embedded.Config{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("restart on the same directory: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() }) // after the db's cleanup: LIFO
	db = openAt(t, srv.URI(), "tweetwire")
	after, err := db.Stats(ctx, "conf")
	if err != nil {
		t.Fatal(err)
	}
	compareStats(t, after, before)
	recentAfter, err := db.Recent(ctx, "conf", 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recentAfter, recent) {
		t.Errorf("recent posts changed across the restart")
	}
	want := expectStats(before.Event, msTruncated(posts))
	compareStats(t, after, want)
}

func idsOf(ps []tweet.Tweet) []string {
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}
