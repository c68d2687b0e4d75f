package main

import (
	"math"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{4, 2}, 3}, // two runs: their mean
		{[]float64{9, 1, 5}, 5},
		{[]float64{1, 100, 2, 3}, 2.5},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
}

func TestSummarizeKeepsTheWorstDelivery(t *testing.T) {
	results := []result{
		{Scenario: "a", Server: "node", Run: 1, Clients: 10, Connected: 10, Expected: 100, Delivered: 100, PerCPU: 1000, P99: 10, IdleConn: 2048},
		{Scenario: "a", Server: "tweetwire", Run: 1, Clients: 10, Connected: 10, Expected: 100, Delivered: 100, PerCPU: 3000, P99: 4, IdleConn: 1024},
		{Scenario: "a", Server: "node", Run: 2, Clients: 10, Connected: 10, Expected: 100, Delivered: 100, PerCPU: 2000, P99: 30, IdleConn: 2048},
		{Scenario: "a", Server: "tweetwire", Run: 2, Clients: 10, Connected: 10, Expected: 100, Delivered: 97, PerCPU: 1000, P99: 6, IdleConn: 1024},
		{Scenario: "a", Server: "node", Run: 3, Clients: 10, Connected: 10, Expected: 100, Delivered: 100, PerCPU: 1500, P99: 20, IdleConn: 2048},
		{Scenario: "a", Server: "tweetwire", Run: 3, Clients: 10, Connected: 10, Expected: 100, Delivered: 100, PerCPU: 2000, P99: 5, IdleConn: 1024},
		{Scenario: "a", Server: "wsref", Run: 1, Clients: 10, Err: "did not start"},
		{Scenario: "b", Server: "node", Run: 1, Clients: 100, Connected: 40, IdleConn: 2048, Limit: "file descriptors: …, at 40 clients"},
	}
	cells := summarize(results)
	if len(cells) != 4 {
		t.Fatalf("%d cells, want 4", len(cells))
	}
	tw := cells[1]
	if tw.Server != "tweetwire" || tw.Delivered != 97 || tw.PerCPU != 2000 || tw.P99 != 5 || tw.PerCPUSpread != [2]float64{1000, 3000} {
		t.Fatalf("tweetwire cell = %+v", tw)
	}
	out := markdown(cells, []scenario{{Name: "a", Clients: 10, Rate: 1, Count: 10}, {Name: "b", Clients: 100, Idle: 1}})
	for _, want := range []string{
		"**97 / 100 (97.00%)**",  // missing posts stand out
		"failed: did not start",  // a failed server is listed
		"5.0 ms [4.0 ms–6.0 ms]", // median and spread of three runs
		"2,000 [1,000–3,000]",
		"| a | **no** | 1.33× | — | 0.25× | — | 0.50× | — |", // ratios of medians to Node; no limit
		"b on node: file descriptors: …, at 40 clients",      // what stopped a ramp
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestCommas(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1500000: "1,500,000", -12345: "-12,345"} {
		if got := commas(in); got != want {
			t.Errorf("commas(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestBoundedRatio(t *testing.T) {
	tests := []struct {
		a     float64
		aOver bool
		b     float64
		bOver bool
		want  string
	}{
		{10, false, 20, false, "0.50×"},
		{10, true, 20, false, "≥ 0.50×"},
		{10, false, 20, true, "≤ 0.50×"},
		{10, true, 20, true, "?"},
		{10, false, 0, false, "—"},
	}
	for _, tc := range tests {
		if got := boundedRatio(tc.a, tc.aOver, tc.b, tc.bOver, true); got != tc.want {
			t.Errorf("boundedRatio(%v, %v, %v, %v) = %q, want %q", tc.a, tc.aOver, tc.b, tc.bOver, got, tc.want)
		}
	}
}
