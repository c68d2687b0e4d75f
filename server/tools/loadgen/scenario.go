package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// scenario is one load: clients on a transport and a publishing schedule.
type scenario struct {
	Name    string
	Clients int
	Polling bool
	// EIO is the Engine.IO protocol the clients speak: 3 (socket.io-client
	// 2.x) or 4 (3.x and 4.x, Socket.IO v5).
	EIO int
	// Rate posts per second, Count in all; Count 0 makes an idle
	// scenario, which holds the clients for Idle and measures memory.
	Rate  float64
	Count int
	Idle  time.Duration
	// OwnClock publishes one post per request on this program's schedule
	// and measures latency from that moment on this program's clock,
	// rather than from the ts the server writes (end-to-end latency).
	OwnClock bool
}

// publishTime is how long publishing takes on schedule; 0 for rate 0,
// "as fast as possible".
func (s scenario) publishTime() time.Duration {
	if s.Rate <= 0 {
		return 0
	}
	return time.Duration(float64(s.Count) / s.Rate * float64(time.Second))
}

func (s scenario) describe() string {
	tr := "WebSocket"
	if s.Polling {
		tr = "polling"
	}
	tr += fmt.Sprintf(", EIO %d", s.EIO)
	if s.Count == 0 {
		return fmt.Sprintf("%s clients idle (%s)", commas(int64(s.Clients)), tr)
	}
	if s.Rate <= 0 {
		return fmt.Sprintf("%s clients × %s posts at once (%s)", commas(int64(s.Clients)), commas(int64(s.Count)), tr)
	}
	if s.OwnClock {
		tr += ", latency on the load generator's clock"
	}
	return fmt.Sprintf("%s clients × %g posts/s (%s)", commas(int64(s.Clients)), s.Rate, tr)
}

// The scenarios. Each publishes for about 15 s: long enough for a
// backlog to show in the latency, short enough that twice every scenario
// on three servers stays well within 40 minutes.
// The protocol is a dimension: names without a 4 are Engine.IO v3
// (socket.io-client 2.x), names with one are v4 (socket.io-client 3.x
// and 4.x), the same load otherwise.
var fullScenarios = []scenario{
	{Name: "ws-1000x100", Clients: 1000, EIO: 3, Rate: 100, Count: 1500},
	{Name: "ws-2000x50", Clients: 2000, EIO: 3, Rate: 50, Count: 750},
	{Name: "ws-5000x20", Clients: 5000, EIO: 3, Rate: 20, Count: 300},
	{Name: "ws-10000x10", Clients: 10000, EIO: 3, Rate: 10, Count: 150},
	{Name: "idle-10000", Clients: 10000, EIO: 3, Idle: 10 * time.Second},
	{Name: "idle-50000", Clients: 50000, EIO: 3, Idle: 10 * time.Second},
	{Name: "latency-10000x10", Clients: 10000, EIO: 3, Rate: 10, Count: 300, OwnClock: true},
	{Name: "polling-200x10", Clients: 200, Polling: true, EIO: 3, Rate: 10, Count: 150},
	{Name: "ws4-1000x100", Clients: 1000, EIO: 4, Rate: 100, Count: 1500},
	{Name: "ws4-2000x50", Clients: 2000, EIO: 4, Rate: 50, Count: 750},
	{Name: "ws4-5000x20", Clients: 5000, EIO: 4, Rate: 20, Count: 300},
	{Name: "ws4-10000x10", Clients: 10000, EIO: 4, Rate: 10, Count: 150},
	{Name: "idle4-10000", Clients: 10000, EIO: 4, Idle: 10 * time.Second},
	{Name: "idle4-50000", Clients: 50000, EIO: 4, Idle: 10 * time.Second},
	{Name: "latency4-10000x10", Clients: 10000, EIO: 4, Rate: 10, Count: 300, OwnClock: true},
	{Name: "polling4-200x10", Clients: 200, Polling: true, EIO: 4, Rate: 10, Count: 150},
}

// scaleScenarios are run only when named (--scenarios): 100,000 idle
// WebSocket clients, for the server's RSS and the time to connect them
// all. Where a limit (file descriptors, ports, memory) stops the ramp
// first, the run says which and at how many clients.
var scaleScenarios = []scenario{
	{Name: "scale-100000", Clients: 100000, EIO: 3, Idle: 10 * time.Second},
	{Name: "scale4-100000", Clients: 100000, EIO: 4, Idle: 10 * time.Second},
}

// quickScenarios prove that the harness works end to end in seconds, on
// both protocols.
var quickScenarios = []scenario{
	{Name: "quick-ws-50x20", Clients: 50, EIO: 3, Rate: 20, Count: 100},
	{Name: "quick-polling-10x10", Clients: 10, Polling: true, EIO: 3, Rate: 10, Count: 30},
	{Name: "quick-ws4-50x20", Clients: 50, EIO: 4, Rate: 20, Count: 100},
}

// result is one run of one scenario on one server.
type result struct {
	Scenario  string  `json:"scenario"`
	Server    string  `json:"server"`
	Run       int     `json:"run"`
	Clients   int     `json:"clients"`   // asked for
	Connected int     `json:"connected"` // connected at publish time
	Expected  int64   `json:"expected"`
	Delivered int64   `json:"delivered"`
	Dups      int64   `json:"dups"`
	Drops     int64   `json:"drops"`      // disconnections during the run
	Reconnect int64   `json:"reconnects"` // reconnections that succeeded
	PerSecond float64 `json:"deliveries_per_second"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	// P50Over and P99Over mark a percentile that fell among deliveries
	// still missing at the end: it is then the run's length, a lower
	// bound.
	P50Over  bool    `json:"p50_over,omitempty"`
	P99Over  bool    `json:"p99_over,omitempty"`
	Max      float64 `json:"max_ms"`
	CPU      float64 `json:"server_cpu_s"`
	PerCPU   float64 `json:"deliveries_per_cpu_s"`
	PeakRSS  int64   `json:"peak_rss"`
	IdleConn float64 `json:"bytes_per_idle_conn"`
	// RSS is the server's resident memory with every client connected
	// and idle.
	RSS int64 `json:"rss_connected"`
	// Limit says what stopped the ramp short of Clients, "" when nothing
	// did.
	Limit    string  `json:"limit,omitempty"`
	Timeouts int64   `json:"ping_timeouts"` // sessions closed for a ping timeout
	LoadCPU  float64 `json:"loadgen_cpu_s"`
	Ramp     float64 `json:"ramp_s"` // time to connect the clients
	Wall     float64 `json:"publish_wall_s"`
	Load     string  `json:"loadavg"`
	Err      string  `json:"error,omitempty"`
}

// runConfig tunes how runs ramp and wait.
type runConfig struct {
	RampRate   float64       // new clients per second at most; 0: as fast as the dialers go
	Dialers    int           // handshakes in flight at once
	Clients    clientOptions // read buffer, source addresses
	FileLimit  uint64        // RLIMIT_NOFILE of this program and the servers, 0 if unknown
	Drain      time.Duration // extra wait for deliveries after the last publish
	Settle     time.Duration // pause after connecting, before measuring memory
	ProfileDir string        // where CPU profiles go, "" for none
	Progress   io.Writer
}

// runScenario starts a fresh server, connects the clients, publishes and
// measures. It always stops what it started.
func runScenario(ctx context.Context, k serverKind, sc scenario, run int, cfg runConfig) (res result) {
	res = result{Scenario: sc.Name, Server: k.Name, Run: run, Clients: sc.Clients, Load: loadAverage()}
	fail := func(format string, a ...any) result {
		res.Err = fmt.Sprintf(format, a...)
		return res
	}
	srv, err := start(ctx, k)
	if err != nil {
		return fail("%v", err)
	}
	defer srv.stop()
	time.Sleep(500 * time.Millisecond) // let start-up work (the store, JIT) finish
	rss0, _, err := procMem(srv.pid)
	if err != nil {
		return fail("read the server's memory: %v", err)
	}

	t := &tally{}
	if sc.OwnClock {
		// Before any client runs: they read it on every post.
		t.sent = make([]atomic.Int64, sc.Count)
	}
	opts := cfg.Clients.withDefaults()
	n, limit := plannedClients(sc.Clients, sc.Polling, cfg.FileLimit, opts.Sources, ephemeralPorts())
	res.Limit = limit
	if n == 0 {
		return fail("no client fits: %s", limit)
	}
	if n < sc.Clients {
		fmt.Fprintf(cfg.Progress, "  %s %s run %d: connecting %d of %d clients, limited by %s\n", k.Name, sc.Name, run, n, sc.Clients, limit)
	}
	env := newClientEnv(srv.base, sc.Polling, sc.EIO, n, t, opts)
	defer env.http.CloseIdleConnections()
	cctx, stopClients := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopClients()
		waitTimeout(&wg, 15*time.Second)
	}()

	// Ramp: Dialers clients handshake at once, each slot taking the next
	// client when its Socket.IO connect arrives (at most RampRate a
	// second when that is set), as the independent generator's 32
	// dialers do. It stops early, saying why, when a limit is hit.
	self0 := selfCPU()
	rampStart := time.Now()
	slots := make(chan struct{}, cfg.Dialers)
	var ready sync.WaitGroup
	var connected, failed int
	var stopped string // the limit that stopped the ramp
	var mu sync.Mutex
	stopRamp := func(why string) {
		mu.Lock()
		if stopped == "" {
			stopped = why
		}
		mu.Unlock()
	}
	rampDeadline := time.Now().Add(time.Duration(n)*5*time.Millisecond + 60*time.Second)
	if cfg.RampRate > 0 {
		rampDeadline = time.Now().Add(time.Duration(float64(n)/cfg.RampRate*float64(time.Second)) + 60*time.Second)
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		for watchCtx.Err() == nil {
			select {
			case <-srv.done:
				stopRamp("the server exited")
				return
			case <-watchCtx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
			if why := memoryLow(); why != "" {
				stopRamp(why)
			}
		}
	}()
	for i := range n {
		if cfg.RampRate > 0 {
			due := rampStart.Add(time.Duration(float64(i) / cfg.RampRate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		select {
		case slots <- struct{}{}:
		case <-time.After(time.Until(rampDeadline)):
		}
		mu.Lock()
		halt := stopped != ""
		mu.Unlock()
		if halt || time.Now().After(rampDeadline) || ctx.Err() != nil {
			break
		}
		c := &client{env: env}
		ready.Add(1)
		wg.Go(func() {
			var once sync.Once
			c.run(cctx, func(err error) {
				once.Do(func() {
					mu.Lock()
					if err == nil {
						connected++
					} else {
						failed++
					}
					mu.Unlock()
					if why := dialLimit(err); why != "" {
						stopRamp(why)
					}
					<-slots
					ready.Done()
				})
			})
			// A client that stopped before its first result (ctx
			// ended) frees its slot too.
			once.Do(func() { <-slots; ready.Done() })
		})
	}
	waitTimeout(&ready, time.Until(rampDeadline))
	stopWatch()
	res.Ramp = time.Since(rampStart).Seconds()
	mu.Lock()
	res.Connected = connected
	if stopped != "" {
		res.Limit = fmt.Sprintf("%s, at %s clients", stopped, commas(int64(connected)))
	}
	mu.Unlock()
	fmt.Fprintf(cfg.Progress, "  %s %s run %d: %d/%d clients connected in %.1f s (%d failed)\n",
		k.Name, sc.Name, run, res.Connected, sc.Clients, res.Ramp, failed)
	if res.Limit != "" {
		fmt.Fprintf(cfg.Progress, "  %s %s run %d: stopped short: %s\n", k.Name, sc.Name, run, res.Limit)
	}
	select {
	case <-srv.done:
		return fail("the server exited with %d clients connected; its output ends with:\n%s", res.Connected, srv.out.String())
	default:
	}
	if res.Connected == 0 {
		return fail("no client connected")
	}

	// Wait until the server counts the clients, then let it settle and
	// measure memory per connection.
	waitUntil(ctx, 15*time.Second, func() bool {
		st, err := srv.stats(ctx)
		return err == nil && st.Clients >= res.Connected
	})
	settle := cfg.Settle
	if sc.Count == 0 {
		settle = max(settle, sc.Idle)
	}
	time.Sleep(settle)
	rss1, _, err := procMem(srv.pid)
	if err != nil {
		return fail("read the server's memory: %v", err)
	}
	res.IdleConn = float64(rss1-rss0) / float64(res.Connected)
	res.RSS = rss1
	if cfg.ProfileDir != "" && srv.kind.PProf && run == 1 {
		// The heap with every client connected and idle: what memory
		// per connection is made of.
		path := filepath.Join(cfg.ProfileDir, fmt.Sprintf("%s-%s.heap.pprof", srv.kind.Name, sc.Name))
		if err := srv.fetch(ctx, "/debug/pprof/heap?gc=1", path); err != nil {
			fmt.Fprintf(cfg.Progress, "  %s %s: no heap profile: %v\n", srv.kind.Name, sc.Name, err)
		}
	}

	if sc.Count > 0 {
		if err := publishAndWait(ctx, srv, sc, run, t, cfg, &res); err != nil {
			return fail("%v", err)
		}
	}
	if _, peak, err := procMem(srv.pid); err == nil {
		res.PeakRSS = peak
	}
	res.LoadCPU = (selfCPU() - self0).Seconds()
	res.Timeouts = t.timeouts.Load()
	return res
}

// publishAndWait asks the server to publish and waits until every
// connected client has every post, or the drain time is over.
func publishAndWait(ctx context.Context, srv *running, sc scenario, run int, t *tally, cfg runConfig, res *result) error {
	st, err := srv.stats(ctx)
	if err != nil {
		return err
	}
	t.first.Store(st.Published)
	t.count.Store(int64(sc.Count))
	// Clients that dropped while idle are counted as connected as long
	// as they came back.
	res.Expected = int64(res.Connected) * int64(sc.Count)
	cpu0, err := procCPU(srv.pid)
	if err != nil {
		return err
	}
	publishTime := sc.publishTime()
	if cfg.ProfileDir != "" && srv.kind.PProf && run == 1 {
		path := filepath.Join(cfg.ProfileDir, fmt.Sprintf("%s-%s.cpu.pprof", srv.kind.Name, sc.Name))
		go func() {
			if err := srv.cpuProfile(ctx, max(publishTime, 5*time.Second), path); err != nil {
				fmt.Fprintf(cfg.Progress, "  %s %s: no CPU profile: %v\n", srv.kind.Name, sc.Name, err)
			}
		}()
	}
	t0 := time.Now()
	published := make(chan error, 1)
	pctx, stopPublishing := context.WithCancel(ctx)
	defer stopPublishing()
	if sc.OwnClock {
		go func() { published <- publishOwnClock(pctx, srv, sc, t.sent, t0) }()
	} else {
		if err := srv.publish(ctx, sc.Count, sc.Rate); err != nil {
			return err
		}
		published <- nil
	}
	drain := max(cfg.Drain, publishTime)
	waitUntil(ctx, publishTime+drain, func() bool { return t.delivered.Load() >= res.Expected })
	select {
	case err := <-published:
		if err != nil {
			return err
		}
	default:
	}
	cpu1, err := procCPU(srv.pid)
	if err != nil {
		return err
	}
	res.Delivered = t.delivered.Load()
	res.Dups = t.dups.Load()
	res.Drops = t.drops.Load()
	res.Reconnect = t.reconnect.Load()
	res.CPU = (cpu1 - cpu0).Seconds()
	if res.CPU > 0 {
		res.PerCPU = float64(res.Delivered) / res.CPU
	}
	last := time.Unix(0, t.lastRecv.Load())
	res.Wall = last.Sub(t0).Seconds()
	if res.Wall > 0 {
		res.PerSecond = float64(res.Delivered) / res.Wall
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	// Percentiles over every expected delivery: one still missing at
	// the end took longer than the run, and must not make the
	// percentile look better.
	window := ms(time.Since(t0))
	quantile := func(q float64) (float64, bool) {
		d, ok := t.hist.QuantileOf(q, uint64(max(res.Expected, 0)))
		if !ok {
			return window, true
		}
		return ms(d), false
	}
	res.P50, res.P50Over = quantile(0.50)
	res.P99, res.P99Over = quantile(0.99)
	res.Max = ms(t.hist.Max())
	return nil
}

// publishOwnClock publishes sc.Count posts at sc.Rate, one per
// /bench/publish request, and stores in sent[i] the moment post i was due
// on this program's clock, before asking for it: clients measure latency
// from there. Requests go one after another, so the i-th is the server's
// post first+i. The due time, not the time the request went out, is the
// publish time: a server that stalls the request delays the posts after
// it, and their latency shows it.
func publishOwnClock(ctx context.Context, srv *running, sc scenario, sent []atomic.Int64, t0 time.Time) error {
	for i := range sent {
		due := t0.Add(time.Duration(float64(i) / sc.Rate * float64(time.Second)))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(due)):
		}
		sent[i].Store(due.UnixNano())
		if err := srv.publish(ctx, 1, 0); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// waitUntil polls cond every 20 ms until it holds, ctx ends or limit
// passes.
func waitUntil(ctx context.Context, limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// waitTimeout waits for wg, or gives up after d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(max(d, 0)):
		return false
	}
}
