package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func ms(ns ...int) []time.Duration {
	out := make([]time.Duration, 0, len(ns))
	for _, n := range ns {
		out = append(out, time.Duration(n)*time.Millisecond)
	}
	return out
}

func TestPercentile(t *testing.T) {
	twenty := ms(20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{name: "no samples", in: nil, p: 50, want: 0},
		{name: "one sample is every percentile", in: ms(7), p: 99, want: 7 * time.Millisecond},
		{name: "median of an odd count", in: ms(3, 1, 2), p: 50, want: 2 * time.Millisecond},
		{name: "median of an even count is the lower middle", in: ms(4, 1, 3, 2), p: 50, want: 2 * time.Millisecond},
		{name: "p99 of 20 is the slowest", in: twenty, p: 99, want: 20 * time.Millisecond},
		{name: "p95 of 20 is the 19th", in: twenty, p: 95, want: 19 * time.Millisecond},
		{name: "p100 is the max", in: twenty, p: 100, want: 20 * time.Millisecond},
		{name: "a tiny p is the min", in: twenty, p: 0.1, want: time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			if got := percentile(in, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Errorf("percentile reordered its input: %v", in)
			}
		})
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{840 * time.Microsecond, "840µs"},
		{1234 * time.Microsecond, "1.23ms"},
		{12345 * time.Microsecond, "12.3ms"},
		{4560 * time.Millisecond, "4.56s"},
		{125 * time.Second, "2m05s"},
		{59*time.Minute + 59600*time.Millisecond, "60m00s"},
	}
	for _, tt := range tests {
		if got := human(tt.in); got != tt.want {
			t.Errorf("human(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCommas(t *testing.T) {
	tests := map[int64]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567", -1000: "-1,000"}
	for in, want := range tests {
		if got := commas(in); got != want {
			t.Errorf("commas(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSizes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []int
		wantErr bool
	}{
		{name: "default", in: "10000,100000", want: []int{10000, 100000}},
		{name: "spaces and underscores", in: " 1_000 , 2000", want: []int{1000, 2000}},
		{name: "zero", in: "0", wantErr: true},
		{name: "negative", in: "-5", wantErr: true},
		{name: "empty item", in: "1000,", wantErr: true},
		{name: "not a number", in: "10k", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSizes(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseSizes(%q) error = %v, want error: %v", tt.in, err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseSizes(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestTable(t *testing.T) {
	got := table([]row{
		{Posts: 10000, Name: "insert, sequential", Ops: 10000, Wall: 4 * time.Second, CPU: 10 * time.Second, Lat: ms(1, 2, 3)},
		{Posts: 10000, Name: "Stats", Ops: 2, Wall: 5 * time.Second, Lat: ms(2000, 3000), Note: "490 authors"},
		{Posts: 10000, Name: "data dir after insert", Note: "12.0 MiB"},
	})
	want := `| posts | measurement | ops | wall | rate | cpu/op | p50 | p99 | max | note |
|------:|:------------|----:|-----:|-----:|-------:|----:|----:|----:|:-----|
| 10,000 | insert, sequential | 10,000 | 4.00s | 2,500/s | 1.00ms | 2.00ms | 3.00ms | 3.00ms |  |
| 10,000 | Stats | 2 | 5.00s | 0.40/s | — | 2.00s | 3.00s | 3.00s | 490 authors |
| 10,000 | data dir after insert | — | — | — | — | — | — | — | 12.0 MiB |
`
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	for i, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if n := strings.Count(line, "|"); n != 11 {
			t.Errorf("line %d has %d pipes, want 11 (10 columns): %s", i, n, line)
		}
	}
}
