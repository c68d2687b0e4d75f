package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// composeHAProxy returns the HAProxy configuration of docker-compose.yml,
// with its two servers and its listener moved to the loopback addresses
// given: the very configuration an operator runs, minus Docker's names.
func composeHAProxy(t *testing.T, listen string, nodes [2]string) string {
	t.Helper()
	compose, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(compose), "\n  haproxy:\n    content: |\n")
	if !ok {
		t.Fatal("docker-compose.yml has no configs.haproxy.content block")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if l != "" && !strings.HasPrefix(l, "      ") {
			break // the block ends where its indentation does
		}
		lines = append(lines, strings.TrimPrefix(l, "      "))
	}
	cfg := strings.Join(lines, "\n")
	cfg = strings.Replace(cfg, "log stdout format raw local0", "log stderr format raw local0", 1)
	cfg = strings.Replace(cfg, "bind :8124", "bind "+listen, 1)
	for i, addr := range nodes {
		name := fmt.Sprintf("tweetwire-%d", i+1)
		cfg = strings.Replace(cfg, fmt.Sprintf("%s %s:8124", name, name), name+" "+addr, 1)
	}
	if strings.Contains(cfg, ":8124") {
		t.Fatalf("the compose HAProxy configuration names an address this test did not move:\n%s", cfg)
	}
	return cfg
}

// startHAProxy runs Debian's haproxy with cfg until the test ends.
func startHAProxy(t *testing.T, cfg string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v (scripts/test installs haproxy: apt-get install haproxy)\n%s", err, out)
	}
	logs := &syncBuffer{}
	cmd := exec.Command("haproxy", "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("haproxy log:\n%s", logs)
		}
	})
}

// Behind the compose file's own HAProxy, two nodes on one Redis and one
// database: clients of every generation that keep no cookies (Node.js)
// stay with the node that holds their Engine.IO session on long polling,
// and get every post once; so does the page in Chromium without WebSocket.
func TestBehindTheComposeProxy(t *testing.T) {
	t.Parallel()
	redisAddr := freePort(t)
	startRedis(t, redisAddr)
	dbAddr := freePort(t)
	startDB(t, dbAddr, t.TempDir())
	file, ids := writeReplay(t, 0, 60)
	var nodes [2]string
	for i := range nodes {
		n := startServer(t, "--source", "replay", "--replay-file", file, "--replay-rate", "6", "--backlog", "1000",
			"--redis-url", "redis://"+redisAddr+"/0", "--mongo-uri", "mongodb://"+dbAddr+"/", "--lease-ttl", "1s",
			"--node-id", fmt.Sprintf("node%d", i+1))
		nodes[i] = n.Addr
	}
	proxy := freePort(t)
	startHAProxy(t, composeHAProxy(t, proxy, nodes))
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := httpc.Get("http://" + proxy + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy does not answer on %s: %v", proxy, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	generations := map[string]*clients{}
	for _, v := range []string{"v2", "v3", "v4"} {
		generations[v] = startClients(t, "http://"+proxy, "--client", v, "--transports", "polling", "--clients", "2")
	}
	for v, c := range generations {
		t.Run(v, func(t *testing.T) {
			c.waitUntil("every post on every client", 60*time.Second, func(evs []clientEvent) bool {
				got := received(evs)
				return len(got[0]) >= len(ids) && len(got[1]) >= len(ids)
			})
			time.Sleep(500 * time.Millisecond)
			evs := c.snapshot()
			for i := range 2 {
				got := slices.Clone(received(evs)[i])
				slices.Sort(got)
				if strings.Join(got, ",") != strings.Join(ids, ",") {
					t.Errorf("client %d got %d posts, want all %d once each", i, len(got), len(ids))
				}
			}
			if n := countEvents(evs, "connect"); n != 2 {
				t.Errorf("%d connects for 2 clients: a session was lost between the nodes and the client reconnected", n)
			}
		})
	}
	t.Run("the page without WebSocket", func(t *testing.T) {
		out, err := exec.Command("node", filepath.Join(nodeModules(t), "page-check.mjs"), "--url", "http://"+proxy+"/",
			"--no-websocket", "--expect-state", "long polling", "--expect", fmt.Sprint(len(ids)), "--timeout-ms", "60000").Output()
		if err != nil {
			t.Fatalf("page-check through the proxy: %v\n%s", err, out)
		}
		var res struct {
			Posts     int
			Transport string
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			_ = json.Unmarshal(sc.Bytes(), &res)
		}
		if res.Posts != len(ids) || res.Transport != "polling" {
			t.Errorf("the page shows %d posts on %q, want %d on polling", res.Posts, res.Transport, len(ids))
		}
	})
}
