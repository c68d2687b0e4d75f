package cli

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

	"github.com/tweetwire/tweetwire/server/app"
	"github.com/tweetwire/tweetwire/server/web"
)

// Config is everything the command line and the environment say.
type Config struct {
	// App is the application's configuration but for its source and
	// logger, which AppConfig makes.
	App      app.Config
	LogLevel string

	newSource buildSource
}

// AppConfig builds the source and the logger (to w) and returns the
// application's whole configuration.
func (c Config) AppConfig(w io.Writer) (app.Config, error) {
	cfg := c.App
	cfg.Logger = newLogger(w, c.LogLevel)
	src, err := c.newSource(sourceCommon{Track: cfg.Track, Logger: cfg.Logger.With("source", cfg.SourceName)})
	if err != nil {
		return cfg, err
	}
	cfg.Source = src
	return cfg, nil
}

// ErrHelp is returned after --help printed the usage.
var ErrHelp = errors.New("help requested")

// flagSet is a flag set whose every flag can also be set by an environment
// variable: TWEETWIRE_<FLAG> (--replay-file is TWEETWIRE_REPLAY_FILE), or
// the name users know from other tools where one is declared with env.
type flagSet struct {
	*flag.FlagSet
	envNames map[string]string
}

func newFlagSet(name string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), envNames: map[string]string{}}
	fs.SetOutput(io.Discard)
	// The flag package prints the usage on every parse error; we print it
	// only for --help, and errors as one sentence.
	fs.Usage = func() {}
	return fs
}

// env declares the environment variable behind a flag that does not
// follow TWEETWIRE_<FLAG>, such as a service's own credential names.
func (fs *flagSet) env(flagName, variable string) { fs.envNames[flagName] = variable }

// envName is the environment variable behind a flag.
func (fs *flagSet) envName(flagName string) string {
	if n, ok := fs.envNames[flagName]; ok {
		return n
	}
	return "TWEETWIRE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse reads args, then fills every flag not given from its environment
// variable. Errors are one sentence that says what to fix.
func (fs *flagSet) parse(args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ErrHelp
		}
		return fmt.Errorf("%s: run with --help to see the flags", strings.TrimSuffix(err.Error(), "\n"))
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: flags start with --, run with --help to see them", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || envErr != nil {
			return
		}
		name := fs.envName(f.Name)
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("environment variable %s=%q is not valid for --%s: %v", name, v, f.Name, err)
			}
		}
	})
	return envErr
}

// printFlags writes every flag with its variable and default.
func (fs *flagSet) printFlags(w io.Writer) {
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(w, "  --%s (env %s, default %q)\n        %s\n", f.Name, fs.envName(f.Name), f.DefValue, f.Usage)
	})
}

// usageHead is the top of --help.
const usageHead = `Usage: tweetwire [flags]
       tweetwire stats [--event NAME] [--format text|json|csv] [--data-dir DIR | --mongo-uri URI]
       tweetwire end [--event NAME] [--at RFC3339] [--data-dir DIR | --mongo-uri URI]
       tweetwire db [--addr HOST:PORT] [--data-dir DIR]
       tweetwire healthcheck [--url http://127.0.0.1:8124/healthz]

Without a subcommand, tweetwire serves the wall. Subcommands:
  stats        print an event's statistics from the store (stop the server first with the embedded store)
  end          record that an event ended (stopping a server does not; a running one takes POST /api/event/end)
  db           serve the embedded MongoDB-compatible store alone, for several servers to share
  healthcheck  exit 0 when the server's /healthz answers 200 (for container health checks)
Run "tweetwire SUBCOMMAND --help" for its flags.

Every flag can also be set by the environment variable shown.

`

// ParseConfig reads flags, falling back to environment variables for flags
// not given. With --help it writes the usage to usage and returns ErrHelp.
func ParseConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var cfg Config
	a := &cfg.App
	var track, origins, eventEnd, source, names string
	var backlog int
	var firefox bool
	fs := newFlagSet("tweetwire")
	fs.StringVar(&a.Addr, "addr", ":8124", "listen address, host:port")
	fs.StringVar(&source, "source", "demo", "where posts come from: "+sourceNames())
	fs.StringVar(&track, "track", "", "comma-separated keywords and #hashtags to follow")
	fs.IntVar(&backlog, "backlog", 50, "how many recent posts a new client receives")
	fs.IntVar(&a.ClientQueue, "client-queue", 1024, "messages queued per client before it is dropped as too slow")
	fs.StringVar(&a.DataDir, "data-dir", "./data", "where local state lives")
	fs.StringVar(&origins, "allowed-origins", "", "comma-separated extra origins allowed to connect (the page's own origin and the bundled Chrome extension are always allowed)")
	fs.BoolVar(&firefox, "firefox-extension", true, "let the Firefox extension connect: any moz-extension:// origin may read the live feed (Firefox gives each installation a random one), never act")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&a.MongoURI, "mongo-uri", "", "MongoDB to store posts in; empty runs an embedded store (FerretDB on SQLite) under --data-dir")
	fs.env("mongo-uri", "MONGODB_URI")
	fs.StringVar(&a.Event, "event", "", "name of the event posts are stored under (default: the tracked terms, or the source's name)")
	fs.StringVar(&eventEnd, "event-end", "", "RFC 3339 time at which the event ends and the source stops, e.g. 2026-11-25T18:00:00Z")
	fs.StringVar(&a.AdminToken, "admin-token", "", "bearer token POST /api/event/end requires (empty: one is made on the first start and kept in <data-dir>/admin-token, or in Redis with --redis-url)")
	fs.StringVar(&names, "public-names", "", "comma-separated host names the server is reached by, besides IP addresses and localhost (others get 421: the DNS-rebinding guard)")
	fs.StringVar(&a.RedisURL, "redis-url", "", "Redis for running several servers as one wall, e.g. redis://localhost:6379/0")
	fs.env("redis-url", "REDIS_URL")
	fs.DurationVar(&a.LeaseTTL, "lease-ttl", 5*time.Second, "with --redis-url: how long a dead node keeps the source before another takes over")
	fs.StringVar(&a.NodeID, "node-id", defaultNodeID(), "with --redis-url: this server's name among the nodes")
	fs.IntVar(&a.MaxConnections, "max-connections", 0, "connections open at once; past it new ones wait (0: the file limit less 256)")
	fs.IntVar(&a.MaxPendingSessions, "max-pending-sessions", 10000, "Socket.IO handshakes not yet come back to, in all; past it a handshake gets 503")
	fs.IntVar(&a.MaxPendingPerAddress, "max-pending-per-address", 1000, "the same, from one client address (behind a proxy, every client shares its address)")
	fs.BoolVar(&a.Bench, "bench", false, "benchmark mode: POST /bench/publish and GET /bench/stats, as the reference server offers (never on a public server)")
	builders := map[string]buildSource{}
	for _, k := range sourceKinds {
		sf := newSourceFlags(fs, k.name)
		builders[k.name] = sf.build(k.flags(sf))
	}
	if err := fs.parse(args, getenv); err != nil {
		if errors.Is(err, ErrHelp) {
			fmt.Fprint(usage, usageHead)
			fs.printFlags(usage)
		}
		return cfg, err
	}
	a.SourceName = source
	a.NoFirefoxExtension = !firefox
	cfg.newSource = builders[source]
	a.Track = splitList(track)
	// --backlog 0 means none; the application reads 0 as its default.
	a.Backlog = backlog
	if backlog == 0 {
		a.Backlog = -1
	}
	if eventEnd != "" {
		t, err := time.Parse(time.RFC3339, eventEnd)
		if err != nil {
			return cfg, fmt.Errorf("--event-end %q is not an RFC 3339 time: write it like 2026-11-25T18:00:00Z", eventEnd)
		}
		a.EventEnd = t
	}
	if a.Event == "" {
		a.Event = strings.Join(a.Track, ",")
	}
	if a.Event == "" {
		a.Event = source
	}
	for _, n := range splitList(names) {
		name, err := web.ParseName(n)
		if err != nil {
			return cfg, fmt.Errorf("--public-names: %w", err)
		}
		a.PublicNames = append(a.PublicNames, name)
	}
	for _, o := range splitList(origins) {
		canon, err := web.ParseOrigin(o)
		if err != nil {
			return cfg, fmt.Errorf("--allowed-origins: %w", err)
		}
		a.AllowedOrigins = append(a.AllowedOrigins, canon)
	}
	return cfg, cfg.validate(backlog)
}

func (c Config) validate(backlog int) error {
	a := c.App
	if err := checkAddr(a.Addr); err != nil {
		return err
	}
	if c.newSource == nil {
		return fmt.Errorf("--source %q is not a source: use %s", a.SourceName, sourceNames())
	}
	if backlog < 0 || backlog > 10000 {
		return fmt.Errorf("--backlog %d is out of range: give 0 to 10000 posts", backlog)
	}
	if a.MaxPendingSessions < 1 || a.MaxPendingPerAddress < 1 {
		return fmt.Errorf("--max-pending-sessions %d and --max-pending-per-address %d must be at least 1", a.MaxPendingSessions, a.MaxPendingPerAddress)
	}
	if a.MaxConnections < 0 {
		return fmt.Errorf("--max-connections %d is negative: give a number of connections, or 0 for the default", a.MaxConnections)
	}
	if a.ClientQueue < 1 || a.ClientQueue > 1<<20 {
		return fmt.Errorf("--client-queue %d is out of range: give 1 to 1048576 messages", a.ClientQueue)
	}
	if a.DataDir == "" {
		return errors.New("--data-dir is empty: give a directory for local state")
	}
	if a.MongoURI != "" && !strings.HasPrefix(a.MongoURI, "mongodb://") && !strings.HasPrefix(a.MongoURI, "mongodb+srv://") {
		return errors.New("--mongo-uri must start with mongodb:// or mongodb+srv://, or be empty for the embedded store")
	}
	if a.RedisURL != "" && !strings.HasPrefix(a.RedisURL, "redis://") && !strings.HasPrefix(a.RedisURL, "rediss://") && !strings.HasPrefix(a.RedisURL, "unix://") {
		return errors.New("--redis-url must start with redis://, rediss:// or unix://, e.g. redis://localhost:6379/0")
	}
	if a.LeaseTTL < 500*time.Millisecond || a.LeaseTTL > 5*time.Minute {
		return fmt.Errorf("--lease-ttl %v is out of range: give 500ms to 5m", a.LeaseTTL)
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

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated with the config
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
