package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts latencies in microseconds in log-linear buckets: exact
// below 256 µs, then 128 buckets per power of two, so a percentile read
// from it is within 1/128 (0.8%) of the true value. Every client's reader
// records into one shared histogram with atomic adds: no locks and no
// per-delivery allocation, and a fixed 36 KB however long the run.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64 // microseconds, exact
}

const (
	subBits     = 8
	subCount    = 1 << subBits // values below this have a bucket each
	halfCount   = subCount / 2
	maxShift    = 40 // 2^48 µs: nine years, far past any latency
	histBuckets = subCount + maxShift*halfCount
)

// bucketOf maps a value in µs to its bucket index.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits // v>>shift is in [128, 255]
	if shift > maxShift {
		return histBuckets - 1
	}
	return subCount + (shift-1)*halfCount + int(v>>shift) - halfCount
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := (i-subCount)/halfCount + 1
	top := uint64((i-subCount)%halfCount + halfCount)
	return (top+1)<<shift - 1
}

// Record adds one latency; negative ones (clock steps) count as zero.
func (h *histogram) Record(d time.Duration) {
	us := max(d.Microseconds(), 0)
	h.counts[bucketOf(uint64(us))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Count is how many latencies were recorded.
func (h *histogram) Count() uint64 { return h.n.Load() }

// Max is the largest latency recorded.
func (h *histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the latency that a fraction q (0 < q <= 1) of the
// recorded ones do not exceed, by nearest rank: the upper edge of the
// bucket that holds the ceil(q*n)-th smallest value, capped at the exact
// maximum. It returns 0 when nothing was recorded. Call it once recording
// is over: counts read while others add are only approximately consistent.
func (h *histogram) Quantile(q float64) time.Duration {
	d, _ := h.QuantileOf(q, h.n.Load())
	return d
}

// QuantileOf is Quantile over total samples of which only Count were
// recorded, the rest being larger than any recorded (deliveries still
// missing when the run ended). ok is false when the quantile falls among
// those: it is then more than the run's length, and unknown.
func (h *histogram) QuantileOf(q float64, total uint64) (d time.Duration, ok bool) {
	n := h.n.Load()
	total = max(total, n)
	if total == 0 {
		return 0, true
	}
	rank := uint64(q * float64(total))
	if float64(rank) < q*float64(total) {
		rank++
	}
	rank = min(max(rank, 1), total)
	if rank > n {
		return 0, false
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			us := min(int64(bucketHigh(i)), h.max.Load())
			return time.Duration(us) * time.Microsecond, true
		}
	}
	return h.Max(), true
}
