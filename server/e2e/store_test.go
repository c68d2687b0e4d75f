package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/store/embedded"
)

// getJSON fetches url into out and returns the status code.
func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	resp, err := httpc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return resp.StatusCode
}

// storedIDs pages through /api/tweets and returns every id, newest first.
func storedIDs(t *testing.T, base string) []string {
	t.Helper()
	var ids []string
	before := ""
	for range 1000 {
		var page struct {
			Tweets []post `json:"tweets"`
			Next   string `json:"next"`
		}
		url := base + "/api/tweets?limit=37"
		if before != "" {
			url += "&before=" + before
		}
		if code := getJSON(t, url, &page); code != 200 {
			t.Fatalf("GET %s: %d", url, code)
		}
		for _, p := range page.Tweets {
			ids = append(ids, p.ID)
		}
		if page.Next == "" {
			return ids
		}
		before = page.Next
	}
	t.Fatal("paging /api/tweets did not end")
	return nil
}

type statsBody struct {
	Total        int64   `json:"total"`
	Authors      int64   `json:"authors"`
	Retweets     int64   `json:"retweets"`
	RetweetShare float64 `json:"retweet_share"`
	TopAuthors   []struct {
		User  string `json:"user"`
		Count int64  `json:"count"`
	} `json:"top_authors"`
	TopHashtags []struct {
		Key   string `json:"key"`
		Count int64  `json:"count"`
	} `json:"top_hashtags"`
	Timeline []struct {
		Minute time.Time `json:"minute"`
		Count  int64     `json:"count"`
	} `json:"timeline"`
	Peak struct {
		Count int64 `json:"count"`
	} `json:"peak"`
}

// Posts, backlog, since and statistics survive a restart on the same data
// directory, and a source that repeats stored posts does not broadcast them
// again.
func TestRestartKeepsPostsBacklogAndStats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file, ids := writeReplay(t, 0, 40)
	args := []string{"--source", "replay", "--replay-file", file, "--replay-rate", "0", "--backlog", "5", "--data-dir", dir}
	first := startServer(t, args...)
	first.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	var before statsBody
	getJSON(t, first.URL+"/api/stats", &before)
	if before.Total != 40 {
		t.Fatalf("stats before restart: total %d, want 40", before.Total)
	}
	first.Stop()

	second := startServer(t, args...)
	c := startClients(t, second.URL, "--transports", "websocket")
	evs := c.waitUntil("a backlog", 30*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "backlog") == 1 })
	if got := received(evs)[0]; strings.Join(got, ",") != strings.Join(ids[35:], ",") {
		t.Errorf("backlog after restart = %v, want %v", got, ids[35:])
	}
	since := startClients(t, second.URL, "--transports", "polling", "--since", ids[9])
	evs = since.waitUntil("a backlog", 30*time.Second, func(evs []clientEvent) bool { return countEvents(evs, "backlog") == 1 })
	if got := received(evs)[0]; strings.Join(got, ",") != strings.Join(ids[10:], ",") {
		t.Errorf("since after restart = %d posts, want the %d after %s", len(got), len(ids[10:]), ids[9])
	}
	second.waitHealth(t, "the repeated replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	time.Sleep(300 * time.Millisecond)
	if n := countEvents(c.snapshot(), "tweet"); n != 0 {
		t.Errorf("the replay repeated stored posts and %d were broadcast again", n)
	}
	h := second.health(t)
	if src := h["source"].(map[string]any); src["duplicates"] != float64(40) {
		t.Errorf("/healthz source = %v, want 40 duplicates dropped", src)
	}
	var after statsBody
	getJSON(t, second.URL+"/api/stats", &after)
	if after.Total != 40 || after.Authors != before.Authors {
		t.Errorf("stats after restart: %d posts by %d authors, want %d by %d", after.Total, after.Authors, before.Total, before.Authors)
	}
	if got := storedIDs(t, second.URL); len(got) != 40 {
		t.Errorf("/api/tweets lists %d posts after restart, want 40", len(got))
	}
}

// The statistics of a fixture, computed here by plain counting, are what
// the API, the CLI and the stats page show. One server stores the fixture;
// the subtests read it in turn, the CLI's after the server stopped (the
// embedded store has one process at a time).
func TestStatsAgreeAcrossAPICLIAndPage(t *testing.T) {
	t.Parallel()
	fx := newStatsFixture()
	dataDir := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, "--source", "replay", "--replay-file", replayFile(t, fx.lines), "--replay-rate", "0", "--event", "stats-fixture", "--data-dir", dataDir)
	srv.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })

	t.Run("API", func(t *testing.T) {
		var api statsBody
		if code := getJSON(t, srv.URL+"/api/stats?event=stats-fixture", &api); code != 200 {
			t.Fatalf("/api/stats: %d", code)
		}
		fx.check(t, "API", api)
	})

	t.Run("page", func(t *testing.T) {
		page := exec.Command("node", filepath.Join(nodeModules(t), "stats-check.mjs"), "--url", srv.URL+"/stats")
		out, err := page.Output()
		if err != nil {
			t.Fatalf("stats-check: %v\n%s", err, out)
		}
		var shown struct {
			Total, Authors, Retweets, Hashtags string
			TimelineBars                       int
			PageErrors                         []string
		}
		_ = json.Unmarshal(out, &shown)
		share := fmt.Sprintf("%d%%", fx.retweets*100/fx.total)
		if shown.Total != fmt.Sprint(fx.total) || shown.Authors != fmt.Sprint(len(fx.authors)) || shown.Retweets != share {
			t.Errorf("page shows total=%q authors=%q retweets=%q, want %d, %d, %s", shown.Total, shown.Authors, shown.Retweets, fx.total, len(fx.authors), share)
		}
		for tag, n := range fx.tags {
			if !strings.Contains(shown.Hashtags, fmt.Sprintf("#%s%d", tag, n)) {
				t.Errorf("page's hashtag bars %q lack #%s with %d", shown.Hashtags, tag, n)
			}
		}
		if shown.TimelineBars != len(fx.perMinute) || len(shown.PageErrors) > 0 {
			t.Errorf("page timeline has %d bars, want %d; page errors %v", shown.TimelineBars, len(fx.perMinute), shown.PageErrors)
		}
	})

	srv.Stop()
	statsCLI := func(t *testing.T, format string) (out string, err error) {
		code, out, stderr := runCommand(t, time.Minute, "stats", "--event", "stats-fixture", "--format", format, "--data-dir", dataDir)
		if code != 0 {
			return out, fmt.Errorf("exit %d: %s", code, stderr)
		}
		return out, nil
	}

	t.Run("CLI json", func(t *testing.T) {
		out, err := statsCLI(t, "json")
		if err != nil {
			t.Fatalf("tweetwire stats: %v\n%s", err, out)
		}
		var fromCLI statsBody
		if err := json.Unmarshal([]byte(out), &fromCLI); err != nil {
			t.Fatalf("tweetwire stats --format json printed %q: %v", out, err)
		}
		fx.check(t, "CLI", fromCLI)
	})

	for _, format := range []string{"text", "csv"} {
		t.Run("CLI "+format, func(t *testing.T) {
			out, err := statsCLI(t, format)
			if err != nil || !strings.Contains(out, "author0") || !strings.Contains(out, fmt.Sprint(fx.total)) {
				t.Errorf("stats --format %s: %v\n%s", format, err, out)
			}
		})
	}
}

// statsFixture is 60 replay lines (9 authors, 3 hashtags, every fourth a
// retweet, 7 a minute) and their statistics, counted here.
type statsFixture struct {
	lines     []string
	total     int64
	authors   map[string]int64 // posts per author
	tags      map[string]int64 // posts per hashtag, lower case
	perMinute map[int]int64
	retweets  int64
	peak      int64 // the busiest minute's posts
}

func newStatsFixture() statsFixture {
	type row struct {
		user, tag string
		rt        bool
		minute    int
	}
	var rows []row
	for i := range 60 {
		rows = append(rows, row{user: fmt.Sprintf("author%d", i%9), tag: []string{"goconf", "golang", "gophers"}[i%5%3], rt: i%4 == 0, minute: i / 7})
	}
	fx := statsFixture{total: int64(len(rows)), authors: map[string]int64{}, tags: map[string]int64{}, perMinute: map[int]int64{}}
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for i, f := range rows {
		st := map[string]any{
			"id_str": fmt.Sprint(5000 + i), "id": 5000 + i, "lang": "en",
			"text":       fmt.Sprintf("post %d #%s", i, f.tag),
			"created_at": base.Add(time.Duration(f.minute)*time.Minute + time.Duration(i)*time.Second).Format(time.RubyDate),
			"user":       map[string]any{"screen_name": f.user, "name": f.user},
			"entities":   map[string]any{"hashtags": []map[string]any{{"text": strings.ToUpper(f.tag[:1]) + f.tag[1:]}}},
		}
		if f.rt {
			orig := map[string]any{"id_str": fmt.Sprint(9000 + i), "text": "original #" + f.tag, "created_at": base.Format(time.RubyDate),
				"user":     map[string]any{"screen_name": "orig", "name": "Orig"},
				"entities": map[string]any{"hashtags": []map[string]any{{"text": f.tag}}}}
			st["retweeted_status"] = orig
		}
		b, _ := json.Marshal(st)
		fx.lines = append(fx.lines, string(b))
		// Expected, by counting.
		fx.authors[f.user]++
		fx.tags[f.tag]++
		fx.perMinute[f.minute]++
		if f.rt {
			fx.retweets++
		}
	}
	for _, n := range fx.perMinute {
		fx.peak = max(fx.peak, n)
	}
	return fx
}

// check compares statistics read from where with the counted ones.
func (fx statsFixture) check(t *testing.T, where string, s statsBody) {
	t.Helper()
	if s.Total != fx.total || s.Authors != int64(len(fx.authors)) || s.Retweets != fx.retweets {
		t.Errorf("%s: total=%d authors=%d retweets=%d, want %d, %d, %d", where, s.Total, s.Authors, s.Retweets, fx.total, len(fx.authors), fx.retweets)
	}
	if s.Peak.Count != fx.peak || len(s.Timeline) != len(fx.perMinute) {
		t.Errorf("%s: peak=%d over %d minutes, want %d over %d", where, s.Peak.Count, len(s.Timeline), fx.peak, len(fx.perMinute))
	}
	for _, h := range s.TopHashtags {
		if fx.tags[h.Key] != h.Count {
			t.Errorf("%s: #%s counted %d, want %d", where, h.Key, h.Count, fx.tags[h.Key])
		}
	}
	if len(s.TopHashtags) != len(fx.tags) {
		t.Errorf("%s: %d hashtags, want %d", where, len(s.TopHashtags), len(fx.tags))
	}
	for i, a := range s.TopAuthors {
		if fx.authors[a.User] != a.Count || (i > 0 && a.Count > s.TopAuthors[i-1].Count) {
			t.Errorf("%s: top author %d is %s with %d (want %d, most first)", where, i, a.User, a.Count, fx.authors[a.User])
		}
	}
}

// Duplicate lines in the input are stored once and broadcast once.
func TestDuplicatesStoredAndBroadcastOnce(t *testing.T) {
	t.Parallel()
	file, ids := writeReplay(t, 0, 30)
	body, _ := os.ReadFile(file)
	lines := strings.SplitAfter(string(body), "\n")
	twice := strings.Join(lines[:15], "") + strings.Join(lines, "") // posts 0..14 appear twice
	_ = os.WriteFile(file, []byte(twice), 0o644)
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "30", "--backlog", "100")
	c := startClients(t, srv.URL, "--transports", "websocket")
	srv.waitHealth(t, "the replay finished", func(h map[string]any) bool { return sourceState(h) == "finished" })
	time.Sleep(300 * time.Millisecond)
	if got := received(c.snapshot())[0]; strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("client got %d posts, want the %d distinct ones once each in order", len(got), len(ids))
	}
	stored := storedIDs(t, srv.URL)
	slices.Reverse(stored)
	if strings.Join(stored, ",") != strings.Join(ids, ",") {
		t.Errorf("stored %d posts, want the %d distinct ones", len(stored), len(ids))
	}
	var bad map[string]string
	if code := getJSON(t, srv.URL+"/api/tweets?limit=lots", &bad); code != 400 || bad["error"] == "" {
		t.Errorf("/api/tweets?limit=lots = %d %v, want 400 with a message", code, bad)
	}
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// database is the embedded store on its own, as `tweetwire db` serves it.
type database struct {
	srv  *embedded.Server
	stop sync.Once
}

// startDB serves the embedded store on addr with its files under
// <dir>/db, as `tweetwire db --addr addr --data-dir dir` does, until Stop
// or the end of the test.
func startDB(t *testing.T, addr, dir string) *database {
	t.Helper()
	srv, err := embedded.Start(embedded.Config{Dir: filepath.Join(dir, "db"), Addr: addr})
	if err != nil {
		t.Fatalf("embedded store on %s: %v", addr, err)
	}
	d := &database{srv: srv}
	t.Cleanup(d.Stop)
	return d
}

// Stop takes the database away from under the servers using it.
func (d *database) Stop() { d.stop.Do(func() { _ = d.srv.Close() }) }

// The database goes away mid-stream and comes back: clients get every post
// at once and once, and every post ends up stored exactly once.
func TestDatabaseOutageLosesNothing(t *testing.T) {
	t.Parallel()
	dbAddr, dbDir := freePort(t), t.TempDir()
	db := startDB(t, dbAddr, dbDir)
	file, ids := writeReplay(t, 0, 160)
	srv := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "20", "--backlog", "1000",
		"--mongo-uri", "mongodb://"+dbAddr+"/")
	c := startClients(t, srv.URL, "--transports", "websocket")
	c.waitUntil("the first 20 posts", 30*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= 20 })
	db.Stop()
	srv.waitHealth(t, "writes spooling", func(h map[string]any) bool {
		w := h["store"].(map[string]any)["writes"].(map[string]any)
		return w["state"] == "spooling" && w["spooled"].(float64) > 5
	})
	// While the database is down, posts keep reaching clients.
	n := len(received(c.snapshot())[0])
	c.waitUntil("posts while the database is down", 20*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= n+10 })
	startDB(t, dbAddr, dbDir)
	srv.waitHealth(t, "the replay finished and the spool drained", func(h map[string]any) bool {
		w := h["store"].(map[string]any)["writes"].(map[string]any)
		return sourceState(h) == "finished" && w["state"] == "ok" && w["spooled"] == float64(0)
	})
	time.Sleep(300 * time.Millisecond)
	if got := received(c.snapshot())[0]; strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("client got %d posts, want all %d once each in order", len(got), len(ids))
	}
	stored := storedIDs(t, srv.URL)
	slices.Reverse(stored)
	if strings.Join(stored, ",") != strings.Join(ids, ",") {
		t.Errorf("stored %d posts (first difference at %d), want all %d exactly once", len(stored), firstDiff(stored, ids), len(ids))
	}
}
