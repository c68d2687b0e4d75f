package main

import (
	"strings"
	"testing"
)

// targetRun is a result of one of the scenarios.
func targetRun(sc, server string, run int, f func(*result)) result {
	r := result{Scenario: sc, Server: server, Run: run, Clients: 1000, Connected: 1000, Expected: 1500000, Delivered: 1500000}
	f(&r)
	return r
}

func TestCheckTargets(t *testing.T) {
	var results []result
	for run := 1; run <= 3; run++ {
		results = append(results,
			// Met: 2× Node's throughput, a far lower p99.
			targetRun("ws-1000x100", "tweetwire", run, func(r *result) { r.PerCPU, r.P99 = 180000+float64(run), 50 }),
			targetRun("ws-1000x100", "node", run, func(r *result) { r.PerCPU, r.P99 = 90000, 3000 }),
			// Polling: 1.4× (missed) and a p99 above Node's (missed),
			// one post missing in one run (missed).
			targetRun("polling-200x10", "tweetwire", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered = 200, 200, 30000, 30000-int64(run/3)
				r.PerCPU, r.P99 = 14000, 30
			}),
			targetRun("polling-200x10", "node", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered = 200, 200, 30000, 30000
				r.PerCPU, r.P99 = 10000, 20
			}),
			// End to end: p99 over 100 ms.
			targetRun("latency-10000x10", "tweetwire", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered = 10000, 10000, 3000000, 3000000
				r.P50, r.P99, r.PerCPU = 120, 700, 160000
			}),
			targetRun("latency-10000x10", "node", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered = 10000, 10000, 3000000, 2400000
				r.P99, r.P99Over, r.PerCPU = 90000, true, 50000
			}),
			// Idle memory, met at 10,000; 50,000 stopped at the file limit.
			targetRun("idle-10000", "tweetwire", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered, r.IdleConn = 10000, 10000, 0, 0, 6400
			}),
			targetRun("idle-10000", "node", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered, r.IdleConn = 10000, 10000, 0, 0, 15000
			}),
			targetRun("idle-50000", "tweetwire", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered, r.IdleConn = 50000, 19743, 0, 0, 6400
				r.Limit = "open files: the hard limit is 20,000"
			}),
			targetRun("idle-50000", "node", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered, r.IdleConn = 50000, 19744, 0, 0, 13800
			}),
			targetRun("scale-100000", "tweetwire", run, func(r *result) {
				r.Clients, r.Connected, r.Expected, r.Delivered, r.IdleConn = 100000, 19743, 0, 0, 6400
				r.RSS, r.Ramp, r.Limit = 160<<20, 49.3, "open files: the hard limit is 20,000"
			}),
			// A scenario no target is set for, and one Node did not run.
			targetRun("quick-ws-50x20", "tweetwire", run, func(r *result) { r.PerCPU, r.P99 = 1, 1e6 }),
			targetRun("ws4-5000x20", "tweetwire", run, func(r *result) { r.PerCPU, r.P99 = 120000, 200 }),
		)
	}
	scenarios := []scenario{quickScenarios[0]}
	for _, name := range []string{"ws-1000x100", "ws4-5000x20", "polling-200x10", "latency-10000x10", "idle-10000", "idle-50000"} {
		for _, s := range fullScenarios {
			if s.Name == name {
				scenarios = append(scenarios, s)
			}
		}
	}
	scenarios = append(scenarios, scaleScenarios[0])
	vs := checkTargets(summarize(results), scenarios, "tweetwire")

	type key struct{ target, scenario string }
	got := map[key]verdict{}
	for _, v := range vs {
		if v.Scenario == "quick-ws-50x20" {
			t.Errorf("a quick scenario has a target: %+v", v)
		}
		got[key{v.Target, v.Scenario}] = v
	}
	perCPU := "deliveries per CPU-second ≥ 1.5× Node's"
	idle := "memory per idle connection ≤ 0.75× Node's"
	for _, want := range []struct {
		target, scenario, status, measured string
	}{
		{"every post delivered", "ws-1000x100", statusMet, "1,500,000 of 1,500,000 in the worst run"},
		{"every post delivered", "polling-200x10", statusMissed, "29,999 of 30,000 in the worst run"},
		{perCPU, "ws-1000x100", statusMet, "2.00× (180,002 against 90,000)"},
		{perCPU, "polling-200x10", statusMissed, "1.40× (14,000 against 10,000)"},
		{perCPU, "ws4-5000x20", statusNotMeasured, "120,000, no Node.js run to compare with"},
		{"p99 below Node's", "ws-1000x100", statusMet, "50 ms against 3.00 s"},
		{"p99 below Node's", "polling-200x10", statusMissed, "30 ms against 20 ms"},
		{"p99 below Node's", "latency-10000x10", statusMet, "700 ms against > 90.00 s"},
		{"end to end p99 ≤ 100 ms", "latency-10000x10", statusMissed, "700 ms (p50 120 ms)"},
		{idle, "idle-10000", statusMet, "0.43× (6.2 KB against 14.6 KB)"},
		{idle, "idle-50000", statusNotReached, "0.46× (6.2 KB against 13.5 KB) at 19,743 of 50,000 clients"},
		{"100,000 idle connections", "scale-100000", statusNotReached, "19,743 connected in 49.3 s, server RSS 160 MiB"},
	} {
		v, ok := got[key{want.target, want.scenario}]
		if !ok {
			t.Errorf("no verdict on %q in %s", want.target, want.scenario)
			continue
		}
		if v.Status != want.status || v.Measured != want.measured {
			t.Errorf("%q in %s: %s, %q; want %s, %q", want.target, want.scenario, v.Status, v.Measured, want.status, want.measured)
		}
	}
	if _, ok := got[key{perCPU, "latency-10000x10"}]; ok {
		t.Error("the latency scenario has a throughput target: it publishes one post per request, on the generator's clock")
	}
	if v := got[key{idle, "idle-50000"}]; !strings.Contains(v.Why, "hard limit is 20,000") {
		t.Errorf("a scenario stopped short does not say why: %+v", v)
	}
	// The missed ones are to be explained, once each, in the order of the
	// scenarios; a limit of the machine is not a profile's to explain.
	if got, want := strings.Join(missedScenarios(vs), ","), "polling-200x10,latency-10000x10"; got != want {
		t.Errorf("missedScenarios = %s, want %s", got, want)
	}

	md := targetsMarkdown("tweetwire", vs)
	for _, want := range []string{
		"### Targets (#16): tweetwire",
		"| ″ | polling-200x10 | 1.40× (14,000 against 10,000) | **missed** |",
		"| idle-50000 | 0.46× (6.2 KB against 13.5 KB) at 19,743 of 50,000 clients | **not reached**: open files: the hard limit is 20,000 |",
		"| ws-1000x100 | 50 ms against 3.00 s | met |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("targets table lacks %q:\n%s", want, md)
		}
	}
	// One target's rows together: the table is read target by target.
	if i, j := strings.Index(md, "every post delivered"), strings.Index(md, perCPU); i < 0 || j < i || strings.Count(md, "every post delivered") != 1 {
		t.Errorf("rows not grouped by target:\n%s", md)
	}
}

func TestCheckTargetsOnAFailedScenario(t *testing.T) {
	results := []result{
		{Scenario: "ws-2000x50", Server: "tweetwire", Run: 1, Clients: 2000, Err: "the server exited: signal: killed"},
		{Scenario: "ws-2000x50", Server: "node", Run: 1, Clients: 2000, Connected: 2000, Expected: 1500000, Delivered: 1500000, PerCPU: 80000, P99: 5000},
	}
	vs := checkTargets(summarize(results), fullScenarios, "tweetwire")
	if len(vs) != 1 || vs[0].Status != statusMissed || !strings.Contains(vs[0].Measured, "signal: killed") {
		t.Fatalf("verdicts %+v, want one missed, saying why", vs)
	}
	if got := missedScenarios(vs); len(got) != 1 || got[0] != "ws-2000x50" {
		t.Errorf("missedScenarios = %v", got)
	}
}
