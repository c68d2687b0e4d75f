// Command loadgen is the fan-out benchmark: it opens many Socket.IO v2
// (Engine.IO v3, socket.io-client 2.x) or v5 (Engine.IO v4,
// socket.io-client 3.x/4.x) clients on WebSocket or long polling against each server
// under test, asks the server to publish posts at a fixed rate through its
// bench endpoints, and measures what arrives. It prints a Markdown table on
// stdout and progress on stderr. Run it through scripts/bench:
//
//	scripts/bench fanout            # every scenario, three times per server, alternating
//	scripts/bench --quick           # a few seconds: proves the harness works
//
// Each run starts a fresh server on a free loopback port and stops it
// afterwards: Tweetwire (--tweetwire), Tweetwire's fan-out path on
// zishang520/socket.io v3 (--twzs, the library comparison of issue #6),
// the Node.js socket.io 4.8.4 reference (--node-dir) and the plain
// gorilla/websocket limit (--wsref).
// Measured per run: clients connected, deliveries received and expected,
// deliveries per second, publish-to-client latency (each post carries its
// publish time, ts), the server's CPU time and peak RSS from /proc, and
// memory per idle connection (RSS with the clients connected, less RSS
// before, over the clients).
package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the exit status: 0 when every run finished (with --quick:
// and delivered every post), 1 otherwise, 2 for a bad command line.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		tweetwires []serverKind
		twprof     = fs.String("twprof", "", "twprof binary: Tweetwire's fan-out path with /debug/pprof (server/tools/loadgen/twprof), as server \"tweetwire-core\"")
		twzs       = fs.String("twzs", "", "twprof binary, run with --socketio zishang520: Tweetwire's fan-out path on zishang520/socket.io v3 with /debug/pprof (server/tools/loadgen/twprof), as server \""+twzsName+"\"")
		nodeDir    = fs.String("node-dir", "", "folder with the Node.js reference server.js and its node_modules")
		wsref      = fs.String("wsref", "", "wsref binary: the gorilla/websocket limit (server/tools/wsref)")
		extURL     = fs.String("url", "", "an already running server to measure, e.g. http://127.0.0.1:8124 (with --pid)")
		extPID     = fs.Int("pid", 0, "process id of the --url server, for its CPU and memory")
		extName    = fs.String("name", "external", "the --url server's name in the table")
		quick      = fs.Bool("quick", false, "a smoke test of a few seconds: 50 clients at 20 posts/s on Engine.IO v3 and v4, 10 polling clients; fail if a post is missing")
		only       = fs.String("scenarios", "", "comma-separated scenario names to run (default: all)")
		custom     scenario
		runs       = fs.Int("runs", 3, "runs per scenario and server, alternating servers (T, N, T, N, ...); the table shows each server's median and min–max (1 with --quick)")
		maxMinutes = fs.Float64("max-minutes", 150, "stop starting runs after this long (every scenario, three runs on four servers, and the profiles of the missed targets took 90 minutes on 2 cores on 2026-12-04)")
		rampRate   = fs.Float64("ramp-rate", 0, "new clients per second at most (0: as fast as the dialers connect them)")
		dialers    = fs.Int("dialers", 32, "concurrent dialers: client handshakes in flight at once")
		readBuffer = fs.Int("read-buffer", defaultReadBuffer, "bytes one read from a client's connection takes at most (a real client's socket reads small chunks)")
		sources    = fs.Int("source-addrs", defaultSources, "loopback source addresses the clients dial from, 127.0.0.2 and up, round-robin: each gives one ip_local_port_range of ports")
		backlog    = fs.Int("backlog", 0, "posts a new client receives on connect, given to every Tweetwire server (--backlog); the Node.js reference and wsref have no backlog, so keep 0 to compare like with like")
		drain      = fs.Duration("drain", 60*time.Second, "how long to wait for deliveries after the last post is due (at least the publishing time)")
		settle     = fs.Duration("settle", 2*time.Second, "pause after connecting, before measuring memory per connection")
		profDir    = fs.String("cpuprofile", "", "folder for CPU profiles of servers with /debug/pprof (tweetwire-core, "+twzsName+", wsref), taken in the first run of each scenario")
		jsonOut    = fs.String("json", "", "also write every run's raw results to this file")
		explain    = fs.String("explain", "", "twprof binary (server/tools/loadgen/twprof): after the runs, run each scenario where a Tweetwire server missed a target of issue #16 once more on it, with a CPU profile, and say where the CPU went")
	)
	fs.Func("tweetwire", "Tweetwire server binary (go build -o BIN ./server/cmd/tweetwire); repeat as NAME=BIN to compare builds, e.g. a patched one, in the same run", func(v string) error {
		name, bin, ok := strings.Cut(v, "=")
		if !ok {
			name, bin = "tweetwire", v
		}
		if name == "" || bin == "" || name == nodeName || name == limitName || name == twzsName {
			return fmt.Errorf("give BIN or NAME=BIN, with a NAME other than %s, %s and %s", nodeName, limitName, twzsName)
		}
		tweetwires = append(tweetwires, tweetwireKind(name, bin, false, 0))
		return nil
	})
	fs.IntVar(&custom.Clients, "clients", 0, "run one scenario of your own instead, \"custom\": this many clients...")
	fs.Float64Var(&custom.Rate, "rate", 100, "...with --clients: posts per second (0: as fast as possible)")
	fs.IntVar(&custom.Count, "count", 1000, "...with --clients: posts in all (0: idle, for memory)")
	fs.BoolVar(&custom.Polling, "polling", false, "...with --clients: on long polling instead of WebSocket")
	fs.IntVar(&custom.EIO, "eio", 3, "...with --clients: the Engine.IO protocol, 3 (socket.io-client 2.x) or 4 (3.x and 4.x)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loadgen [flags]\n\nscenarios: %s\nonly when named: %s\nquick: %s\n\n", names(fullScenarios), names(scaleScenarios), names(quickScenarios))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadgen: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	if *backlog < 0 || *backlog > 10000 {
		fmt.Fprintln(stderr, "loadgen: --backlog takes 0 to 10000 posts, as the server's flag")
		return 2
	}
	kinds := tweetwires
	for i := range kinds {
		kinds[i] = tweetwireKind(kinds[i].Name, kinds[i].bin, false, *backlog)
	}
	if *twprof != "" {
		kinds = append(kinds, tweetwireKind(coreName, *twprof, true, *backlog))
	}
	if *twzs != "" {
		kinds = append(kinds, twzsKind(*twzs, *backlog))
	}
	if *nodeDir != "" {
		kinds = append(kinds, nodeKind(*nodeDir))
	}
	if *wsref != "" {
		kinds = append(kinds, wsrefKind(*wsref))
	}
	if *extURL != "" {
		u, err := url.Parse(*extURL)
		if err != nil || u.Host == "" || *extPID <= 0 {
			fmt.Fprintln(stderr, "loadgen: --url needs an http://host:port address and --pid its process id")
			return 2
		}
		kinds = append(kinds, serverKind{Name: *extName, Polling: true, EIO4: true, external: u, pid: *extPID})
	}
	if len(kinds) == 0 {
		fmt.Fprintln(stderr, "loadgen: no server to measure: give --tweetwire, --twzs, --node-dir, --wsref, --twprof or --url")
		return 2
	}
	scenarios := fullScenarios
	if *quick {
		scenarios = quickScenarios
		if !isSet(fs, "runs") {
			*runs = 1
		}
	}
	if *only != "" {
		want := strings.Split(*only, ",")
		scenarios = slices.DeleteFunc(slices.Concat(fullScenarios, scaleScenarios, quickScenarios), func(s scenario) bool {
			return !slices.Contains(want, s.Name)
		})
		if len(scenarios) != len(want) {
			fmt.Fprintf(stderr, "loadgen: --scenarios %q: known scenarios are %s, %s, %s\n", *only, names(fullScenarios), names(scaleScenarios), names(quickScenarios))
			return 2
		}
	}
	if custom.Clients > 0 {
		if *only != "" || custom.Rate < 0 || custom.Count < 0 || (custom.EIO != 3 && custom.EIO != 4) {
			fmt.Fprintln(stderr, "loadgen: --clients runs one scenario of its own: drop --scenarios, and give a --rate and --count of 0 or more and an --eio of 3 or 4")
			return 2
		}
		custom.Name = "custom"
		if custom.Count == 0 {
			custom.Idle = 10 * time.Second
		}
		scenarios = []scenario{custom}
	}
	if *runs < 1 || *rampRate < 0 || *dialers < 1 || *readBuffer < 1 || *sources < 1 || *sources > 254 {
		fmt.Fprintln(stderr, "loadgen: --runs, --dialers and --read-buffer must be positive, --ramp-rate 0 or more, --source-addrs 1 to 254")
		return 2
	}
	if *profDir != "" {
		if err := os.MkdirAll(*profDir, 0o755); err != nil {
			fmt.Fprintf(stderr, "loadgen: %v\n", err)
			return 2
		}
	}
	limit, err := raiseFileLimit()
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: cannot raise the open-file limit: %v\n", err)
	}
	fmt.Fprintf(stderr, "loadgen: open-file limit %d for the load generator and the servers it starts\n", limit)
	for _, s := range scenarios {
		if n, why := plannedClients(s.Clients, s.Polling, limit, *sources, ephemeralPorts()); n < s.Clients {
			fmt.Fprintf(stderr, "loadgen: warning: %s will connect %s of %s clients: %s\n", s.Name, commas(int64(n)), commas(int64(s.Clients)), why)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	budget := time.Duration(*maxMinutes * float64(time.Minute))
	deadline := time.Now().Add(budget)
	cfg := runConfig{RampRate: *rampRate, Dialers: *dialers, FileLimit: limit,
		Clients: clientOptions{ReadBuffer: *readBuffer, Sources: *sources},
		Drain:   *drain, Settle: *settle, ProfileDir: *profDir, Progress: stderr}
	if *quick {
		cfg.Drain = min(cfg.Drain, 10*time.Second)
		cfg.Settle = min(cfg.Settle, 500*time.Millisecond)
	}

	load0 := loadAverage()
	began := time.Now()
	var results []result
	var skipped []string
	// notServed lists the scenarios a server cannot take, once each, for
	// the report.
	var notServed []string
	for _, sc := range scenarios {
		for _, k := range kinds {
			if why := k.serves(sc); why != "" {
				notServed = append(notServed, fmt.Sprintf("%s on %s (it %s)", sc.Name, k.Name, why))
			}
		}
		for r := 1; r <= *runs; r++ {
			for _, k := range kinds {
				if k.serves(sc) != "" {
					continue
				}
				if ctx.Err() != nil || time.Until(deadline) < estimate(sc, cfg) {
					skipped = append(skipped, fmt.Sprintf("%s/%s run %d", sc.Name, k.Name, r))
					continue
				}
				fmt.Fprintf(stderr, "loadgen: %s on %s, run %d of %d (load average %s)\n", sc.Name, k.Name, r, *runs, loadAverage())
				res := runScenario(ctx, k, sc, r, cfg)
				fmt.Fprintf(stderr, "  %s\n", summary(res))
				results = append(results, res)
			}
		}
	}

	fmt.Fprintf(stdout, "## Fan-out benchmark\n\n")
	fmt.Fprintf(stdout, "%s. Load average before %s, after %s; %s in all. Servers: %s, each run on a fresh server, servers alternating (run 1 of each, then run 2 of each, ...). Each cell is the median of %d run(s) (of two, their mean), with the lowest and highest run in brackets; ratios are of medians; \"delivered\" is the worst run's. Clients: %d concurrent dialers, reads of at most %d bytes, socket.io-client's heartbeat; Tweetwire runs with --backlog %d (the Node.js reference has none). Latency is publish to client: from the post's ts, or on the load generator's clock in latency scenarios; server CPU and RSS are the server process's (/proc), CPU over the publishing window; memory per idle connection is RSS with the clients connected less RSS before, over the clients.\n\n",
		machine(), load0, loadAverage(), time.Since(began).Round(time.Second), serverNames(kinds), *runs, *dialers, *readBuffer, *backlog)
	cells := summarize(results)
	fmt.Fprint(stdout, markdown(cells, scenarios))
	if len(notServed) > 0 {
		fmt.Fprintf(stdout, "\nNot run, the server cannot serve these clients: %s.\n", strings.Join(notServed, ", "))
	}
	if len(skipped) > 0 {
		fmt.Fprintf(stdout, "\nSkipped (--max-minutes %g): %s\n", *maxMinutes, strings.Join(skipped, ", "))
	}
	var missed []string
	for _, k := range tweetwires {
		vs := checkTargets(cells, scenarios, k.Name)
		if len(vs) == 0 {
			continue
		}
		fmt.Fprint(stdout, targetsMarkdown(k.Name, vs))
		for _, sc := range missedScenarios(vs) {
			if !slices.Contains(missed, sc) {
				missed = append(missed, sc)
			}
		}
	}
	if len(missed) > 0 {
		fmt.Fprint(stdout, explainMissed(ctx, missed, scenarios, *explain, *twprof != "" && *profDir != "", *backlog, deadline, cfg))
	}
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "loadgen: %v\n", err)
		}
	}

	status := 0
	for _, r := range results {
		switch {
		case r.Err != "":
			fmt.Fprintf(stderr, "loadgen: %s on %s run %d failed: %s\n", r.Scenario, r.Server, r.Run, r.Err)
			status = 1
		case *quick && r.Connected < r.Clients:
			fmt.Fprintf(stderr, "loadgen: %s on %s: only %d of %d clients connected\n", r.Scenario, r.Server, r.Connected, r.Clients)
			status = 1
		case *quick && r.Expected > 0 && r.Delivered < r.Expected:
			fmt.Fprintf(stderr, "loadgen: %s on %s: %d of %d deliveries missing\n", r.Scenario, r.Server, r.Expected-r.Delivered, r.Expected)
			status = 1
		}
	}
	if *quick && len(skipped) > 0 {
		status = 1
	}
	return status
}

// estimate is roughly how long one run of sc takes, for the time budget.
func estimate(sc scenario, cfg runConfig) time.Duration {
	rampRate := cfg.RampRate
	if rampRate <= 0 {
		rampRate = 2000 // about what 32 dialers reach on 2 shared cores
	}
	ramp := time.Duration(float64(sc.Clients) / rampRate * float64(time.Second))
	d := ramp + cfg.Settle + 2*time.Second + sc.Idle
	d += sc.publishTime()
	return d
}

func summary(r result) string {
	if r.Err != "" {
		return "failed: " + oneLine(r.Err)
	}
	s := fmt.Sprintf("%d/%d clients in %.1f s, %.1f KB per idle connection, RSS %s connected, peak RSS %s", r.Connected, r.Clients, r.Ramp, r.IdleConn/1024, bytesIEC(float64(r.RSS)), bytesIEC(float64(r.PeakRSS)))
	if r.Limit != "" {
		s += "; stopped short: " + r.Limit
	}
	if r.Timeouts > 0 {
		s += fmt.Sprintf("; %d ping timeouts", r.Timeouts)
	}
	if r.Expected > 0 {
		s += fmt.Sprintf("; %s/%s delivered (%d drops, %d dups), %s/s, p50 %s p99 %s max %s, server CPU %.1f s = %s deliveries/CPU-s; loadgen CPU %.1f s",
			commas(r.Delivered), commas(r.Expected), r.Drops, r.Dups, rate(r.PerSecond), over(r.P50Over)+ms(r.P50), over(r.P99Over)+ms(r.P99), ms(r.Max), r.CPU, rate(r.PerCPU), r.LoadCPU)
	}
	return s
}

func names(ss []scenario) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return strings.Join(out, ", ")
}

func serverNames(ks []serverKind) string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Name+versionNote(k))
	}
	return strings.Join(out, ", ")
}

// versionNote names the library behind a server, where it is known.
func versionNote(k serverKind) string {
	switch {
	case k.Name == "node":
		return " (socket.io " + nodeVersion(k.dir) + ")"
	case k.Name == "wsref":
		return " (gorilla/websocket " + depVersion(k.bin, "github.com/gorilla/websocket") + ")"
	case k.Name == twzsName:
		return " (zishang520/socket.io " + depVersion(k.bin, "github.com/zishang520/socket.io/servers/socket/v3") + ")"
	case strings.HasPrefix(k.Name, "tweetwire"):
		return " (its own Engine.IO 3 and 4, gorilla/websocket " + depVersion(k.bin, "github.com/gorilla/websocket") + ")"
	}
	return ""
}

// nodeVersion is the socket.io version installed in dir.
func nodeVersion(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", "socket.io", "package.json"))
	if err != nil {
		return "?"
	}
	var p struct{ Version string }
	if json.Unmarshal(data, &p) != nil || p.Version == "" {
		return "?"
	}
	return p.Version
}

// depVersion is the version of the module at path that the Go binary bin
// was built with, or "?".
func depVersion(bin, path string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "?"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return "?"
}

// machine describes where the benchmark ran.
func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs shared by the servers and the load generator, %s %s/%s, %s",
		model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format(time.RFC3339))
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
