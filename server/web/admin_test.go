package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/moderation"
	"github.com/tweetwire/tweetwire/server/store"
	"github.com/tweetwire/tweetwire/server/store/embedded"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/web"
)

var shared *embedded.Server

func TestMain(m *testing.M) {
	srv, stop, err := embedded.StartTemp("tweetwire-web-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = srv
	code := m.Run()
	stop()
	os.Exit(code)
}

const adminToken = "s3cret-token"

// clock is a settable clock for the lockout window.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type adminFixture struct {
	url   string
	hub   *hub.Hub
	clock *clock
	db    *store.DB
}

var adminSeq int

// adminServer serves the API with moderation on a fresh database holding
// posts from around the world.
func adminServer(t *testing.T) adminFixture {
	t.Helper()
	ctx := context.Background()
	adminSeq++
	db, err := store.Open(ctx, store.Config{URI: shared.URI(), Database: fmt.Sprintf("web_admin_%d", adminSeq)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	if _, err := db.StartEvent(ctx, "conf", nil, t0); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"Hello 👋 #GoConf", "مرحبا بالجميع", "こんにちは <script>alert(1)</script>", "Ünïcödé café"} {
		p := tweet.Tweet{ID: fmt.Sprintf("twitter:%d", 100+i), Source: "twitter", User: fmt.Sprintf("user%d", i), Text: text, CreatedAt: t0.Add(time.Duration(i) * time.Second), Hashtags: []string{}}
		if err := db.Save(ctx, "conf", p); err != nil {
			t.Fatal(err)
		}
	}
	h := hub.New(hub.Config{})
	mod := moderation.New(moderation.Config{Store: db, Posts: db, Event: "conf", Broker: h})
	c := &clock{now: t0}
	srv := serve(t, web.APIConfig{Store: moderation.Filtered{Store: db, Moderation: mod}, Event: "conf", AdminToken: adminToken, Moderation: mod, Now: c.Now})
	return adminFixture{url: srv.URL, hub: h, clock: c, db: db}
}

// call sends an admin request; token "" sends no Authorization.
func call(t *testing.T, method, u, token, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out
}

func TestAdminNeedsTheToken(t *testing.T) {
	f := adminServer(t)
	routes := [][2]string{
		{"GET", "/api/admin/posts"}, {"GET", "/api/admin/hidden"}, {"GET", "/api/admin/queue"}, {"GET", "/api/admin/blocks"},
		{"POST", "/api/admin/blocks"}, {"DELETE", "/api/admin/blocks/x"}, {"GET", "/api/admin/settings"}, {"PUT", "/api/admin/settings"},
		{"GET", "/api/admin/audit"}, {"POST", "/api/admin/posts/twitter:100/hide"}, {"POST", "/api/admin/queue/twitter:100/approve"},
	}
	for _, rt := range routes {
		if code, body := call(t, rt[0], f.url+rt[1], "", ""); code != http.StatusUnauthorized || !strings.Contains(fmt.Sprint(body["error"]), "admin token") {
			t.Errorf("%s %s without a token: %d %v", rt[0], rt[1], code, body)
		}
	}
	// Another site's page, and the extensions: they read the feed, they
	// never act, even with the token.
	for _, origin := range []string{"https://evil.example", "moz-extension://0f3c8e1a-7b2d-4c5e-9a1f-2d3e4f5a6b7c", web.ExtensionOrigin} {
		if code, _ := call(t, "POST", f.url+"/api/admin/posts/twitter:100/hide", adminToken, "", "Origin", origin); code != http.StatusForbidden {
			t.Errorf("from %s: %d, want 403", origin, code)
		}
	}
	if !f.hubVisible(t, "twitter:100") {
		t.Fatal("a refused request hid the post")
	}
}

func (f adminFixture) hubVisible(t *testing.T, id string) bool {
	var page struct {
		Tweets []tweet.Tweet `json:"tweets"`
	}
	get(t, f.url+"/api/tweets?limit=50", &page)
	for _, p := range page.Tweets {
		if p.ID == id {
			return true
		}
	}
	return false
}

// Ten wrong tokens from one address lock it out for a minute, the right
// token included; then it may try again.
func TestAdminWrongTokensAreRateLimited(t *testing.T) {
	f := adminServer(t)
	for i := range 10 {
		if code, _ := call(t, "GET", f.url+"/api/admin/settings", fmt.Sprintf("guess-%d", i), ""); code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d, want 401", i, code)
		}
	}
	code, body := call(t, "GET", f.url+"/api/admin/settings", adminToken, "")
	if code != http.StatusTooManyRequests || !strings.Contains(fmt.Sprint(body["error"]), "wait a minute") {
		t.Errorf("after 10 wrong tokens: %d %v, want 429", code, body)
	}
	f.clock.add(61 * time.Second)
	if code, _ := call(t, "GET", f.url+"/api/admin/settings", adminToken, ""); code != http.StatusOK {
		t.Errorf("a minute later with the right token: %d", code)
	}
	// The end of the event shares the guard.
	if code := postEnd(t, f.url, "", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Errorf("ending with a wrong token: %d", code)
	}
}

func TestAdminHideAndUnhide(t *testing.T) {
	f := adminServer(t)
	client := f.hub.Subscribe("", nil, nil)
	id := "twitter:102"
	code, item := call(t, "POST", f.url+"/api/admin/posts/"+url.PathEscape(id)+"/hide", adminToken, "", "X-Admin-Session", "tab-7f3a")
	if code != http.StatusOK || item["state"] != "hidden" || item["by"] != "tab-7f3a" || item["pinned"] != false {
		t.Fatalf("hide: %d %v", code, item)
	}
	if post, _ := item["post"].(map[string]any); post["text"] != "こんにちは <script>alert(1)</script>" || post["created_at"] != "2024-05-17T09:00:02Z" {
		t.Errorf("the post in the answer = %v", post)
	}
	if msgs, _ := client.Take(nil); len(msgs) != 1 || msgs[0].Kind != hub.KindDelete || string(msgs[0].Data) != `{"id":"twitter:102"}` {
		t.Errorf("connected clients got %v", msgs)
	}
	if f.hubVisible(t, id) {
		t.Error("/api/tweets still lists the hidden post")
	}
	var hidden struct {
		Posts []moderation.Item `json:"posts"`
	}
	if code, _ := call(t, "GET", f.url+"/api/admin/hidden", adminToken, ""); code != http.StatusOK {
		t.Errorf("hidden: %d", code)
	}
	req, _ := http.NewRequest("GET", f.url+"/api/admin/hidden", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(res.Body).Decode(&hidden)
	res.Body.Close()
	if len(hidden.Posts) != 1 || hidden.Posts[0].Post.ID != id || hidden.Posts[0].By != "tab-7f3a" {
		t.Errorf("hidden list = %+v", hidden.Posts)
	}
	if code, item := call(t, "POST", f.url+"/api/admin/posts/twitter%3A102/unhide", adminToken, ""); code != http.StatusOK || item["state"] != "shown" {
		t.Errorf("unhide: %d %v", code, item)
	}
	if msgs, _ := client.Take(nil); len(msgs) != 1 || msgs[0].Kind != hub.KindTweet || msgs[0].ID != id {
		t.Errorf("after unhide clients got %v", msgs)
	}
	if !f.hubVisible(t, id) {
		t.Error("/api/tweets does not list the unhidden post")
	}
	_, audit := call(t, "GET", f.url+"/api/admin/audit?limit=1", adminToken, "")
	entries, _ := audit["entries"].([]any)
	if len(entries) != 1 || entries[0].(map[string]any)["action"] != "unhide" || entries[0].(map[string]any)["by"] != "api" {
		t.Errorf("audit = %v", audit)
	}
}

func TestAdminBadInput(t *testing.T) {
	f := adminServer(t)
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		want                     int
	}{
		{"unknown post", "POST", "/api/admin/posts/twitter:999/hide", "", nil, 404},
		{"unknown action", "POST", "/api/admin/posts/twitter:100/delete", "", nil, 404},
		{"unknown block", "DELETE", "/api/admin/blocks/nope", "", nil, 404},
		{"not json", "POST", "/api/admin/blocks", "kind=word", nil, 400},
		{"unknown field", "POST", "/api/admin/blocks", `{"kind":"word","value":"x","regex":true}`, nil, 400},
		{"wrong kind", "POST", "/api/admin/blocks", `{"kind":"regex","value":"x"}`, nil, 400},
		{"empty word", "POST", "/api/admin/blocks", `{"kind":"word","value":"  "}`, nil, 400},
		{"bad author", "POST", "/api/admin/blocks", `{"kind":"author","value":"<b>jack</b>"}`, nil, 400},
		{"wrong type", "PUT", "/api/admin/settings", `{"premoderation":"yes"}`, nil, 400},
		{"bad allow", "PUT", "/api/admin/settings", `{"allow":["no colon"]}`, nil, 400},
		{"two objects", "PUT", "/api/admin/settings", `{} {}`, nil, 400},
		{"bad limit", "GET", "/api/admin/posts?limit=0", "", nil, 400},
		{"huge limit", "GET", "/api/admin/audit?limit=100000", "", nil, 400},
		{"bad session", "GET", "/api/admin/settings", "", []string{"X-Admin-Session", "<img src=x>"}, 400},
		{"unhide a shown post", "POST", "/api/admin/posts/twitter:100/unhide", "", nil, 400},
		{"approve a shown post", "POST", "/api/admin/queue/twitter:100/approve", "", nil, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := call(t, c.method, f.url+c.path, adminToken, c.body, c.hdr...)
			msg := fmt.Sprint(body["error"])
			if code != c.want || msg == "" || strings.Contains(msg, "<") || strings.Count(msg, ". ") > 0 {
				t.Errorf("%d %q, want %d and one sentence that echoes nothing", code, msg, c.want)
			}
		})
	}
}

func TestAdminBlocksAndSettings(t *testing.T) {
	f := adminServer(t)
	code, b := call(t, "POST", f.url+"/api/admin/blocks", adminToken, `{"kind":"author","value":"twitter:@USER1"}`)
	if code != http.StatusCreated || b["id"] == "" || b["value"] != "twitter:user1" || b["kind"] != "author" {
		t.Fatalf("block author: %d %v", code, b)
	}
	if f.hubVisible(t, "twitter:101") {
		t.Error("the blocked author's post is still listed")
	}
	code, w := call(t, "POST", f.url+"/api/admin/blocks", adminToken, `{"kind":"word","value":"#GoConf"}`)
	if code != http.StatusCreated || w["value"] != "#GoConf" {
		t.Fatalf("block word: %d %v", code, w)
	}
	_, list := call(t, "GET", f.url+"/api/admin/blocks", adminToken, "")
	if blocks, _ := list["blocks"].([]any); len(blocks) != 2 {
		t.Errorf("blocks = %v", list)
	}
	if code, _ := call(t, "DELETE", f.url+"/api/admin/blocks/"+fmt.Sprint(b["id"]), adminToken, ""); code != http.StatusNoContent {
		t.Errorf("delete block: %d", code)
	}
	if !f.hubVisible(t, "twitter:101") {
		t.Error("deleting the author block did not bring their post back")
	}
	code, s := call(t, "PUT", f.url+"/api/admin/settings", adminToken, `{"premoderation":true,"allow":["bluesky:ada.example.com"]}`)
	if code != http.StatusOK || s["premoderation"] != true || s["hide_reposts"] != false || fmt.Sprint(s["allow"]) != "[bluesky:ada.example.com]" {
		t.Errorf("put settings: %d %v", code, s)
	}
	code, s = call(t, "PUT", f.url+"/api/admin/settings", adminToken, `{"hide_reposts":true}`)
	if code != http.StatusOK || s["premoderation"] != true || s["hide_reposts"] != true || fmt.Sprint(s["allow"]) != "[bluesky:ada.example.com]" {
		t.Errorf("a field left out must keep its value: %d %v", code, s)
	}
}

// GET /admin serves the console page with the pages' security headers.
func TestAdminPage(t *testing.T) {
	mux := http.NewServeMux()
	web.RegisterAPI(mux, web.APIConfig{Store: fixture(t, 1)})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers = %v", res.Header)
	}
	if _, err := os.Stat("assets/admin.html"); err == nil {
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET /admin: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
	} else if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /admin without the page: %d, want 404", res.StatusCode)
	}
}

// A decision while the database is down is refused with 503 and changes
// nothing on the walls.
func TestAdminRefusesWhileTheDatabaseIsDown(t *testing.T) {
	f := adminServer(t)
	if code, _ := call(t, "POST", f.url+"/api/admin/posts/twitter:100/hide", adminToken, ""); code != http.StatusOK {
		t.Fatalf("hide: %d", code)
	}
	client := f.hub.Subscribe("", nil, nil)
	_ = f.db.Close(context.Background())
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/admin/posts/twitter:100/unhide", ""},
		{"POST", "/api/admin/posts/twitter:101/hide", ""},
		{"POST", "/api/admin/blocks", `{"kind":"word","value":"ça"}`},
		{"PUT", "/api/admin/settings", `{"premoderation":true}`},
	} {
		code, body := call(t, c.method, f.url+c.path, adminToken, c.body)
		if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(body["error"]), "database") {
			t.Errorf("%s %s with the database down: %d %v, want 503 naming the database", c.method, c.path, code, body)
		}
	}
	if msgs, _ := client.Take(nil); len(msgs) != 0 {
		t.Errorf("clients got %d messages for refused decisions", len(msgs))
	}
}
