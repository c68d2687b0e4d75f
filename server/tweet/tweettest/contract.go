package tweettest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// TestStore checks that the stores open returns keep the contract of
// tweet.Store, in one subtest per rule. open must return a new, empty store
// on each call, closed when the test ends. The real store (package store)
// and the fake (Store) both run it, which is what lets the tests of other
// packages use the fake and still mean something.
//
// A store may keep instants to the millisecond only (BSON dates do): the
// posts here are on whole milliseconds, except where the round trip
// checks exactly that. A store that has a Count method, as both have, is
// checked to count what Recent lists.
func TestStore(t *testing.T, open func(t *testing.T) tweet.Store) {
	t.Run("Save", func(t *testing.T) { testSave(t, open) })
	t.Run("SaveRoundTrip", func(t *testing.T) { testSaveRoundTrip(t, open) })
	t.Run("SaveInvalid", func(t *testing.T) { testSaveInvalid(t, open) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open) })
	t.Run("RecentPaging", func(t *testing.T) { testRecentPaging(t, open) })
	t.Run("IDs", func(t *testing.T) { testIDs(t, open) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open) })
	t.Run("Stats", func(t *testing.T) { testStats(t, open) })
	t.Run("StatsTies", func(t *testing.T) { testStatsTies(t, open) })
}

// T0 is when the posts of the contract tests begin: a Friday morning at a
// conference.
var T0 = time.Date(2024, 5, 17, 9, 0, 0, 0, time.UTC)

// counter is the optional Count of a store.
type counter interface {
	Count(ctx context.Context, event string) (int64, error)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// post is a plain post of the tests on paging and deletes.
func post(id string, at time.Time) tweet.Tweet {
	return tweet.Tweet{
		ID: id, Source: "demo", User: "gopher", Name: "Gopher", Text: "hello " + id,
		CreatedAt: at, Hashtags: []string{"go"}, Lang: "en", URL: "https://example.org/" + id,
	}
}

// IDs returns the ids of ps, in order.
func IDs(ps []tweet.Tweet) []string {
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

// testIDs: IDs lists what Recent lists, ids only, newest first, within
// one event, after duplicates and deletes.
func testIDs(t *testing.T, open func(t *testing.T) tweet.Store) {
	ctx := ctxT(t)
	s := open(t)
	for i := range 30 {
		p := post(fmt.Sprintf("bluesky:did:plc:zoë/3k%02d", i), T0.Add(time.Duration(i%7)*time.Minute))
		p.Text = "Grüße aus Zürich 🎉 مرحبا <b>" + fmt.Sprint(i) + "</b>"
		for range 2 { // a duplicate changes nothing
			if err := s.Save(ctx, "Café 🎉", p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Save(ctx, "other", post("demo:other", T0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "bluesky:did:plc:zoë/3k05"); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 10, 29, 100} {
		recent, err := s.Recent(ctx, "Café 🎉", limit, "")
		if err != nil {
			t.Fatal(err)
		}
		ids, err := s.IDs(ctx, "Café 🎉", limit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, IDs(recent)) {
			t.Errorf("IDs(limit %d) = %v\nwant Recent's %v", limit, ids, IDs(recent))
		}
	}
	if ids, err := s.IDs(ctx, "nope", 10); err != nil || len(ids) != 0 {
		t.Errorf("IDs of an unknown event = %v, %v; want none", ids, err)
	}
	if _, err := s.IDs(ctx, "other", 0); tweet.ErrorCode(err) != tweet.EINVALID {
		t.Errorf("IDs with limit 0: %v, want EINVALID", err)
	}
}

func testSave(t *testing.T, open func(t *testing.T) tweet.Store) {
	tests := []struct {
		name  string
		saves []tweet.Tweet
		// concurrent saves every post this many times at once.
		concurrent int
		want       []string // ids stored, newest first
	}{
		{name: "one post", saves: []tweet.Tweet{post("demo:1", T0)}, want: []string{"demo:1"}},
		{
			name:  "same id twice is stored once",
			saves: []tweet.Tweet{post("demo:1", T0), post("demo:1", T0)},
			want:  []string{"demo:1"},
		},
		{
			name: "a second save changes nothing",
			saves: []tweet.Tweet{post("demo:1", T0), func() tweet.Tweet {
				p := post("demo:1", T0)
				p.Text = "edited"
				return p
			}()},
			want: []string{"demo:1"},
		},
		{
			name:       "concurrent saves of the same id",
			saves:      []tweet.Tweet{post("demo:1", T0), post("demo:2", T0.Add(time.Second))},
			concurrent: 16,
			want:       []string{"demo:2", "demo:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := open(t)
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
			if ids := IDs(got); !slices.Equal(ids, tt.want) {
				t.Fatalf("stored %v, want %v", ids, tt.want)
			}
			if c, ok := db.(counter); ok {
				if n, _ := c.Count(ctx, ""); n != int64(len(tt.want)) {
					t.Fatalf("Count = %d, want %d", n, len(tt.want))
				}
			}
			// The first save wins: its text is what is stored.
			if got[len(got)-1].Text != tt.saves[0].Text {
				t.Errorf("stored text %q, want the first save's %q", got[len(got)-1].Text, tt.saves[0].Text)
			}
		})
	}
}

// testSaveRoundTrip stores posts as they come from the services: emoji,
// accents, CJK, right-to-left text, markup that must stay text, and
// hashtags as written. Each comes back as it went in, but for CreatedAt
// (milliseconds at least) and its hashtags (normalised).
func testSaveRoundTrip(t *testing.T, open func(t *testing.T) tweet.Store) {
	tests := []struct {
		name string
		in   tweet.Tweet
	}{
		{name: "markup and emoji", in: tweet.Tweet{
			ID: "twitter:42", Source: "twitter", User: "Ada", Name: "Ada L.", Picture: "https://example.org/a.png",
			Text: "<b>not html</b> 🎉", CreatedAt: T0.Add(1234567 * time.Microsecond), Hashtags: []string{"go", "gophercon"},
			Lang: "fr", URL: "https://x.example/42", Retweet: true,
		}},
		{name: "accents and a script tag in the name", in: tweet.Tweet{
			ID: "mastodon:109", Source: "mastodon", User: "zoë@social.example", Name: `Zoë "<script>alert(1)</script>" Ångström`,
			Text: "Crème brûlée à la #GoConf, naïve café ☕", CreatedAt: T0.Add(time.Minute), Hashtags: []string{"GoConf", "café"},
			Lang: "fr", URL: "https://social.example/@zoë/109",
		}},
		{name: "CJK", in: tweet.Tweet{
			ID: "bluesky:3kq", Source: "bluesky", User: "tanaka.bsky.social", Name: "田中 太郎",
			Text: "東京のゴーファーカンファレンス、最高でした！ #ゴー言語 한국어도 中文也", CreatedAt: T0.Add(2 * time.Minute),
			Hashtags: []string{"ゴー言語"}, Lang: "ja", URL: "https://bsky.app/profile/tanaka.bsky.social/post/3kq",
		}},
		{name: "right to left", in: tweet.Tweet{
			ID: "x:77", Source: "x", User: "layla_dev", Name: "ليلى \u202eevil\u202c",
			Text: "مرحبا بالجميع في مؤتمر #جو — שלום 👋🏽", CreatedAt: T0.Add(3 * time.Minute),
			Hashtags: []string{"#جو"}, Lang: "ar", URL: "https://x.com/layla_dev/status/77",
		}},
		{name: "links, photos and the reposted author", in: tweet.Tweet{
			ID: "x:78", Source: "x", User: "noa", Name: "נועה", Retweet: true,
			Text:      "RT @layla_dev: 🎉 مرحبا @Dana #GoConf → goconf.example/ja/会場…",
			CreatedAt: T0.Add(3*time.Minute + time.Second), Hashtags: []string{"goconf"}, Lang: "ar",
			URL:      "https://x.com/noa/status/78",
			RepostOf: &tweet.Original{User: "layla_dev", Name: "ليلى"},
			Entities: []tweet.Entity{
				{Kind: "mention", Start: 3, End: 13, Href: "https://x.com/layla_dev"},
				{Kind: "mention", Start: 24, End: 29, Href: "https://x.com/dana"},
				{Kind: "hashtag", Start: 30, End: 37, Href: "https://x.com/hashtag/GoConf"},
				{Kind: "url", Start: 40, End: 61, Href: "https://goconf.example/ja/会場マップ", Display: "goconf.example/ja/会場…"},
			},
			Media: []tweet.Media{
				{Type: "photo", URL: "https://pbs.twimg.com/media/a.jpg", Alt: "Die Bühne «GoConf» 🎤", Width: 2048, Height: 1365},
				{Type: "video", URL: "https://x.com/noa/status/78/video/1", Preview: "https://pbs.twimg.com/v.jpg"},
			},
		}},
		{name: "no hashtags, no language", in: tweet.Tweet{
			ID: "demo:0", Source: "demo", User: "&amp;", Text: "&lt;/textarea&gt; 👨‍👩‍👧‍👦", CreatedAt: T0.Add(4 * time.Minute),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := open(t)
			if err := db.Save(ctx, "ev", tt.in); err != nil {
				t.Fatal(err)
			}
			got, err := db.Recent(ctx, "ev", 1, "")
			if err != nil || len(got) != 1 {
				t.Fatalf("Recent: %v %v", got, err)
			}
			want := tt.in
			want.Hashtags = tweet.NormalizeHashtags(tt.in.Hashtags)
			if got[0].CreatedAt.Equal(tt.in.CreatedAt.Truncate(time.Millisecond)) {
				want.CreatedAt = tt.in.CreatedAt.Truncate(time.Millisecond) // BSON dates hold milliseconds
			}
			if !reflect.DeepEqual(got[0], want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got[0], want)
			}
		})
	}
}

func testSaveInvalid(t *testing.T, open func(t *testing.T) tweet.Store) {
	db := open(t)
	err := db.Save(ctxT(t), "ev", tweet.Tweet{Text: "no id"})
	if tweet.ErrorCode(err) != tweet.EINVALID {
		t.Fatalf("Save without id: %v, want an EINVALID error", err)
	}
}

func testDelete(t *testing.T, open func(t *testing.T) tweet.Store) {
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
			db := open(t)
			for i, id := range tt.saved {
				if err := db.Save(ctx, "ev", post(id, T0.Add(time.Duration(-i)*time.Second))); err != nil {
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
			if ids := IDs(got); !slices.Equal(ids, tt.want) {
				t.Fatalf("after deletes: %v, want %v", ids, tt.want)
			}
		})
	}
}

func testRecentPaging(t *testing.T, open func(t *testing.T) tweet.Store) {
	ctx := ctxT(t)
	db := open(t)
	// 23 posts in two events; several share a millisecond so that the
	// id decides their order.
	var all []tweet.Tweet
	for i := range 23 {
		p := post(fmt.Sprintf("demo:%02d", i), T0.Add(time.Duration(i/3)*time.Minute))
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
		return IDs(ps)
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
				got = append(got, IDs(page)...)
				before = page[len(page)-1].ID
			}
			if want := newest(tt.event); !slices.Equal(got, want) {
				t.Fatalf("paged through\n %v\nwant\n %v", got, want)
			}
		})
	}

	t.Run("an unknown event has no posts", func(t *testing.T) {
		got, err := db.Recent(ctx, "nope", 10, "")
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v; want no posts and no error", IDs(got), err)
		}
	})
	t.Run("before another event's post pages by its time", func(t *testing.T) {
		// demo:14 is of event "other", made at minute 4: the page
		// starts with main's posts older than it.
		got, err := db.Recent(ctx, "main", 2, "demo:14")
		if want := []string{"demo:13", "demo:12"}; err != nil || !slices.Equal(IDs(got), want) {
			t.Fatalf("got %v, %v; want %v", IDs(got), err, want)
		}
	})
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

func testEvents(t *testing.T, open func(t *testing.T) tweet.Store) {
	ctx := ctxT(t)
	db := open(t)

	if _, err := db.Event(ctx, ""); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Fatalf("Event(\"\") with no events: %v, want ENOTFOUND", err)
	}
	if all, err := db.Events(ctx); err != nil || len(all) != 0 {
		t.Fatalf("Events with no events = %+v, %v; want none", all, err)
	}
	a, err := db.StartEvent(ctx, "gophercon", []string{"#gophercon"}, T0)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Running() || !a.Start.Equal(T0) || !slices.Equal(a.Terms, []string{"#gophercon"}) {
		t.Fatalf("started %+v", a)
	}
	ended, err := db.EndEvent(ctx, "gophercon", T0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if ended.Running() || !ended.End.Equal(T0.Add(time.Hour)) {
		t.Fatalf("ended %+v", ended)
	}
	again, err := db.EndEvent(ctx, "gophercon", T0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !again.End.Equal(T0.Add(time.Hour)) {
		t.Errorf("a second end moved the end to %v; the first end must stay", again.End)
	}
	resumed, err := db.StartEvent(ctx, "gophercon", []string{"#gophercon", "golang"}, T0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.Running() || !resumed.Start.Equal(T0) || len(resumed.Terms) != 2 {
		t.Errorf("resumed %+v; want the first start, new terms, no end", resumed)
	}
	if _, err := db.StartEvent(ctx, "later", nil, T0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	latest, err := db.Event(ctx, "")
	if err != nil || latest.Name != "later" {
		t.Errorf("Event(\"\") = %+v, %v; want the latest, \"later\"", latest, err)
	}
	if latest.Terms == nil {
		t.Error("an event started without terms has nil Terms; clients must receive []")
	}
	all, err := db.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := []string{all[0].Name, all[1].Name}; len(all) != 2 || names[0] != "later" {
		t.Errorf("Events = %+v", all)
	}
	// The latest is the one started last, not the one named last nor the
	// one resumed last.
	if _, err := db.StartEvent(ctx, "böökfest 東京 🎪", []string{"#bf"}, T0.Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartEvent(ctx, "gophercon", []string{"#gophercon"}, T0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	all, err = db.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range all {
		names = append(names, ev.Name)
	}
	if want := []string{"later", "böökfest 東京 🎪", "gophercon"}; !slices.Equal(names, want) {
		t.Errorf("Events in the order %q, want %q (latest start first)", names, want)
	}
	if named, err := db.Event(ctx, "böökfest 東京 🎪"); err != nil || named.Name != "böökfest 東京 🎪" || !named.Start.Equal(T0.Add(12*time.Hour)) {
		t.Errorf("Event(böökfest 東京 🎪) = %+v, %v", named, err)
	}
	if _, err := db.Event(ctx, "nope"); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("Event(nope): %v, want ENOTFOUND", err)
	}
	if _, err := db.EndEvent(ctx, "nope", T0); tweet.ErrorCode(err) != tweet.ENOTFOUND {
		t.Errorf("EndEvent(nope): %v, want ENOTFOUND", err)
	}
	if _, err := db.StartEvent(ctx, "", nil, T0); tweet.ErrorCode(err) != tweet.EINVALID {
		t.Errorf("StartEvent without name: %v, want EINVALID", err)
	}
}

// Posts returns n pseudo-random posts (fixed seed) spread over about 40
// minutes with quiet gaps, mixed-case handles (accents and non-Latin
// scripts among them), missing languages, repeated hashtags, and texts
// and names as people write them: emoji, CJK, right-to-left, markup.
func Posts(n int, seed uint64) []tweet.Tweet {
	r := rand.New(rand.NewPCG(seed, seed))
	sources := []string{"twitter", "mastodon", "bluesky"}
	users := []string{"Ada", "ada", "bob", "Carol", "dave", "Zoë", "ZOË", "田中", "ليلى", "grace", "heidi", "<b>ivan</b>", "oscar"}
	names := []string{"Ada Lovelace", "Bob 🐹", "Zoë Ångström", "田中 太郎", "ليلى", `"><img src=x onerror=alert(1)>`, ""}
	texts := []string{"post", "🎉🎉 gophers everywhere", "Crème brûlée à midi", "ゴーファー最高！", "مرحبا بالجميع", "<script>alert('hi')</script>", "a &amp; b"}
	langs := []string{"en", "en", "fr", "ja", ""}
	tags := []string{"Go", "gophercon", "golang", "tinygo", "wasm", "Café", "ゴー言語", "جو", "iter", "slog", "pgo", "🎉"}
	var out []tweet.Tweet
	for i := range n {
		minute := r.IntN(40)
		if minute >= 10 && minute < 14 {
			minute += 10 // a quiet stretch: the timeline must show zeros
		}
		at := T0.Add(time.Duration(minute)*time.Minute + time.Duration(r.IntN(60000))*time.Millisecond)
		var ht []string
		for range r.IntN(4) {
			ht = append(ht, tags[r.IntN(len(tags))])
		}
		out = append(out, tweet.Tweet{
			ID:        fmt.Sprintf("%s:%d", sources[i%3], i),
			Source:    sources[i%3],
			User:      users[r.IntN(len(users))],
			Name:      names[r.IntN(len(names))],
			Text:      texts[r.IntN(len(texts))],
			CreatedAt: at,
			Hashtags:  tweet.NormalizeHashtags(ht),
			Lang:      langs[r.IntN(len(langs))],
		})
		if r.IntN(4) == 0 {
			Repost(&out[len(out)-1], i)
		}
	}
	return out
}

// originals are the posts that Repost reposts: authors and texts as
// people write them, and the repost counts their source gives (none for
// some, as Bluesky gives none).
var originals = []struct {
	user, name, text string
	reposts          int64
}{
	{"marta_codes", "Marta Kowalska", "Slides of my #GopherCon talk: generics in practice 🎉", 1200},
	{"田中", "田中 太郎", "ゴーファー最高！ 会場で会いましょう", 0},
	{"layla_dev", "ليلى", "مرحبا بالجميع في المؤتمر", 45},
	{"zoe", `"><img src=x onerror=alert(1)>`, "<script>alert('top')</script> & friends", 3},
	{"crème", "Zoë Ångström", "Crème brûlée à midi, talks à 14 h", 0},
	{"grace", "Grace 🐹", "a &amp; b " + strings.Repeat("long text ✨ ", 80), 45},
}

// Repost makes t a repost of one of a few originals on t's source (the
// k-th, modulo their number), as Twitter writes one: "RT @author: " and
// the original's text, with the original's id, permalink and, for most,
// the repost count the source gives.
func Repost(t *tweet.Tweet, k int) {
	o := originals[k%len(originals)]
	t.Retweet = true
	t.RepostOf = &tweet.Original{
		User: o.user, Name: o.name, ID: fmt.Sprintf("%s:orig-%d", t.Source, k%len(originals)),
		URL: "https://social.example/@" + o.user + "/" + fmt.Sprint(k%len(originals)), Reposts: o.reposts,
	}
	t.Text = "RT @" + o.user + ": " + o.text
}

// WantStats computes what Stats must answer for posts with plain loops,
// independently of any store's code (the fake's included).
func WantStats(ev tweet.Event, posts []tweet.Tweet) tweet.Stats {
	s := tweet.Stats{Event: ev}
	bySource := map[string]int64{}
	byLang := map[string]int64{}
	byAuthor := map[string]int64{}
	byTag := map[string]int64{}
	byMinute := map[int64]int64{}
	newest := map[string]tweet.Tweet{} // per author
	// older is the order of Recent, reversed.
	older := func(a, b tweet.Tweet) bool {
		return a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID)
	}
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
		if q, ok := newest[p.Source+":"+strings.ToLower(p.User)]; !ok || older(q, p) {
			newest[p.Source+":"+strings.ToLower(p.User)] = p
		}
		for _, h := range p.Hashtags {
			byTag[h]++
		}
		byMinute[p.CreatedAt.Truncate(time.Minute).Unix()/60]++
		if s.First == nil || older(p, *s.First) {
			q := p
			s.First = &q
		}
		if s.Last == nil || older(*s.Last, p) {
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
		// Bubble sort: deliberately not the stores' code.
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
	s.TopHashtags = withDisplay(ranked(byTag, 10), posts)
	s.TopPosts = topPosts(posts)
	s.TopAuthors = []tweet.AuthorCount{}
	for _, c := range ranked(byAuthor, 10) {
		i := strings.Index(c.Key, ":")
		n := newest[c.Key]
		s.TopAuthors = append(s.TopAuthors, tweet.AuthorCount{Source: c.Key[:i], User: c.Key[i+1:], Count: c.Count, Name: n.Name, Picture: n.Picture})
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

// CompareStats reports every field where got differs from want. Lists
// must be non-nil, so that clients receive `[]`, not `null`; First and
// Last are compared by id and time.
func CompareStats(t testing.TB, got, want tweet.Stats) {
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
	check("TopPosts", got.TopPosts, nonNil(want.TopPosts))
	check("Timeline", got.Timeline, want.Timeline)
	check("Peak", got.Peak, want.Peak)
	if (got.First == nil) != (want.First == nil) || (got.First != nil && (got.First.ID != want.First.ID || !got.First.CreatedAt.Equal(want.First.CreatedAt))) {
		t.Errorf("First = %+v, want %+v", got.First, want.First)
	}
	if (got.Last == nil) != (want.Last == nil) || (got.Last != nil && (got.Last.ID != want.Last.ID || !got.Last.CreatedAt.Equal(want.Last.CreatedAt))) {
		t.Errorf("Last = %+v, want %+v", got.Last, want.Last)
	}
}

func nonNil[T any](c []T) []T {
	if c == nil {
		return []T{}
	}
	return c
}

func testStats(t *testing.T, open func(t *testing.T) tweet.Store) {
	posts := Posts(400, 7)
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
			db := open(t)
			ev, err := db.StartEvent(ctx, "conf", []string{"go"}, T0)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.posts {
				if err := db.Save(ctx, "conf", p); err != nil {
					t.Fatal(err)
				}
			}
			// Another event's posts must not count.
			for _, p := range Posts(50, 99) {
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
			want := WantStats(ev, kept)
			got, err := db.Stats(ctx, "conf")
			if err != nil {
				t.Fatal(err)
			}
			CompareStats(t, got, want)

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
		db := open(t)
		if _, err := db.Stats(ctxT(t), "nope"); tweet.ErrorCode(err) != tweet.ENOTFOUND {
			t.Fatalf("got %v, want ENOTFOUND", err)
		}
	})
	t.Run("no event at all", func(t *testing.T) {
		db := open(t)
		if _, err := db.Stats(ctxT(t), ""); tweet.ErrorCode(err) != tweet.ENOTFOUND {
			t.Fatalf("got %v, want ENOTFOUND", err)
		}
	})
}

// testStatsTies checks the tie rules on figures written out by hand: the
// top ten keep the first ten names in byte order among equals, the peak is
// the earliest of equal minutes, handles count case-insensitively (in
// every script that has case) and per service, and First and Last, and
// the author's name (their newest post's), are decided by id among posts
// of the same instant.
func testStatsTies(t *testing.T, open func(t *testing.T) tweet.Store) {
	ctx := ctxT(t)
	db := open(t)
	ev, err := db.StartEvent(ctx, "ties", []string{"#tie"}, T0)
	if err != nil {
		t.Fatal(err)
	}
	at := func(min, ms int) time.Time {
		return T0.Add(time.Duration(min)*time.Minute + time.Duration(ms)*time.Millisecond)
	}
	var posts []tweet.Tweet
	add := func(id, source, user string, when time.Time, tags ...string) {
		posts = append(posts, tweet.Tweet{ID: id, Source: source, User: user, Name: "名前 " + user, Text: "🎉 " + id,
			Picture: "https://cdn.example/" + id + ".jpg", CreatedAt: when, Hashtags: tags, Lang: "en"})
	}
	// Minute 0: two posts of the same instant, the smaller id First;
	// minute 3: three; minute 5: four, the last two of the same instant,
	// the greater id Last.
	add("t:b", "twitter", "Zoë", at(0, 0), "ü", "a")
	add("t:a", "twitter", "ZOË", at(0, 0), "ü")
	add("m:1", "mastodon", "zoë", at(3, 1), "日本")
	add("m:2", "mastodon", "ÉMILE", at(3, 2), "日本")
	add("m:3", "mastodon", "émile", at(3, 3), "z")
	add("b:1", "bluesky", "ليلى", at(5, 0), "ü")
	add("b:2", "bluesky", "<i>x</i>", at(5, 7))
	add("b:4", "bluesky", "<i>x</i>", at(5, 9))
	add("b:3", "bluesky", "<i>x</i>", at(5, 9))
	// Eleven tags of one post each, to be cut to ten after the ones
	// above.
	for i, tag := range []string{"k", "j", "i", "h", "g", "f", "e", "d", "c", "b", "0"} {
		add(fmt.Sprintf("d:%02d", i), "demo", fmt.Sprintf("u%02d", i), at(1, i), tag)
	}
	for _, p := range posts {
		if err := db.Save(ctx, "ties", p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Stats(ctx, "ties")
	if err != nil {
		t.Fatal(err)
	}
	CompareStats(t, got, WantStats(ev, posts))

	// And by hand, so that a mistake shared by WantStats and a store
	// shows too.
	c := func(key string, n int64) tweet.Count { return tweet.Count{Key: key, Count: n} }
	// The name is the newest post's: "Zoë" (t:b) over "ZOË" (t:a) of
	// the same instant, "émile" (m:3) over the older "ÉMILE".
	a := func(source, user string, n int64, name, id string) tweet.AuthorCount {
		return tweet.AuthorCount{Source: source, User: user, Count: n, Name: "名前 " + name, Picture: "https://cdn.example/" + id + ".jpg"}
	}
	if want := []tweet.Count{c("ü", 3), c("日本", 2), c("0", 1), c("a", 1), c("b", 1), c("c", 1), c("d", 1), c("e", 1), c("f", 1), c("g", 1)}; !reflect.DeepEqual(got.TopHashtags, want) {
		t.Errorf("TopHashtags = %v, want %v", got.TopHashtags, want)
	}
	wantAuthors := []tweet.AuthorCount{
		a("bluesky", "<i>x</i>", 3, "<i>x</i>", "b:4"), a("mastodon", "émile", 2, "émile", "m:3"), a("twitter", "zoë", 2, "Zoë", "t:b"),
		a("bluesky", "ليلى", 1, "ليلى", "b:1"), a("demo", "u00", 1, "u00", "d:00"), a("demo", "u01", 1, "u01", "d:01"),
		a("demo", "u02", 1, "u02", "d:02"), a("demo", "u03", 1, "u03", "d:03"), a("demo", "u04", 1, "u04", "d:04"), a("demo", "u05", 1, "u05", "d:05"),
	}
	if !reflect.DeepEqual(got.TopAuthors, wantAuthors) {
		t.Errorf("TopAuthors = %v, want %v", got.TopAuthors, wantAuthors)
	}
	if got.Authors != 5+11 {
		t.Errorf("Authors = %d, want 16: zoë on two services is two people", got.Authors)
	}
	if want := (tweet.MinuteCount{Minute: at(1, 0), Count: 11}); got.Peak != want {
		t.Errorf("Peak = %+v, want %+v", got.Peak, want)
	}
	wantTimeline := []int64{2, 11, 0, 3, 0, 4}
	var counts []int64
	for i, m := range got.Timeline {
		counts = append(counts, m.Count)
		if !m.Minute.Equal(at(i, 0)) {
			t.Errorf("Timeline[%d] is minute %v, want %v", i, m.Minute, at(i, 0))
		}
	}
	if !slices.Equal(counts, wantTimeline) {
		t.Errorf("Timeline counts %v, want %v", counts, wantTimeline)
	}
	if got.First == nil || got.First.ID != "t:a" || got.Last == nil || got.Last.ID != "b:4" {
		t.Errorf("First %v, Last %v; want t:a and b:4 (by id among posts of the same instant)", got.First, got.Last)
	}

	// The earliest of equal minutes is the peak: minute 7 as busy as
	// minute 1, and a quiet tail.
	for i := range 11 {
		p := tweet.Tweet{ID: fmt.Sprintf("late:%02d", i), Source: "demo", User: "late", CreatedAt: at(7, i)}
		if err := db.Save(ctx, "ties", p); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Save(ctx, "ties", tweet.Tweet{ID: "later", Source: "demo", User: "late", CreatedAt: at(9, 0)}); err != nil {
		t.Fatal(err)
	}
	got, err = db.Stats(ctx, "ties")
	if err != nil {
		t.Fatal(err)
	}
	if want := (tweet.MinuteCount{Minute: at(1, 0), Count: 11}); got.Peak != want {
		t.Errorf("Peak with a later minute as busy = %+v, want the earlier %+v", got.Peak, want)
	}
	if n := len(got.Timeline); n != 10 {
		t.Errorf("Timeline of %d minutes, want 10", n)
	}
}
