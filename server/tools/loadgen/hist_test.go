package main

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueInOrder(t *testing.T) {
	// Every value falls in a bucket whose upper edge is at least the
	// value and whose predecessor's upper edge is below it; so buckets
	// are contiguous, ordered, and never wider than 1/128 of their values.
	check := func(v uint64) {
		i := bucketOf(v)
		if hi := bucketHigh(i); hi < v {
			t.Fatalf("value %d: bucket %d ends at %d", v, i, hi)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Fatalf("value %d: bucket %d, but bucket %d already ends at %d", v, i, i-1, bucketHigh(i-1))
		}
		if v >= subCount {
			if lo := bucketHigh(i-1) + 1; float64(bucketHigh(i)-lo+1) > float64(lo)/128 {
				t.Fatalf("value %d: bucket [%d, %d] wider than 1/128", v, lo, bucketHigh(i))
			}
		}
	}
	for v := range uint64(1 << 16) {
		check(v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(r.Uint64N(1 << 47))
	}
}

// exactQuantile is the nearest-rank quantile of a sorted sample.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(q*float64(len(sorted)) + 0.999999999)
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestQuantileMatchesExactWithinBucketWidth(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name string
		draw func() time.Duration
	}{
		{"uniform 0-100 ms", func() time.Duration { return time.Duration(r.Int64N(int64(100 * time.Millisecond))) }},
		{"long tail", func() time.Duration { return time.Duration(r.ExpFloat64() * float64(5*time.Millisecond)) }},
		{"two modes", func() time.Duration {
			if r.IntN(100) == 0 {
				return 8*time.Second + time.Duration(r.Int64N(int64(time.Second)))
			}
			return time.Duration(r.Int64N(int64(2 * time.Millisecond)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			var all []time.Duration
			for range 50000 {
				d := tc.draw()
				h.Record(d)
				all = append(all, d.Truncate(time.Microsecond))
			}
			slices.Sort(all)
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.Quantile(q), exactQuantile(all, q)
				// The bucket's upper edge: never below the truth, at
				// most 1/128 above it (1 µs below 256 µs).
				if got < want || float64(got-want) > float64(want)/128+float64(time.Microsecond) {
					t.Errorf("q%.3f = %v, exact %v", q, got, want)
				}
			}
			if h.Max() != all[len(all)-1] {
				t.Errorf("max = %v, want %v", h.Max(), all[len(all)-1])
			}
			if h.Count() != uint64(len(all)) {
				t.Errorf("count = %d, want %d", h.Count(), len(all))
			}
		})
	}
}

func TestQuantileSmallSamples(t *testing.T) {
	var h histogram
	if got := h.Quantile(0.99); got != 0 {
		t.Fatalf("empty: %v, want 0", got)
	}
	h.Record(1500 * time.Microsecond)
	for _, q := range []float64{0.01, 0.5, 1} {
		// Capped at the exact maximum: a single sample is exact.
		if got := h.Quantile(q); got != 1500*time.Microsecond {
			t.Fatalf("one sample: q%v = %v, want 1.5ms", q, got)
		}
	}
	h.Record(-time.Second) // a clock step counts as zero
	if got := h.Quantile(0.5); got != 0 {
		t.Fatalf("q0.5 of {0, 1.5ms} = %v, want 0", got)
	}
	// With 100 samples p99 is the 99th smallest, not the largest.
	var g histogram
	for i := 1; i <= 100; i++ {
		g.Record(time.Duration(i) * time.Microsecond)
	}
	if got := g.Quantile(0.99); got != 99*time.Microsecond {
		t.Fatalf("p99 of 1..100 µs = %v, want 99µs", got)
	}
}

func TestHistogramConcurrentRecord(t *testing.T) {
	var h histogram
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10000 {
				h.Record(time.Duration(w*10000+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if h.Count() != 80000 || h.Max() != 79999*time.Microsecond {
		t.Fatalf("count %d max %v, want 80000 and 79.999ms", h.Count(), h.Max())
	}
}

func TestQuantileOfCountsMissingSamplesAsSlowest(t *testing.T) {
	var h histogram
	for i := 1; i <= 98; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	// 100 expected, 98 arrived: the median is known, p99 is not.
	if d, ok := h.QuantileOf(0.5, 100); !ok || d < 50*time.Millisecond || d > 51*time.Millisecond {
		t.Fatalf("p50 of 100 with 2 missing = %v, %v; want about 50ms", d, ok)
	}
	if _, ok := h.QuantileOf(0.99, 100); ok {
		t.Fatal("p99 with 2% missing: known, want unknown")
	}
	if d, ok := h.QuantileOf(0.98, 100); !ok || d < 98*time.Millisecond || d > 99*time.Millisecond {
		t.Fatalf("p98 with 2 missing = %v, %v; want about 98ms", d, ok)
	}
	// A total below the recorded count is the recorded count.
	if d, ok := h.QuantileOf(1, 10); !ok || d != 98*time.Millisecond {
		t.Fatalf("max = %v, %v; want 98ms", d, ok)
	}
}
