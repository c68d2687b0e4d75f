package e2e

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// statsShown is what stats-check.mjs prints.
type statsShown struct {
	Total      string
	Langs      string
	Hashtags   string
	AuthorRows []struct {
		Name, Sub, Img, Referrer, Initials string
	}
	TopPosts []struct {
		Count, Who, Text, Dir, Sub, Href string
		Elements, Lines                  int
	}
	Bucket       int
	TimelineBars int
	Ticks        []string
	TickPx       float64
	PeakTitle    string
	PartialTitle string
	Legend       []string
	SwatchPx     float64
	Readout      string
	ReadoutEnd   string
	PageErrors   []string
	Timeout      bool
	OverflowX    float64
	MinFont      struct {
		Px    float64
		Where string
	}
	CSV     string
	CSVName string
	PNG     struct {
		Name                 string
		Bytes, Width, Height int
	}
}

// statsCheck runs stats-check.mjs on url at the given viewport width.
// A phone is 390×844, anything else 900 px tall.
func statsCheck(t *testing.T, url string, width int, extra ...string) statsShown {
	t.Helper()
	height := 900
	if width == 390 {
		height = 844
	}
	args := append([]string{filepath.Join(nodeModules(t), "stats-check.mjs"), "--url", url, "--width", fmt.Sprint(width), "--height", fmt.Sprint(height)}, extra...)
	out, err := exec.Command("node", args...).Output()
	if err != nil {
		t.Fatalf("stats-check: %v\n%s", err, out)
	}
	var shown statsShown
	if err := json.Unmarshal(out, &shown); err != nil {
		t.Fatalf("stats-check printed %q: %v", out, err)
	}
	return shown
}

// An event of an hour, of a working day and of three days on the stats
// page, on a 390 px phone and a laptop: the timeline sums minutes into
// round buckets (no hairline bars), its axis names the days only past a
// day, its labels keep a readable size, and the busiest bucket's tooltip
// and keyboard readout give its count as summed here from the fixture.
func TestStatsPageAtAnyLength(t *testing.T) {
	t.Parallel()
	for _, span := range []struct {
		name          string
		minutes, step int
		dated         bool
	}{
		{"1 hour", 60, 1, false},
		{"8 hours", 8 * 60, 3, false},
		{"3 days", 3 * 24 * 60, 17, true},
	} {
		t.Run(span.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			start := time.Date(2026, 11, 23, 5, 51, 0, 0, time.UTC)
			// One post every step minutes, and a rush of 12 more at two
			// thirds of the span: the peak.
			var at []time.Time
			for m := 0; m < span.minutes; m += span.step {
				at = append(at, start.Add(time.Duration(m)*time.Minute))
			}
			rush := start.Add(time.Duration(span.minutes*2/3) * time.Minute)
			for range 12 {
				at = append(at, rush)
			}
			// Authors' pictures: one the server serves, one that is not
			// http(s), one that fails to load.
			pictures := []string{"/favicon.svg", "javascript:alert(1)", "http://127.0.0.1:9/gone.png"}
			reposts := map[string]*repostTally{}
			for n, when := range at {
				user := n % 13
				post := map[string]any{
					"id_str": fmt.Sprint(5000 + n), "id": 5000 + n, "lang": "de",
					"text":       fmt.Sprintf("Tag %d, Beitrag %d — Grüße 👋 #GoConf", when.Sub(start)/(24*time.Hour)+1, n),
					"created_at": when.Format(time.RubyDate),
					"user": map[string]any{"screen_name": fmt.Sprintf("Gast%d", user), "name": fmt.Sprintf("Gäst Nummer %d", user),
						"profile_image_url_https": pictures[user%3]},
					"entities": map[string]any{"hashtags": []any{map[string]any{"text": "GoConf"}}},
				}
				if n%4 == 1 { // a retweet of one of three posts
					post["retweeted_status"] = spanOriginal(n, when, reposts)
				}
				line, _ := json.Marshal(post)
				lines = append(lines, string(line))
			}
			n := len(at)
			srv := startReplayed(t, lines, n, "--event", "span")

			for _, width := range []int{390, 1280} {
				var extra []string
				if width == 1280 && span.minutes == 8*60 {
					extra = append(extra, "--downloads")
				}
				shown := statsCheck(t, srv.URL+"/stats", width, extra...)
				if shown.OverflowX > 0 || shown.MinFont.Px < 11 {
					t.Errorf("%d px: the page scrolls %.0f px sideways; its smallest text is %.1f px (%s): want none and at least 11", width, shown.OverflowX, shown.MinFont.Px, shown.MinFont.Where)
				}
				if len(extra) > 0 {
					checkDownloads(t, shown, at, n)
				}
				if shown.Timeout || (shown.Total != fmt.Sprint(n) && shown.Total != fmt.Sprintf("%d,%03d", n/1000, n%1000)) {
					t.Errorf("%d px: total %q, want %d", width, shown.Total, n)
				}
				// Bars at least 4 px apart: no hairlines; and no coarser
				// buckets than needed: a minute a bar for an hour.
				if shown.Bucket < 1 || shown.TimelineBars*4 > width {
					t.Errorf("%d px: %d bars of %d minutes: hairline bars", width, shown.TimelineBars, shown.Bucket)
				}
				if span.minutes == 60 && shown.Bucket != 1 {
					t.Errorf("%d px: an hour drawn in buckets of %d minutes, want one bar a minute", width, shown.Bucket)
				}
				if span.minutes > 60 && shown.Bucket <= 1 {
					t.Errorf("%d px: %s drawn a minute a bar", width, span.name)
				}
				days := regexp.MustCompile(`Nov`) // Chromium's en-US: "Nov 23, 05:51 AM"
				dated := 0
				for _, tick := range shown.Ticks {
					if days.MatchString(tick) {
						dated++
					}
				}
				if len(shown.Ticks) < 2 || (span.dated && dated != len(shown.Ticks)) || (!span.dated && dated != 0) {
					t.Errorf("%d px: axis labels %q: dated must be %v", width, shown.Ticks, span.dated)
				}
				if shown.TickPx < 11 {
					t.Errorf("%d px: axis labels drawn %.1f px tall: unreadable", width, shown.TickPx)
				}
				// The busiest bucket, summed here at the page's size.
				size := time.Duration(shown.Bucket) * time.Minute
				per := map[time.Time]int{}
				for _, when := range at {
					per[when.Truncate(size)]++
				}
				peak := 0
				for _, c := range per {
					peak = max(peak, c)
				}
				want := fmt.Sprintf(": %d posts (busiest)", peak)
				if !strings.HasSuffix(shown.PeakTitle, want) {
					t.Errorf("%d px: the busiest bar's tooltip is %q, want it to end %q", width, shown.PeakTitle, want)
				}
				if shown.Readout != shown.PeakTitle || shown.ReadoutEnd == "" || shown.ReadoutEnd == shown.Readout {
					t.Errorf("%d px: keyboard readout %q then, after End, %q; want the peak's tooltip, then the newest bar's", width, shown.Readout, shown.ReadoutEnd)
				}
				if len(shown.Legend) < 2 || !strings.Contains(shown.Legend[1], fmt.Sprintf("busiest %s: %d", unitName(shown.Bucket), peak)) {
					t.Errorf("%d px: legend %q lacks the busiest bucket with %d", width, shown.Legend, peak)
				}
				if want := fmt.Sprintf("#GoConf%d", n); !strings.HasSuffix(shown.Hashtags, want) {
					t.Errorf("%d px: hashtags %q, want them to end %q, as the posts write the tag", width, shown.Hashtags, want)
				}
				checkAuthorRows(t, width, shown, pictures)
				checkTopPosts(t, width, shown, reposts)
				if want := fmt.Sprintf("German%d", n); !strings.HasSuffix(shown.Langs, want) {
					t.Errorf("%d px: languages %q, want %q", width, shown.Langs, want)
				}
				if shown.SwatchPx < 8 || shown.SwatchPx > 16 {
					t.Errorf("%d px: legend swatches %.0f px wide, want a small square", width, shown.SwatchPx)
				}
				if len(shown.PageErrors) > 0 {
					t.Errorf("%d px: page errors %v", width, shown.PageErrors)
				}
			}
		})
	}
}

// spanOriginals are the posts the span fixture's retweets repost: markup,
// right-to-left and CJK text; Twitter's count for the first grows with
// each retweet, the second has none (0), the third a small one.
var spanOriginals = []struct {
	id, user, name, text string
	count                func(n int) int
}{
	{"9100", "marta_codes", "Marta <b>Kowalska</b>", "Slides of my #GoConf talk 🎉 <img src=x onerror=alert(1)>", func(n int) int { return 1000 + n }},
	{"9101", "layla_dev", "ليلى", "مرحبا بالجميع في #GoConf", func(int) int { return 0 }},
	{"9102", "tanaka", "田中 太郎", "ゴーファー最高！ #GoConf", func(int) int { return 5 }},
}

// repostTally is what the stats page must say of one reposted post.
type repostTally struct {
	seen, reported int
	user, text     string
}

// spanOriginal returns the retweeted_status of the n-th post of the span
// fixture and counts it in tally.
func spanOriginal(n int, when time.Time, tally map[string]*repostTally) map[string]any {
	o := spanOriginals[n%len(spanOriginals)]
	r := tally[o.id]
	if r == nil {
		r = &repostTally{user: o.user, text: o.text}
		tally[o.id] = r
	}
	r.seen++
	r.reported = max(r.reported, o.count(n))
	return map[string]any{
		"id_str": o.id, "id": 0, "text": o.text, "created_at": when.Add(-time.Hour).Format(time.RubyDate), "lang": "und",
		"retweet_count": o.count(n),
		"user":          map[string]any{"screen_name": o.user, "name": o.name},
		"entities":      map[string]any{"hashtags": []any{map[string]any{"text": "GoConf"}}},
	}
}

// checkTopPosts checks the most reposted posts against the fixture's
// tally: most first, by Twitter's count or else the retweets seen (ties:
// most seen, then by id); the
// text as text (no element from its markup), without "RT @…: ", at
// most three lines; a link to the post on Twitter.
func checkTopPosts(t *testing.T, width int, shown statsShown, tally map[string]*repostTally) {
	t.Helper()
	type want struct {
		id    string
		count int
	}
	var order []want
	for id, r := range tally {
		order = append(order, want{id, max(r.seen, r.reported)})
	}
	slices.SortFunc(order, func(a, b want) int {
		return cmp.Or(b.count-a.count, tally[b.id].seen-tally[a.id].seen, strings.Compare(a.id, b.id))
	})
	if len(shown.TopPosts) != len(order) {
		t.Fatalf("%d px: %d most reposted posts shown, want %d: %+v", width, len(shown.TopPosts), len(order), shown.TopPosts)
	}
	for i, w := range order {
		got, r := shown.TopPosts[i], tally[w.id]
		digits := strings.Map(func(c rune) rune {
			if c >= '0' && c <= '9' {
				return c
			}
			return -1
		}, got.Count)
		if digits != fmt.Sprint(w.count) || got.Text != r.text || got.Elements != 0 || got.Dir != "auto" ||
			!strings.Contains(got.Who, "@"+r.user) || got.Href != "https://twitter.com/"+r.user+"/status/"+w.id ||
			!strings.Contains(got.Sub, fmt.Sprint(r.seen)) || got.Lines < 1 || got.Lines > 3 {
			t.Errorf("%d px: most reposted #%d is %+v, want post %s with %d reposts (%d seen here), its text as text", width, i+1, got, w.id, w.count, r.seen)
		}
	}
}

// unitName is timeline.js's sizeLabel.
func unitName(minutes int) string {
	switch {
	case minutes == 1:
		return "minute"
	case minutes == 60:
		return "hour"
	case minutes == 1440:
		return "day"
	case minutes%60 == 0:
		return fmt.Sprintf("%d hours", minutes/60)
	}
	return fmt.Sprintf("%d minutes", minutes)
}

// checkAuthorRows checks the top authors as the span fixture writes them:
// "Gäst Nummer K" above "@gastK · twitter", and the avatar of
// pictures[K%3] (the server's own) or, for a javascript: URL or one that
// fails to load, the initials "GN".
func checkAuthorRows(t *testing.T, width int, shown statsShown, pictures []string) {
	t.Helper()
	if len(shown.AuthorRows) != 10 {
		t.Errorf("%d px: %d top authors, want 10", width, len(shown.AuthorRows))
	}
	for _, row := range shown.AuthorRows {
		var k int
		if _, err := fmt.Sscanf(row.Sub, "@gast%d · twitter", &k); err != nil || row.Name != fmt.Sprintf("Gäst Nummer %d", k) {
			t.Errorf("%d px: author row %+v: want the name above the handle and source", width, row)
			continue
		}
		switch k % 3 {
		case 0:
			if !strings.HasSuffix(row.Img, pictures[0]) || !strings.HasPrefix(row.Img, "http://") || row.Referrer != "no-referrer" || row.Initials != "" {
				t.Errorf("%d px: author %d shows %+v, want the picture %s, loaded without a referrer", width, k, row, pictures[0])
			}
		default:
			if row.Img != "" || row.Initials != "GN" {
				t.Errorf("%d px: author %d (picture %q) shows %+v, want the initials GN", width, k, pictures[k%3], row)
			}
		}
	}
}

// checkDownloads checks the CSV and PNG the page offers against the span
// fixture: every minute from the first post's to the last one's, summing
// to every post; the tag as written, the authors by name, the language
// by name; and a PNG of the timeline at twice its size.
func checkDownloads(t *testing.T, shown statsShown, at []time.Time, n int) {
	t.Helper()
	body, ok := strings.CutPrefix(shown.CSV, "\ufeff")
	if !ok {
		t.Errorf("the CSV %q… has no byte order mark", shown.CSV[:min(len(shown.CSV), 40)])
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != "section,key,name,count" {
		t.Fatalf("the CSV does not parse (%v) or lacks its header: %q", err, rows[:min(len(rows), 2)])
	}
	minutes, sum, authors := 0, 0, 0
	seen := map[string]string{}
	for _, r := range rows[1:] {
		c, err := strconv.Atoi(r[3])
		if err != nil {
			t.Errorf("row %q: count %q", r, r[3])
		}
		switch r[0] {
		case "timeline":
			minutes++
			sum += c
		case "author":
			authors++
			if !strings.HasPrefix(r[1], "twitter:gast") || !strings.HasPrefix(r[2], "Gäst Nummer ") {
				t.Errorf("author row %q", r)
			}
		default:
			seen[r[0]+" "+r[1]] = r[2] + " " + r[3]
		}
	}
	span := int(at[len(at)-13].Sub(at[0])/time.Minute) + 1 // the rush is not the last post
	if minutes != span || sum != n || authors != 10 {
		t.Errorf("the CSV has %d minutes summing to %d and %d authors, want %d, %d and 10", minutes, sum, authors, span, n)
	}
	for key, want := range map[string]string{"hashtag goconf": fmt.Sprint("GoConf ", n), "language de": fmt.Sprint("German ", n), "source twitter": fmt.Sprint("twitter ", n)} {
		if seen[key] != want {
			t.Errorf("CSV %s: %q, want %q", key, seen[key], want)
		}
	}
	if shown.CSVName != "span-stats.csv" || shown.PNG.Name != "span-stats.png" {
		t.Errorf("downloads named %q and %q", shown.CSVName, shown.PNG.Name)
	}
	if shown.PNG.Width < 2*600 || shown.PNG.Height < 2*180 || shown.PNG.Bytes < 2000 {
		t.Errorf("the PNG: %+v, want the timeline at twice its size", shown.PNG)
	}
}

// The event picker lists every event of the store, latest first, names
// that are markup shown as text, and choosing one loads its statistics
// with the name in the address (a name with "&", "?" and "#" intact).
func TestStatsPageEventPicker(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	names := []string{"GoConf 2026 & friends? #1", `<img src=x onerror="alert(1)">Nachtschicht`, "Café Gophers 🎉"}
	for i, name := range names {
		var lines []string
		for j := range i + 2 { // 2, 3 and 4 posts
			line, _ := json.Marshal(map[string]any{
				"id_str": fmt.Sprint(100*i + j), "id": 100*i + j, "lang": "en", "text": fmt.Sprintf("post %d of %s", j, name),
				"created_at": time.Date(2026, 11, 20+i, 9, j, 0, 0, time.UTC).Format(time.RubyDate),
				"user":       map[string]any{"screen_name": fmt.Sprintf("user%d", j), "name": "User"},
			})
			lines = append(lines, string(line))
		}
		srv := startReplayed(t, lines, i+2, "--event", name, "--data-dir", dataDir)
		if i < len(names)-1 {
			srv.Stop()
			continue
		}
		// The last server: its page shows the latest event and lists all.
		var shown struct {
			Total  string
			Events []struct {
				Value, Text string
				Selected    bool
			}
			Picked     struct{ URL, Event, Total string }
			PageErrors []string
		}
		out, err := exec.Command("node", filepath.Join(nodeModules(t), "stats-check.mjs"), "--url", srv.URL+"/stats", "--pick", names[0]).Output()
		if err != nil {
			t.Fatalf("stats-check: %v\n%s", err, out)
		}
		if err := json.Unmarshal(out, &shown); err != nil {
			t.Fatalf("stats-check printed %q: %v", out, err)
		}
		var listed []string
		for _, ev := range shown.Events {
			listed = append(listed, ev.Value)
			if !strings.HasPrefix(ev.Text, ev.Value+" · ") {
				t.Errorf("option %q for event %q: want the name as text, then the day", ev.Text, ev.Value)
			}
			if ev.Selected != (ev.Value == names[2]) {
				t.Errorf("option %q selected=%v: the page shows %q", ev.Value, ev.Selected, names[2])
			}
		}
		if want := []string{names[2], names[1], names[0]}; !slices.Equal(listed, want) {
			t.Errorf("the picker lists %q, want every event, latest first: %q", listed, want)
		}
		if shown.Picked.Event != names[0] || shown.Picked.Total != "2" || !strings.Contains(shown.Picked.URL, "?event="+url.QueryEscape(names[0])) {
			t.Errorf("choosing %q loaded %+v, want its 2 posts at ?event=%s", names[0], shown.Picked, url.QueryEscape(names[0]))
		}
		if len(shown.PageErrors) > 0 {
			t.Errorf("page errors %v", shown.PageErrors)
		}
	}
}

// While the event runs, the bucket that holds now is drawn as counted so
// far, and the legend says so; the bar before it is not. Every bucket
// starts on a whole minute, so the check starts early in a minute and ends
// well before the next: the newest post's bucket is now's.
func TestStatsPageMarksTheBucketSoFar(t *testing.T) {
	t.Parallel()
	for time.Now().Second() < 2 || time.Now().Second() > 15 {
		time.Sleep(500 * time.Millisecond)
	}
	now := time.Now().UTC()
	var lines []string
	n := 0
	for back := 2 * 24 * time.Hour; back >= 0; back -= 10 * time.Minute {
		n++
		line, _ := json.Marshal(map[string]any{
			"id_str": fmt.Sprint(7000 + n), "id": 7000 + n, "lang": "en", "text": fmt.Sprintf("live %d", n),
			"created_at": now.Add(-back).Format(time.RubyDate),
			"user":       map[string]any{"screen_name": fmt.Sprintf("live%d", n%5), "name": "Live"},
		})
		lines = append(lines, string(line))
	}
	srv := startReplayed(t, lines, n, "--event", "live")
	shown := statsCheck(t, srv.URL+"/stats", 1280)
	if !time.Now().Truncate(time.Minute).Equal(now.Truncate(time.Minute)) {
		t.Skip("a minute turned during the check: now's bucket may be a new one")
	}
	if !strings.HasSuffix(shown.PartialTitle, " so far") {
		t.Errorf("the bucket holding now has the tooltip %q, want it counted so far", shown.PartialTitle)
	}
	if len(shown.Legend) != 3 || shown.Legend[2] != fmt.Sprintf("this %s so far", unitName(shown.Bucket)) {
		t.Errorf("legend %q, want a third entry for this %s so far", shown.Legend, unitName(shown.Bucket))
	}
	if strings.HasSuffix(shown.PeakTitle, "so far") || len(shown.PageErrors) > 0 {
		t.Errorf("peak %q (not the bucket so far), page errors %v", shown.PeakTitle, shown.PageErrors)
	}
}
