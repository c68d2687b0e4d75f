package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

const e2eToken = "e2e-admin-token-with-enough-entropy-0123456789"

// admin sends a moderation request with the token and decodes the answer.
func admin(t *testing.T, base, method, path, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("X-Admin-Session", "e2e-tab")
	res, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// publicIDs are the ids /api/tweets lists.
func publicIDs(t *testing.T, base string) []string {
	t.Helper()
	var page struct {
		Tweets []post `json:"tweets"`
	}
	res, err := httpc.Get(base + "/api/tweets?limit=200")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_ = json.NewDecoder(res.Body).Decode(&page)
	var out []string
	for _, p := range page.Tweets {
		out = append(out, p.ID)
	}
	return out
}

// deleted lists the ids of the delete events, per client.
func deleted(evs []clientEvent) map[int][]string {
	out := map[int][]string{}
	for _, e := range evs {
		if e.Event == "delete" {
			var d struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(e.Data, &d)
			out[e.Client] = append(out[e.Client], d.ID)
		}
	}
	return out
}

// lastPins is the ids of the last pins event a client got, nil if none.
func lastPins(evs []clientEvent, client int) []string {
	var out []string
	for _, e := range evs {
		if e.Event == "pins" && e.Client == client {
			var ps []post
			_ = json.Unmarshal(e.Data, &ps)
			out = []string{}
			for _, p := range ps {
				out = append(out, p.ID)
			}
		}
	}
	return out
}

// replayLine is one v1.1 status line.
func replayLine(id int, user, text string) string {
	b, _ := json.Marshal(map[string]any{
		"id_str": fmt.Sprint(id), "id": id, "text": text, "lang": "en",
		"created_at": time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC).Add(time.Duration(id%1000) * time.Second).Format(time.RubyDate),
		"user":       map[string]any{"screen_name": user, "name": user, "profile_image_url_https": "https://example.invalid/a.png"},
		"entities":   map[string]any{"hashtags": []any{}},
	})
	return string(b)
}

// repostLine is a v1.1 retweet of the status in orig.
func repostLine(id int, user, orig string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(replayLine(id, user, "RT")), &m)
	var o map[string]any
	_ = json.Unmarshal([]byte(orig), &o)
	m["retweeted_status"] = o
	b, _ := json.Marshal(m)
	return string(b)
}

// Hiding, pinning and blocking reach connected clients as delete and
// pins events; with "hide reposts" on, reposts never do; after a restart on the same data directory the backlog,
// /api/tweets and new clients still follow every decision, and posts
// matching a block never reach a client.
func TestModerationReachesClientsAndSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file, ids := writeReplay(t, 0, 10)
	args := []string{"--source", "replay", "--replay-rate", "0", "--backlog", "100", "--data-dir", dir, "--admin-token", e2eToken}
	srv := startServer(t, append([]string{"--replay-file", file}, args...)...)
	c := startClients(t, srv.URL, "--transports", "websocket")
	c.waitUntil("the 10 posts", 30*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= 10 })
	waitUntil(t, "the 10 posts stored", func() bool { return len(publicIDs(t, srv.URL)) >= 10 }, srv)

	if code := admin(t, srv.URL, "POST", "/api/admin/posts/"+url.PathEscape(ids[3])+"/hide", "", nil); code != http.StatusOK {
		t.Fatalf("hide: %d", code)
	}
	c.waitUntil("the delete of the hidden post", 10*time.Second, func(evs []clientEvent) bool { return slices.Contains(deleted(evs)[0], ids[3]) })
	if slices.Contains(publicIDs(t, srv.URL), ids[3]) {
		t.Error("/api/tweets lists the hidden post")
	}
	if code := admin(t, srv.URL, "POST", "/api/admin/posts/"+url.PathEscape(ids[5])+"/pin", "", nil); code != http.StatusOK {
		t.Fatalf("pin: %d", code)
	}
	c.waitUntil("the pins event", 10*time.Second, func(evs []clientEvent) bool { return fmt.Sprint(lastPins(evs, 0)) == fmt.Sprint([]string{ids[5]}) })
	// user2 wrote posts 2 and 9: blocking them hides both.
	if code := admin(t, srv.URL, "POST", "/api/admin/blocks", `{"kind":"author","value":"twitter:User2"}`, nil); code != http.StatusCreated {
		t.Fatalf("block author: %d", code)
	}
	if code := admin(t, srv.URL, "POST", "/api/admin/blocks", `{"kind":"word","value":"spoiler"}`, nil); code != http.StatusCreated {
		t.Fatalf("block word: %d", code)
	}
	if code := admin(t, srv.URL, "PUT", "/api/admin/settings", `{"hide_reposts":true}`, nil); code != http.StatusOK {
		t.Fatalf("hide reposts: %d", code)
	}
	c.waitUntil("the deletes of the blocked author's posts", 10*time.Second, func(evs []clientEvent) bool {
		d := deleted(evs)[0]
		return slices.Contains(d, ids[2]) && slices.Contains(d, ids[9])
	})
	c.Stop()
	srv.Stop()

	// The source sends everything again, then a spoiler, a post by the
	// blocked author, and a last post that shows the others were decided.
	file2, _ := writeReplay(t, 0, 10,
		replayLine(2000001, "fan", "SPOILER: the keynote ends with 🤐 #GoConf"),
		replayLine(2000002, "User2", "مرحبا again, <b>still</b> here"),
		repostLine(2000004, "echo", replayLine(2000005, "orig", "Le café est prêt ☕")),
		replayLine(2000003, "closer", "Merci à tous — 東京で会いましょう 🎌"),
	)
	srv2 := startServer(t, append([]string{"--replay-file", file2}, args...)...)
	c2 := startClients(t, srv2.URL, "--transports", "websocket")
	evs := c2.waitUntil("the last post", 30*time.Second, func(evs []clientEvent) bool {
		return slices.Contains(received(evs)[0], "twitter:2000003") && lastPins(evs, 0) != nil
	})
	got := received(evs)[0]
	for _, id := range []string{ids[3], ids[2], ids[9], "twitter:2000001", "twitter:2000002", "twitter:2000004"} {
		if slices.Contains(got, id) {
			t.Errorf("a client of the restarted server got %s", id)
		}
		if slices.Contains(publicIDs(t, srv2.URL), id) {
			t.Errorf("/api/tweets of the restarted server lists %s", id)
		}
	}
	if len(got) != 8 {
		t.Errorf("the client got %v, want the 7 shown posts and the last one", got)
	}
	backlogAt, pinsAt := -1, -1
	for i, e := range evs {
		if e.Event == "backlog" && backlogAt < 0 {
			backlogAt = i
		}
		if e.Event == "pins" && pinsAt < 0 {
			pinsAt = i
		}
	}
	if pinsAt < backlogAt || fmt.Sprint(lastPins(evs, 0)) != fmt.Sprint([]string{ids[5]}) {
		t.Errorf("a new client's pins (event %d, after backlog %d) = %v", pinsAt, backlogAt, lastPins(evs, 0))
	}
	var posts struct {
		Posts []struct {
			Post   post   `json:"post"`
			State  string `json:"state"`
			Reason string `json:"reason"`
		} `json:"posts"`
	}
	admin(t, srv2.URL, "GET", "/api/admin/posts?limit=50", "", &posts)
	states := map[string]string{}
	for _, p := range posts.Posts {
		states[p.Post.ID] = p.State + " " + p.Reason
	}
	if states["twitter:2000001"] != "blocked word blocked: spoiler" || states["twitter:2000002"] != "blocked author blocked: twitter:user2" || states[ids[3]] != "hidden " || states["twitter:2000004"] != "blocked reposts are hidden" {
		t.Errorf("moderation states = %v", states)
	}
}

// Two nodes on one Redis and one database: an action on the node that
// does not ingest reaches the clients of both at once, a switch reaches
// the node that ingests, approvals go out in order, and a node that joins
// later starts with the current state.
func TestModerationAcrossNodes(t *testing.T) {
	t.Parallel()
	redisAddr := freePort(t)
	startRedis(t, redisAddr)
	dbAddr := freePort(t)
	startDB(t, dbAddr, t.TempDir())
	file, _ := writeReplay(t, 0, 300)
	cluster := func(node string) []string {
		return []string{"--source", "replay", "--replay-file", file, "--replay-rate", "20", "--backlog", "1000", "--admin-token", e2eToken,
			"--redis-url", "redis://" + redisAddr + "/0", "--mongo-uri", "mongodb://" + dbAddr + "/", "--node-id", node}
	}
	nodes := []*server{startServer(t, cluster("a")...), startServer(t, cluster("b")...)}
	holder, other := -1, -1
	deadline := time.Now().Add(20 * time.Second)
	for holder < 0 {
		if time.Now().After(deadline) {
			t.Fatal("no node took the lease")
		}
		for i, n := range nodes {
			if isHolder(n.health(t)) {
				holder, other = i, 1-i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cs := []*clients{startClients(t, nodes[0].URL, "--transports", "websocket"), startClients(t, nodes[1].URL, "--transports", "websocket")}
	for _, c := range cs {
		c.waitUntil("10 posts", 30*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= 10 })
	}
	target := received(cs[holder].snapshot())[0][5]
	waitUntil(t, target+" stored", func() bool { return slices.Contains(publicIDs(t, nodes[other].URL), target) }, nodes...)
	start := time.Now()
	if code := admin(t, nodes[other].URL, "POST", "/api/admin/posts/"+url.PathEscape(target)+"/hide", "", nil); code != http.StatusOK {
		t.Fatalf("hide on the other node: %d", code)
	}
	for i, c := range cs {
		c.waitUntil("the delete", 5*time.Second, func(evs []clientEvent) bool { return slices.Contains(deleted(evs)[0], target) })
		t.Logf("node %d's client got the delete %v after the request", i, time.Since(start))
	}

	// Pre-moderation switched on where the source is not.
	if code := admin(t, nodes[other].URL, "PUT", "/api/admin/settings", `{"premoderation":true}`, nil); code != http.StatusOK {
		t.Fatal("settings")
	}
	start = time.Now()
	for {
		var s struct {
			Premoderation bool `json:"premoderation"`
		}
		admin(t, nodes[holder].URL, "GET", "/api/admin/settings", "", &s)
		if s.Premoderation {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("the ingesting node never learnt of the switch")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the ingesting node had the switch %v after the request", time.Since(start))
	type queued struct {
		Posts []struct {
			Post post `json:"post"`
		} `json:"posts"`
	}
	var q queued
	waitUntil(t, "three posts in the approval queue", func() bool {
		admin(t, nodes[other].URL, "GET", "/api/admin/queue", "", &q)
		return len(q.Posts) >= 3
	}, nodes...)
	first, second := q.Posts[1].Post.ID, q.Posts[0].Post.ID
	for _, id := range []string{first, second} {
		if code := admin(t, nodes[other].URL, "POST", "/api/admin/queue/"+url.PathEscape(id)+"/approve", "", nil); code != http.StatusOK {
			t.Fatalf("approve %s: %d", id, code)
		}
	}
	for i, c := range cs {
		evs := c.waitUntil("the approved posts", 5*time.Second, func(evs []clientEvent) bool {
			got := received(evs)[0]
			return slices.Contains(got, first) && slices.Contains(got, second)
		})
		got := received(evs)[0]
		if slices.Index(got, first) > slices.Index(got, second) {
			t.Errorf("node %d's client got the approved posts out of order", i)
		}
		for _, p := range q.Posts[2:] {
			if slices.Contains(got, p.Post.ID) {
				t.Errorf("node %d's client got %s, which waits in the queue", i, p.Post.ID)
			}
		}
	}

	late := startServer(t, cluster("c")...)
	var s struct {
		Premoderation bool `json:"premoderation"`
	}
	admin(t, late.URL, "GET", "/api/admin/settings", "", &s)
	if !s.Premoderation {
		t.Error("a node that joins later does not have the switch")
	}
	if slices.Contains(publicIDs(t, late.URL), target) {
		t.Error("a node that joins later lists the hidden post")
	}
}
