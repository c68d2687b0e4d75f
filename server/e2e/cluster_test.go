package e2e

import (
	"fmt"
	"io"
	"net"
	"slices"

	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startRedis runs Debian's redis-server on addr until the test ends.
func startRedis(t *testing.T, addr string) *exec.Cmd {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v (scripts/test installs it: apt-get install redis-server)", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := httpc.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func isHolder(h map[string]any) bool {
	c, _ := h["cluster"].(map[string]any)
	return c["lease_holder"] == true
}

// Three nodes share one Redis and one database: a client on each receives
// every post exactly once; when the node consuming the source dies, another
// takes over and the clients still get everything once.
func TestClusterFanOutAndTakeover(t *testing.T) {
	t.Parallel()
	redisAddr := freePort(t)
	startRedis(t, redisAddr)
	dbAddr := freePort(t)
	startDB(t, dbAddr, t.TempDir())
	file, ids := writeReplay(t, 0, 240)
	var nodes []*server
	var clientsOf []*clients
	for i := range 3 {
		// In child processes: the holder is killed.
		n := startProcess(t, "--source", "replay", "--replay-file", file, "--replay-rate", "24", "--backlog", "1000",
			"--redis-url", "redis://"+redisAddr+"/0", "--mongo-uri", "mongodb://"+dbAddr+"/", "--lease-ttl", "1s", "--node-id", fmt.Sprintf("node%d", i))
		nodes = append(nodes, n)
		clientsOf = append(clientsOf, startClients(t, n.URL, "--transports", "websocket"))
	}
	holder := -1
	deadline := time.Now().Add(20 * time.Second)
	for holder < 0 && time.Now().Before(deadline) {
		for i, n := range nodes {
			if isHolder(n.health(t)) {
				holder = i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if holder < 0 {
		t.Fatal("no node took the lease")
	}
	clientsOf[holder].waitUntil("the first 30 posts", 30*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= 30 })
	if m := metricsText(t, nodes[holder].URL); !strings.Contains(m, "tweetwire_lease_holder 1") || !strings.Contains(m, `tweetwire_posts_ingested_total{source="twitter"}`) {
		t.Errorf("holder's /metrics lacks the lease or ingestion:\n%s", grepMetrics(m))
	}
	// The holder dies without a word.
	nodes[holder].kill()
	start := time.Now()
	for i, n := range nodes {
		if i == holder {
			continue
		}
		c := clientsOf[i]
		func() {
			defer func() {
				if t.Failed() {
					got := map[string]bool{}
					for _, id := range received(c.snapshot())[0] {
						got[id] = true
					}
					var missing []string
					for _, id := range ids {
						if !got[id] {
							missing = append(missing, id)
						}
					}
					t.Logf("node %d missing %v\nholder log:\n%s\nthis node's log:\n%s", i, missing, nodes[holder].logs, n.logs)
				}
			}()
			c.waitUntil("every post after the takeover", 60*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= len(ids) })
		}()
		time.Sleep(300 * time.Millisecond)
		// Once each; the order may differ where a node joined while the
		// first holder was already streaming.
		got := received(c.snapshot())[0]
		sorted := slices.Clone(got)
		slices.Sort(sorted)
		if strings.Join(sorted, ",") != strings.Join(ids, ",") {
			t.Errorf("node %d's client got %d posts, want all %d exactly once", i, len(got), len(ids))
		}
		m := metricsText(t, n.URL)
		if !strings.Contains(m, `tweetwire_clients{transport="websocket"} 1`) || strings.Contains(m, "tweetwire_fanout_latency_seconds_count 0") {
			t.Errorf("node %d /metrics: clients or fan-out not counted:\n%s", i, grepMetrics(m))
		}
	}
	t.Logf("every post delivered %v after the holder died", time.Since(start).Round(time.Millisecond))
	holders := 0
	for i, n := range nodes {
		if i != holder && isHolder(n.health(t)) {
			holders++
		}
	}
	if holders != 1 {
		t.Errorf("%d nodes hold the lease after the takeover, want 1", holders)
	}
}

// Redis stops and comes back: nodes keep serving their own clients, nothing
// crashes, and posts flow to every node again afterwards.
func TestClusterSurvivesRedisRestart(t *testing.T) {
	t.Parallel()
	redisAddr := freePort(t)
	redis := startRedis(t, redisAddr)
	dbAddr := freePort(t)
	startDB(t, dbAddr, t.TempDir())
	var nodes []*server
	var clientsOf []*clients
	for i := range 2 {
		n := startServer(t, "--source", "demo", "--demo-rate", "20", "--backlog", "0",
			"--redis-url", "redis://"+redisAddr+"/0", "--mongo-uri", "mongodb://"+dbAddr+"/", "--lease-ttl", "1s", "--node-id", fmt.Sprintf("node%d", i))
		nodes = append(nodes, n)
		clientsOf = append(clientsOf, startClients(t, n.URL, "--transports", "websocket"))
	}
	for _, c := range clientsOf {
		c.waitUntil("posts through redis", 30*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= 10 })
	}
	_ = redis.Process.Signal(syscall.SIGKILL)
	time.Sleep(2 * time.Second)
	for i, n := range nodes {
		if n.health(t)["status"] != "ok" {
			t.Errorf("node %d unhealthy while redis is down: %v", i, n.health(t))
		}
	}
	before := make([]int, len(clientsOf))
	for i, c := range clientsOf {
		before[i] = len(received(c.snapshot())[0])
	}
	startRedis(t, redisAddr)
	for i, c := range clientsOf {
		c.waitUntil("posts after redis came back", 30*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) >= before[i]+20 })
		got := received(c.snapshot())[0]
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("node %d's client got %s twice", i, id)
			}
			seen[id] = true
		}
		if countEvents(c.snapshot(), "disconnect") != 0 {
			t.Errorf("node %d's client was disconnected", i)
		}
	}
	for i, n := range nodes {
		select {
		case <-n.exited:
			t.Errorf("node %d exited:\n%s", i, n.logs)
		default:
		}
	}
}

func grepMetrics(m string) string {
	var out []string
	for _, l := range strings.Split(m, "\n") {
		if strings.HasPrefix(l, "tweetwire_") && !strings.Contains(l, "_bucket") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// `tweetwire healthcheck` is the container health check: 0 for a healthy
// server, non-zero for one that is down.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--source", "demo")
	if code, out, errOut := runCommand(t, time.Minute, "healthcheck", "--url", srv.URL+"/healthz"); code != 0 {
		t.Errorf("healthcheck of a running server: exit %d %s%s", code, out, errOut)
	}
	if code, _, _ := runCommand(t, time.Minute, "healthcheck", "--url", "http://"+freePort(t)+"/healthz"); code == 0 {
		t.Error("healthcheck of nothing succeeded")
	}
}

// When the node following Jetstream dies, the next holder subscribes at the
// dead one's cursor: the posts made during the handover are not lost.
func TestClusterHandsTheJetstreamCursorOver(t *testing.T) {
	t.Parallel()
	redisAddr := freePort(t)
	startRedis(t, redisAddr)
	dbAddr := freePort(t)
	startDB(t, dbAddr, t.TempDir())
	fake, appview := newJetstreamFake(t, nil)
	var nodes []*server
	for i := range 2 {
		// In child processes: the holder is killed.
		nodes = append(nodes, startProcess(t, "--source", "bluesky", "--track", "#GoConf",
			"--bluesky-jetstream-url", fake.URL, "--bluesky-appview-url", appview.URL,
			"--redis-url", "redis://"+redisAddr+"/0", "--mongo-uri", "mongodb://"+dbAddr+"/", "--lease-ttl", "1s",
			"--node-id", fmt.Sprintf("node%d", i), "--backlog", "100"))
	}
	first := accept(t, "the first subscription", nodes[0], fake.Accept)
	holder := -1
	for i, n := range nodes {
		if isHolder(n.health(t)) {
			holder = i
		}
	}
	if holder < 0 {
		t.Fatal("no node holds the lease though one subscribed")
	}
	other := nodes[1-holder]
	c := startClients(t, other.URL, "--transports", "websocket")
	mustSend(t, first, jetstreamPost(jetstreamAlice, "3one", 10, "day one #GoConf", "GoConf"))
	c.waitUntil("the first post", 20*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) == 1 })
	time.Sleep(1500 * time.Millisecond) // the holder saves its position every second
	nodes[holder].kill()

	second := accept(t, "the subscription after the takeover", other, fake.Accept)
	want := fmt.Sprint(jetstreamT0.Add(10*time.Second).UnixMicro() - 5_000_000)
	if got := second.Query.Get("cursor"); got != want {
		t.Errorf("the new holder subscribed with cursor %q, want %s (the dead holder's, rewound 5 s)", got, want)
	}
	mustSend(t, second,
		jetstreamPost(jetstreamAlice, "3one", 10, "day one #GoConf", "GoConf"), // replayed from the cursor
		jetstreamPost(jetstreamBob, "3two", 20, "posted during the handover #GoConf", "GoConf"))
	evs := c.waitUntil("the post from the handover", 20*time.Second, func(evs []clientEvent) bool { return len(received(evs)[0]) == 2 })
	if got := received(evs)[0]; got[1] != "bluesky:"+jetstreamBob+"/3two" {
		t.Errorf("client got %v", got)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(received(c.snapshot())[0]); n != 2 {
		t.Errorf("client got %d posts, want 2: the replayed one was shown twice", n)
	}
}
