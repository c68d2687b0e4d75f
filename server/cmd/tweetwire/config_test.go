package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
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
		{"replay without file", []string{"--source", "replay"}, nil, "pass --replay-file"},
		{"negative replay rate", []string{"--source", "replay", "--replay-file", "x", "--replay-rate", "-1"}, nil, "is negative"},
		{"zero demo rate", []string{"--demo-rate", "0"}, nil, "must be above 0"},
		{"backlog too large", []string{"--backlog", "20000"}, nil, "out of range"},
		{"origin with a path", []string{"--allowed-origins", "https://a.example/x"}, nil, "is not an origin"},
		{"client queue zero", []string{"--client-queue", "0"}, nil, "out of range"},
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
			_, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Count(strings.TrimSpace(err.Error()), "\n") != 0 {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestParseConfigValues(t *testing.T) {
	env := map[string]string{"TWEETWIRE_BACKLOG": "7", "TWEETWIRE_ADDR": ":9999", "TWEETWIRE_TRACK": "#ignored"}
	cfg, err := parseConfig([]string{"--addr", "127.0.0.1:0", "--track", "#GoConf, golang ,", "--allowed-origins", "HTTPS://Wall.Example.org"},
		func(k string) string { return env[k] }, &bytes.Buffer{})
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
	if cfg.Source != "demo" || cfg.DataDir != "./data" {
		t.Errorf("defaults: source=%q data-dir=%q", cfg.Source, cfg.DataDir)
	}
}

func TestHelpListsEveryEnvVariable(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"--help"}, func(string) string { return "" }, &out)
	if !errors.Is(err, errHelp) {
		t.Fatalf("err = %v, want errHelp", err)
	}
	for _, v := range []string{"TWEETWIRE_ADDR", "TWEETWIRE_SOURCE", "TWEETWIRE_TRACK", "TWEETWIRE_REPLAY_FILE", "TWEETWIRE_REPLAY_RATE", "TWEETWIRE_REPLAY_LOOP", "TWEETWIRE_DEMO_RATE", "TWEETWIRE_BACKLOG", "TWEETWIRE_DATA_DIR", "TWEETWIRE_ALLOWED_ORIGINS", "MONGODB_URI", "TWEETWIRE_EVENT", "TWEETWIRE_EVENT_END", "TWEETWIRE_ADMIN_TOKEN", "REDIS_URL"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
}
