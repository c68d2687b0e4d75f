package deploy

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// load parses docker-compose.yml as `docker compose` would, interpolation
// and YAML merges included.
func load(t *testing.T) *types.Project {
	t.Helper()
	path, err := filepath.Abs("../../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: body}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("tweetwire", true) })
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

func TestComposeServices(t *testing.T) {
	p := load(t)
	byName := map[string]types.ServiceConfig{}
	for name, s := range p.Services {
		byName[name] = s
	}
	for _, name := range []string{"mongo", "redis", "tweetwire-1", "tweetwire-2", "proxy"} {
		s, ok := byName[name]
		if !ok {
			t.Fatalf("no service %q", name)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s has no health check", name)
		}
	}
	if img := byName["mongo"].Image; !strings.HasPrefix(img, "mongo:8") {
		t.Errorf("mongo image %q, want MongoDB 8", img)
	}
	if img := byName["redis"].Image; !strings.HasPrefix(img, "redis:7") {
		t.Errorf("redis image %q, want Redis 7", img)
	}
	for _, name := range []string{"tweetwire-1", "tweetwire-2"} {
		s := byName[name]
		if s.Build == nil || s.Build.Context == "" {
			t.Errorf("%s is not built from the Dockerfile", name)
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		if env["MONGODB_URI"] != "mongodb://mongo:27017/tweetwire" || env["REDIS_URL"] != "redis://redis:6379/0" {
			t.Errorf("%s environment does not point at the shared mongo and redis: %v", name, env)
		}
		if env["TWEETWIRE_NODE_ID"] != name {
			t.Errorf("%s node id = %q", name, env["TWEETWIRE_NODE_ID"])
		}
		if env["TWEETWIRE_SOURCE"] != "demo" {
			t.Errorf("%s source defaults to %q, want demo", name, env["TWEETWIRE_SOURCE"])
		}
		for _, dep := range []string{"mongo", "redis"} {
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s does not wait for a healthy %s", name, dep)
			}
		}
		if len(s.Ports) != 0 {
			t.Errorf("%s publishes ports; only the proxy should", name)
		}
		if len(s.Volumes) == 0 || s.Volumes[0].Type != types.VolumeTypeVolume {
			t.Errorf("%s has no named volume for its data", name)
		}
	}
	proxy := byName["proxy"]
	if len(proxy.Ports) != 1 || proxy.Ports[0].Published != "8124" || proxy.Ports[0].Target != 8124 {
		t.Errorf("proxy ports = %+v, want 8124:8124", proxy.Ports)
	}
	for _, name := range []string{"mongo-data", "redis-data", "tweetwire-1-data", "tweetwire-2-data"} {
		if _, ok := p.Volumes[name]; !ok {
			t.Errorf("no named volume %s", name)
		}
	}
}

func TestProxyIsStickyToBothReplicas(t *testing.T) {
	p := load(t)
	cfg, ok := p.Configs["haproxy"]
	if !ok {
		t.Fatal("no haproxy config")
	}
	c := cfg.Content
	if !regexp.MustCompile(`(?m)^\s*cookie \w+ insert`).MatchString(c) {
		t.Error("haproxy does not insert a sticky-session cookie")
	}
	// Clients that keep no cookies (every Node.js client) need another
	// key; server/e2e's TestBehindTheComposeProxy runs this very
	// configuration with such clients.
	if !regexp.MustCompile(`(?m)^\s*balance source\s*$`).MatchString(c) {
		t.Error("haproxy does not keep clients without cookies on one node (balance source)")
	}
	for _, n := range []string{"tweetwire-1:8124", "tweetwire-2:8124"} {
		if !regexp.MustCompile(`(?m)^\s*server \S+ ` + regexp.QuoteMeta(n) + ` check cookie \w+`).MatchString(c) {
			t.Errorf("haproxy has no sticky, checked server %s", n)
		}
	}
	if !strings.Contains(c, "timeout tunnel") {
		t.Error("haproxy would cut WebSocket connections at the client timeout")
	}
}

func TestDockerfileBuildsSmallNonRootImage(t *testing.T) {
	body, err := os.ReadFile("../../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(body)
	if n := strings.Count(d, "\nFROM "); n < 2 {
		t.Errorf("Dockerfile has %d stages after the first, want a multi-stage build", n)
	}
	last := d[strings.LastIndex(d, "\nFROM "):]
	if !strings.Contains(last, "distroless") && !strings.Contains(last, "scratch") && !strings.Contains(last, "alpine") {
		t.Errorf("final stage is not a small base image:\n%s", last)
	}
	if !regexp.MustCompile(`(?m)^USER (nonroot|\d+)`).MatchString(last) || strings.Contains(last, "USER root") {
		t.Errorf("final stage does not run as a non-root user")
	}
	if !strings.Contains(d, "go build") || !strings.Contains(d, "npm ci") {
		t.Error("Dockerfile does not build the binary with the pinned npm pieces")
	}
}
