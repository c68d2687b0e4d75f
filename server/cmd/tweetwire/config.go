package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/web"
)

// Config is everything the command line and environment say.
type Config struct {
	Addr           string
	Source         string
	Track          []string
	ReplayFile     string
	ReplayRate     float64
	ReplayLoop     bool
	DemoRate       float64
	Backlog        int
	ClientQueue    int
	DataDir        string
	AllowedOrigins []string
	LogLevel       string
	MongoURI       string
	Event          string
	EventEnd       time.Time
	AdminToken     string
	RedisURL       string
	LeaseTTL       time.Duration
	NodeID         string
	Bench          bool

	// buildLive builds the live source named by Source, from its flags.
	buildLive func(cfg Config, log *slog.Logger) (tweet.Source, error)
}

// errHelp is returned after --help printed the usage.
var errHelp = errors.New("help requested")

// envNames are the variables that keep the name users know from other
// tools.
var envNames = map[string]string{"mongo-uri": "MONGODB_URI", "redis-url": "REDIS_URL"}

// envName is the environment variable behind a flag: --replay-file is
// TWEETWIRE_REPLAY_FILE.
func envName(flagName string) string {
	if n, ok := envNames[flagName]; ok {
		return n
	}
	return "TWEETWIRE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads flags, falling back to environment variables for flags
// not given. Errors are one sentence that says what to fix.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var cfg Config
	var track, origins, eventEnd string
	fs := flag.NewFlagSet("tweetwire", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Addr, "addr", ":8124", "listen address, host:port")
	fs.StringVar(&cfg.Source, "source", "demo", "where posts come from: demo, replay, twitter, x, bluesky or mastodon")
	fs.StringVar(&track, "track", "", "comma-separated keywords and #hashtags to follow")
	fs.StringVar(&cfg.ReplayFile, "replay-file", "", "file of Twitter v1.1 JSON lines to play with --source replay")
	fs.Float64Var(&cfg.ReplayRate, "replay-rate", 5, "replayed posts per second (0 = as fast as possible)")
	fs.BoolVar(&cfg.ReplayLoop, "replay-loop", false, "start the replay file again when it ends")
	fs.Float64Var(&cfg.DemoRate, "demo-rate", 1, "posts per second from the demo source")
	fs.IntVar(&cfg.Backlog, "backlog", 50, "how many recent posts a new client receives")
	fs.IntVar(&cfg.ClientQueue, "client-queue", 1024, "messages queued per client before it is dropped as too slow")
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "where local state lives")
	fs.StringVar(&origins, "allowed-origins", "", "comma-separated extra origins allowed to connect (the page's own origin and the bundled extension are always allowed)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&cfg.MongoURI, "mongo-uri", "", "MongoDB to store posts in; empty runs an embedded store (FerretDB on SQLite) under --data-dir")
	fs.StringVar(&cfg.Event, "event", "", "name of the event posts are stored under (default: the tracked terms, or the source's name)")
	fs.StringVar(&eventEnd, "event-end", "", "RFC 3339 time at which the event ends and the source stops, e.g. 2026-11-25T18:00:00Z")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "bearer token POST /api/event/end requires (empty: any same-origin caller may end the event)")
	fs.StringVar(&cfg.RedisURL, "redis-url", "", "Redis for running several servers as one wall, e.g. redis://localhost:6379/0")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", 5*time.Second, "with --redis-url: how long a dead node keeps the source before another takes over")
	fs.StringVar(&cfg.NodeID, "node-id", defaultNodeID(), "with --redis-url: this server's name among the nodes")
	fs.BoolVar(&cfg.Bench, "bench", false, "benchmark mode: POST /bench/publish and GET /bench/stats, as the reference server offers (never on a public server)")
	builders := map[string]func(Config, *slog.Logger) (tweet.Source, error){}
	for name, src := range liveSources {
		builders[name] = src.flags(fs)
	}
	// The flag package prints the usage on every parse error; we print it
	// only for --help, and errors as one sentence.
	fs.Usage = func() {}
	printUsage := func() {
		fmt.Fprintf(usage, "Usage: tweetwire [flags]\n\nEvery flag can also be set by the environment variable shown.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(usage, "  --%s (env %s, default %q)\n        %s\n", f.Name, envName(f.Name), f.DefValue, f.Usage)
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage()
			return cfg, errHelp
		}
		return cfg, fmt.Errorf("%s: run with --help to see the flags", strings.TrimSuffix(err.Error(), "\n"))
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q: flags start with --, run with --help to see them", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || envErr != nil {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("environment variable %s=%q is not valid for --%s: %v", envName(f.Name), v, f.Name, err)
			}
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	cfg.buildLive = builders[cfg.Source]
	cfg.Track = splitList(track)
	if eventEnd != "" {
		t, err := time.Parse(time.RFC3339, eventEnd)
		if err != nil {
			return cfg, fmt.Errorf("--event-end %q is not an RFC 3339 time: write it like 2026-11-25T18:00:00Z", eventEnd)
		}
		cfg.EventEnd = t
	}
	if cfg.Event == "" {
		cfg.Event = strings.Join(cfg.Track, ",")
	}
	if cfg.Event == "" {
		cfg.Event = cfg.Source
	}
	for _, o := range splitList(origins) {
		canon, err := web.ParseOrigin(o)
		if err != nil {
			return cfg, fmt.Errorf("--allowed-origins: %w", err)
		}
		cfg.AllowedOrigins = append(cfg.AllowedOrigins, canon)
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	if err := checkAddr(c.Addr); err != nil {
		return err
	}
	_, live := liveSources[c.Source]
	switch {
	case c.Source == "demo" || c.Source == "replay" || live:
	default:
		return fmt.Errorf("--source %q is not a source: use demo, replay, twitter, x, bluesky or mastodon", c.Source)
	}
	if c.Source == "replay" && c.ReplayFile == "" {
		return errors.New("--source replay needs a file: pass --replay-file PATH")
	}
	if c.ReplayRate < 0 {
		return fmt.Errorf("--replay-rate %v is negative: give posts per second, or 0 for as fast as possible", c.ReplayRate)
	}
	if c.DemoRate <= 0 {
		return fmt.Errorf("--demo-rate %v must be above 0 posts per second", c.DemoRate)
	}
	if c.Backlog < 0 || c.Backlog > 10000 {
		return fmt.Errorf("--backlog %d is out of range: give 0 to 10000 posts", c.Backlog)
	}
	if c.ClientQueue < 1 || c.ClientQueue > 1<<20 {
		return fmt.Errorf("--client-queue %d is out of range: give 1 to 1048576 messages", c.ClientQueue)
	}
	if c.DataDir == "" {
		return errors.New("--data-dir is empty: give a directory for local state")
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		return errors.New("--mongo-uri must start with mongodb:// or mongodb+srv://, or be empty for the embedded store")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") && !strings.HasPrefix(c.RedisURL, "unix://") {
		return errors.New("--redis-url must start with redis://, rediss:// or unix://, e.g. redis://localhost:6379/0")
	}
	if c.LeaseTTL < 500*time.Millisecond || c.LeaseTTL > 5*time.Minute {
		return fmt.Errorf("--lease-ttl %v is out of range: give 500ms to 5m", c.LeaseTTL)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q is not a level: use debug, info, warn or error", c.LogLevel)
	}
	return nil
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not a listen address: write host:port or :port, e.g. :8124", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--addr %q has no valid port: use a number from 0 to 65535", addr)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		if _, err := net.LookupHost(host); err != nil {
			return fmt.Errorf("--addr %q names a host this machine cannot resolve: use an IP address, localhost, or leave the host empty", addr)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// defaultNodeID names this process among the nodes sharing a Redis.
func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "node"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}
