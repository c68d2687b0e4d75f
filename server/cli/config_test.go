package cli

import (
	"io"

	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/app"
)

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // a part of the one-sentence error
	}{
		{"unknown flag", []string{"--nope"}, nil, "flag provided but not defined: -nope: run with --help"},
		{"stray argument", []string{"serve"}, nil, `unexpected argument "serve"`},
		{"address without port", []string{"--addr", "localhost"}, nil, "is not a listen address"},
		{"address with bad port", []string{"--addr", ":99999"}, nil, "no valid port"},
		{"unknown source", []string{"--source", "myspace"}, nil, `--source "myspace" is not a source`},
		{"replay without file", []string{"--source", "replay"}, nil, "--source replay: --replay-file (env TWEETWIRE_REPLAY_FILE): no replay file given: give the path of a file"},
		{"replay file missing", []string{"--source", "replay", "--replay-file", "nope.jsonl"}, nil, `--replay-file (env TWEETWIRE_REPLAY_FILE): replay file "nope.jsonl" does not exist`},
		{"negative replay rate", []string{"--source", "replay", "--replay-file", "x", "--replay-rate", "-1"}, nil, "--replay-rate (env TWEETWIRE_REPLAY_RATE): replay rate -1 is not allowed: it is negative"},
		{"negative demo rate", []string{"--demo-rate", "-1"}, nil, "--source demo: --demo-rate (env TWEETWIRE_DEMO_RATE): rate -1 is out of range: give posts per second, above 0"},
		{"demo rate too high", nil, map[string]string{"TWEETWIRE_DEMO_RATE": "5000"}, "--demo-rate (env TWEETWIRE_DEMO_RATE): rate 5000 is out of range"},
		{"backlog too large", []string{"--backlog", "20000"}, nil, "out of range"},
		{"origin with a path", []string{"--allowed-origins", "https://a.example/x"}, nil, "is not an origin"},
		{"public name with a scheme", []string{"--public-names", "https://wall.example.org"}, nil, "is not a host name"},
		{"client queue zero", []string{"--client-queue", "0"}, nil, "out of range"},
		{"negative connection cap", []string{"--max-connections", "-1"}, nil, "is negative"},
		{"event end not a time", []string{"--event-end", "tomorrow"}, nil, "is not an RFC 3339 time"},
		{"mongo uri without scheme", []string{"--mongo-uri", "localhost:27017"}, nil, "must start with mongodb://"},
		{"redis url without scheme", []string{"--redis-url", "localhost:6379"}, nil, "must start with redis://"},
		{"lease too short", []string{"--lease-ttl", "1ms"}, nil, "out of range"},
		{"bad log level", []string{"--log-level", "loud"}, nil, "is not a level"},
		{"bad env value", nil, map[string]string{"TWEETWIRE_BACKLOG": "many"}, "TWEETWIRE_BACKLOG"},
		{"bad env address", nil, map[string]string{"TWEETWIRE_ADDR": "nowhere"}, "is not a listen address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAndBuild(tt.args, func(k string) string { return tt.env[k] })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Count(strings.TrimSpace(err.Error()), "\n") != 0 {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

// parseAndBuild is what Main does before it serves: parse, then build
// the source, whose own settings are checked as it is built.
func parseAndBuild(args []string, getenv func(string) string) (app.Config, error) {
	cfg, err := ParseConfig(args, getenv, &bytes.Buffer{})
	if err != nil {
		return app.Config{}, err
	}
	return cfg.AppConfig(io.Discard)
}

func TestParseConfigValues(t *testing.T) {
	env := map[string]string{"TWEETWIRE_BACKLOG": "7", "TWEETWIRE_ADDR": ":9999", "TWEETWIRE_TRACK": "#ignored"}
	cfg, err := parseAndBuild([]string{"--addr", "127.0.0.1:0", "--track", "#GoConf, golang ,", "--allowed-origins", "HTTPS://Wall.Example.org"},
		func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:0" {
		t.Errorf("flag must win over env: addr = %q", cfg.Addr)
	}
	if cfg.Backlog != 7 {
		t.Errorf("env must fill unset flags: backlog = %d", cfg.Backlog)
	}
	if strings.Join(cfg.Track, "|") != "#GoConf|golang" {
		t.Errorf("track = %q", cfg.Track)
	}
	if strings.Join(cfg.AllowedOrigins, "|") != "https://wall.example.org" {
		t.Errorf("origins = %q", cfg.AllowedOrigins)
	}
	if cfg.Event != "#GoConf,golang" {
		t.Errorf("event defaults to the tracked terms: %q", cfg.Event)
	}
	if cfg.SourceName != "demo" || cfg.DataDir != "./data" {
		t.Errorf("defaults: source=%q data-dir=%q", cfg.SourceName, cfg.DataDir)
	}
	if cfg.Source == nil || cfg.Logger == nil {
		t.Errorf("the source and the logger are not built: %v %v", cfg.Source, cfg.Logger)
	}
}

func TestHelpListsEveryEnvVariable(t *testing.T) {
	var out bytes.Buffer
	_, err := ParseConfig([]string{"--help"}, func(string) string { return "" }, &out)
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v, want ErrHelp", err)
	}
	for _, v := range []string{"TWEETWIRE_ADDR", "TWEETWIRE_SOURCE", "TWEETWIRE_TRACK", "TWEETWIRE_REPLAY_FILE", "TWEETWIRE_REPLAY_RATE", "TWEETWIRE_REPLAY_LOOP", "TWEETWIRE_DEMO_RATE", "TWEETWIRE_BACKLOG", "TWEETWIRE_DATA_DIR", "TWEETWIRE_ALLOWED_ORIGINS", "MONGODB_URI", "TWEETWIRE_EVENT", "TWEETWIRE_EVENT_END", "TWEETWIRE_ADMIN_TOKEN", "REDIS_URL"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
	for _, sub := range []string{"stats", "end", "db", "healthcheck"} {
		if !strings.Contains(out.String(), "tweetwire "+sub) {
			t.Errorf("--help does not list the subcommand %s", sub)
		}
	}
	for _, k := range sourceKinds {
		if !strings.Contains(out.String(), k.name) {
			t.Errorf("--help does not name the source %s", k.name)
		}
	}
}

// Each source's own flags are read from its variables, including the
// names the services use for their credentials.
func TestSourceFlagsFromTheirVariables(t *testing.T) {
	env := map[string]string{"X_BEARER_TOKEN": "AAAA🔑", "TWEETWIRE_X_API_URL": "http://127.0.0.1:1/", "MASTODON_TOKEN": "m"}
	var out bytes.Buffer
	_, err := ParseConfig([]string{"--help"}, func(k string) string { return env[k] }, &out)
	if !errors.Is(err, ErrHelp) {
		t.Fatal(err)
	}
	for _, v := range []string{"X_BEARER_TOKEN", "TWITTER_CONSUMER_KEY", "MASTODON_TOKEN", "TWEETWIRE_BLUESKY_JETSTREAM_URL"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
	cfg, err := parseAndBuild([]string{"--source", "x", "--track", "#GoConf"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("x from its variables: %v", err)
	}
	if cfg.SourceName != "x" || cfg.Source == nil {
		t.Fatalf("source = %q %v", cfg.SourceName, cfg.Source)
	}
}

// --demo-rate 0 means the demo's default of one post a second, as a zero
// demo.Config.Rate does: the demo source is the one judge of its rate.
func TestDemoRateZeroMeansTheDefault(t *testing.T) {
	cfg, err := parseAndBuild([]string{"--demo-rate", "0"}, func(string) string { return "" })
	if err != nil || cfg.Source == nil {
		t.Fatalf("--demo-rate 0: %v", err)
	}
}
