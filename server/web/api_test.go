package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
	"github.com/tweetwire/tweetwire/server/web"
)

var t0 = time.Date(2024, 5, 17, 9, 0, 0, 0, time.UTC)

// fixture is a store holding n posts of event "conf" (one a second, ids
// p000...) and three of event "other". The API runs against the in-memory
// store: these tests are about HTTP (parameters, statuses, paging links,
// the cache), and tweettest.TestStore holds the real store to the same
// contract.
func fixture(t *testing.T, n int) *tweettest.Store {
	t.Helper()
	ctx := context.Background()
	db := tweettest.NewStore()
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	if _, err := db.StartEvent(ctx, "other", nil, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartEvent(ctx, "conf", []string{"go"}, t0); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p := tweet.Tweet{ID: fmt.Sprintf("p%03d", i), Source: "demo", User: "u" + fmt.Sprint(i%4), Text: "<img src=x onerror=alert(1)>",
			CreatedAt: t0.Add(time.Duration(i) * time.Second), Hashtags: []string{"go"}}
		if err := db.Save(ctx, "conf", p); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		p := tweet.Tweet{ID: fmt.Sprintf("o%d", i), Source: "demo", User: "x", CreatedAt: t0.Add(-time.Duration(i) * time.Minute)}
		if err := db.Save(ctx, "other", p); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func serve(t *testing.T, cfg web.APIConfig) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	web.RegisterAPI(mux, cfg)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type page struct {
	Tweets []tweet.Tweet `json:"tweets"`
	Next   string        `json:"next"`
	Error  string        `json:"error"`
}

func get(t *testing.T, url string, into any) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if into != nil {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: body is not JSON: %v", url, err)
		}
	}
	return res.StatusCode
}

func TestTweetsParams(t *testing.T) {
	srv := serve(t, web.APIConfig{Store: fixture(t, 210), Event: "conf"})
	tests := []struct {
		name      string
		query     string
		code      int
		n         int    // posts in the page
		first     string // id of the first post
		wantError string // part of the message on 400
	}{
		{name: "default limit", query: "", code: 200, n: 50, first: "p209"},
		{name: "explicit limit", query: "?limit=3", code: 200, n: 3, first: "p209"},
		{name: "the largest limit", query: "?limit=200", code: 200, n: 200, first: "p209"},
		{name: "limit above the largest", query: "?limit=201", code: 400, wantError: "at most 200"},
		{name: "limit twice", query: "?limit=1&limit=2", code: 400, wantError: "once"},
		{name: "before pages", query: "?limit=2&before=p100", code: 200, n: 2, first: "p099"},
		{name: "another event", query: "?event=other", code: 200, n: 3, first: "o0"},
		{name: "unknown event", query: "?event=nope", code: 404, wantError: `no event named "nope"`},
		{name: "unknown event with accents and emoji", query: "?event=" + url.QueryEscape("Café 🎉 <b>"), code: 404, wantError: "no event named"},
		{name: "limit not a number", query: "?limit=ten", code: 400, wantError: "limit"},
		{name: "limit zero", query: "?limit=0", code: 400, wantError: "positive"},
		{name: "limit negative", query: "?limit=-5", code: 400, wantError: "positive"},
		{name: "limit fractional", query: "?limit=2.5", code: 400, wantError: "whole number"},
		{name: "unknown before", query: "?before=nope", code: 400, wantError: "names no stored post"},
		{name: "before twice", query: "?before=p1&before=p2", code: 400, wantError: "once"},
		{name: "before too long", query: "?before=" + strings.Repeat("x", 300), code: 400, wantError: "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p page
			code := get(t, srv.URL+"/api/tweets"+tt.query, &p)
			if code != tt.code {
				t.Fatalf("status %d, want %d (%+v)", code, tt.code, p)
			}
			if tt.code != 200 {
				if !strings.Contains(p.Error, tt.wantError) {
					t.Errorf("error %q does not mention %q", p.Error, tt.wantError)
				}
				return
			}
			if p.Tweets == nil || len(p.Tweets) != tt.n {
				t.Fatalf("%d posts, want %d", len(p.Tweets), tt.n)
			}
			if tt.n > 0 && p.Tweets[0].ID != tt.first {
				t.Errorf("first post %s, want %s", p.Tweets[0].ID, tt.first)
			}
		})
	}
}

func TestTweetsPaging(t *testing.T) {
	srv := serve(t, web.APIConfig{Store: fixture(t, 23), Event: "conf"})
	var ids []string
	url := srv.URL + "/api/tweets?limit=5"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		var p page
		if code := get(t, url, &p); code != 200 {
			t.Fatalf("status %d: %s", code, p.Error)
		}
		for _, tw := range p.Tweets {
			ids = append(ids, tw.ID)
		}
		if p.Next == "" {
			break
		}
		url = srv.URL + "/api/tweets?limit=5&before=" + p.Next
	}
	var want []string
	for i := 22; i >= 0; i-- {
		want = append(want, fmt.Sprintf("p%03d", i))
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("paged through %v, want %v", ids, want)
	}
}

func TestStatsAPI(t *testing.T) {
	db := fixture(t, 10)
	srv := serve(t, web.APIConfig{Store: db, Event: "conf"})
	tests := []struct {
		name  string
		query string
		code  int
		event string
		total int64
	}{
		{name: "current event by default", query: "", code: 200, event: "conf", total: 10},
		{name: "named event", query: "?event=other", code: 200, event: "other", total: 3},
		{name: "unknown event", query: "?event=nope", code: 404},
		{name: "event twice", query: "?event=a&event=b", code: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s struct {
				tweet.Stats
				Error string `json:"error"`
			}
			code := get(t, srv.URL+"/api/stats"+tt.query, &s)
			if code != tt.code {
				t.Fatalf("status %d, want %d (%s)", code, tt.code, s.Error)
			}
			if code == 200 && (s.Event.Name != tt.event || s.Total != tt.total) {
				t.Errorf("stats of %q with %d posts, want %q with %d", s.Event.Name, s.Total, tt.event, tt.total)
			}
			if code != 200 && s.Error == "" {
				t.Error("an error without a message")
			}
		})
	}
}

func TestEventEnd(t *testing.T) {
	db := fixture(t, 1)
	var ended atomic.Value
	now := t0.Add(2 * time.Hour)
	srv := serve(t, web.APIConfig{
		Store: db, Event: "conf", AdminToken: "s3cret",
		Now:   func() time.Time { return now },
		OnEnd: func(ev tweet.Event) { ended.Store(ev) },
	})
	post := func(origin, auth string) int { return postEnd(t, srv.URL, origin, auth) }
	// Fill the stats cache while the event runs.
	var before tweet.Stats
	get(t, srv.URL+"/api/stats", &before)
	if !before.Event.Running() {
		t.Fatal("the event is not running at the start")
	}

	tests := []struct {
		name, origin, auth string
		code               int
	}{
		{name: "cross-site page", origin: "https://evil.example", auth: "Bearer s3cret", code: 403},
		{name: "no token", code: 401},
		{name: "wrong token", auth: "Bearer nope", code: 401},
		{name: "token without Bearer", auth: "s3cret", code: 401},
		{name: "token as a prefix", auth: "Bearer s3cret2", code: 401},
		{name: "right token, same origin", origin: srv.URL, auth: "Bearer s3cret", code: 200},
		{name: "again keeps the first end", auth: "Bearer s3cret", code: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := post(tt.origin, tt.auth); code != tt.code {
				t.Fatalf("status %d, want %d", code, tt.code)
			}
		})
	}
	ev, _ := ended.Load().(tweet.Event)
	if ev.Name != "conf" || !ev.End.Equal(now) {
		t.Fatalf("OnEnd got %+v", ev)
	}
	var after tweet.Stats
	get(t, srv.URL+"/api/stats", &after)
	if after.Event.Running() || !after.Event.End.Equal(now) {
		t.Errorf("stats after the end still show %+v", after.Event)
	}
	var cur tweet.Event
	if code := get(t, srv.URL+"/api/event", &cur); code != 200 || cur.Running() {
		t.Errorf("GET /api/event: %d %+v", code, cur)
	}
	var all []tweet.Event
	if code := get(t, srv.URL+"/api/events", &all); code != 200 || len(all) != 2 || all[0].Name != "conf" {
		t.Errorf("GET /api/events: %d %+v", code, all)
	}
}

// postEnd sends POST /api/event/end with the Origin and Authorization
// given (none when empty) and returns the status.
func postEnd(t *testing.T, base, origin, auth string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/event/end", nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Without an admin token configured nobody may end the event: there is
// no state change without a secret.
func TestEventEndNeedsAConfiguredToken(t *testing.T) {
	var ended atomic.Bool
	srv := serve(t, web.APIConfig{Store: fixture(t, 1), Event: "conf", OnEnd: func(tweet.Event) { ended.Store(true) }})
	for _, auth := range []string{"", "Bearer ", "Bearer undefined"} {
		if code := postEnd(t, srv.URL, "", auth); code != http.StatusUnauthorized {
			t.Errorf("POST /api/event/end with %q and no token configured: %d, want 401", auth, code)
		}
	}
	if ended.Load() {
		t.Error("the event was ended without a secret")
	}
}

func TestDatabaseDown(t *testing.T) {
	db := fixture(t, 1)
	srv := serve(t, web.APIConfig{Store: db, Event: "conf"})
	_ = db.Close(context.Background())
	for _, path := range []string{"/api/tweets", "/api/stats", "/api/event", "/api/events"} {
		var body struct{ Error string }
		if code := get(t, srv.URL+path, &body); code != http.StatusServiceUnavailable || body.Error == "" {
			t.Errorf("GET %s with the database gone: %d %q, want 503 with a message", path, code, body.Error)
		}
	}
}

func TestStatsPage(t *testing.T) {
	srv := serve(t, web.APIConfig{Store: fixture(t, 0), Event: "conf"})
	res, err := http.Get(srv.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /stats: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	html := string(body)
	for _, want := range []string{`<script type="module" src="stats.js"></script>`, `href="stats.css"`, `id="timeline"`} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// The CSP forbids inline code: the page must not need any.
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(html) || strings.Contains(html, "style=") || strings.Contains(html, "<style") {
		t.Error("the page has an inline script or style, which the CSP blocks")
	}
	// The page's script and style are plain assets of the main handler.
	static := httptest.NewServer(web.Handler(web.Config{SocketIO: http.NotFoundHandler()}))
	defer static.Close()
	assets := map[string]string{}
	for _, asset := range []string{"stats.js", "stats.css", "base.css"} {
		res, err := http.Get(static.URL + "/" + asset)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(b) == 0 {
			t.Errorf("GET /%s: %d, %d bytes", asset, res.StatusCode, len(b))
		}
		assets[asset] = string(b)
	}
	if js := assets["stats.js"]; strings.Contains(js, "innerHTML") || strings.Contains(js, "insertAdjacentHTML") || strings.Contains(js, "outerHTML") {
		t.Error("stats.js parses HTML; untrusted text must go in with textContent")
	}
}

// slowStore holds every Recent until release is closed.
type slowStore struct {
	tweet.Store
	started chan struct{}
	release chan struct{}
}

func (s slowStore) Recent(ctx context.Context, event string, limit int, before string) ([]tweet.Tweet, error) {
	s.started <- struct{}{}
	<-s.release
	return s.Store.Recent(ctx, event, limit, before)
}

// Pages read at once are bounded: past MaxReads a request waits ReadWait,
// then gets 503 saying why, instead of piling another scan on the cores.
func TestReadsAreBounded(t *testing.T) {
	db := slowStore{Store: fixture(t, 30), started: make(chan struct{}, 10), release: make(chan struct{})}
	srv := serve(t, web.APIConfig{Store: db, Event: "conf", MaxReads: 2, ReadWait: 300 * time.Millisecond})
	done := make(chan int, 2)
	for range 2 {
		go func() {
			var p page
			done <- get(t, srv.URL+"/api/tweets?limit=5", &p)
		}()
	}
	<-db.started
	<-db.started
	var p page
	if code := get(t, srv.URL+"/api/tweets?limit=5", &p); code != http.StatusServiceUnavailable || !strings.Contains(p.Error, "busy") {
		t.Fatalf("a third read while two run: %d %q, want 503 saying the server is busy", code, p.Error)
	}
	close(db.release)
	for range 2 {
		if code := <-done; code != 200 {
			t.Errorf("a read that had room: %d", code)
		}
	}
	if code := get(t, srv.URL+"/api/tweets?limit=5", &p); code != 200 || len(p.Tweets) != 5 {
		t.Errorf("a read once the others finished: %d with %d posts", code, len(p.Tweets))
	}
}
