package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one line of the results table: one measurement at one size.
type row struct {
	Posts int    // the size of the data set
	Name  string // what was measured
	// Ops is how many operations ran; Wall is how long they took in all
	// and CPU the CPU time the process used meanwhile.
	Ops  int
	Wall time.Duration
	CPU  time.Duration
	// Lat holds the latency of each operation, when measured one by one.
	Lat  []time.Duration
	Note string
}

// rate is operations per second over the wall time, 0 when there is none.
func (r row) rate() float64 {
	if r.Ops == 0 || r.Wall <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Wall.Seconds()
}

// percentile returns the p-th percentile (0 < p <= 100) of ds by nearest
// rank: the smallest sample that at least p% of the samples do not exceed.
// With 20 samples, p99 is the slowest one. It returns 0 for no samples.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// table renders rows as a Markdown table.
func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| posts | measurement | ops | wall | rate | cpu/op | p50 | p99 | max | note |\n")
	b.WriteString("|------:|:------------|----:|-----:|-----:|-------:|----:|----:|----:|:-----|\n")
	for _, r := range rows {
		cells := []string{commas(int64(r.Posts)), r.Name, "—", "—", "—", "—", "—", "—", "—", r.Note}
		if r.Ops > 0 {
			cells[2] = commas(int64(r.Ops))
		}
		if r.Wall > 0 {
			cells[3] = human(r.Wall)
			cells[4] = perSecond(r.rate())
		}
		if r.Ops > 0 && r.CPU > 0 {
			cells[5] = human(r.CPU / time.Duration(r.Ops))
		}
		if len(r.Lat) > 0 {
			cells[6] = human(percentile(r.Lat, 50))
			cells[7] = human(percentile(r.Lat, 99))
			cells[8] = human(slices.Max(r.Lat))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// human prints d with three significant digits or so, in the unit that
// suits it: 840µs, 12.3ms, 4.56s, 2m05s.
func human(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	default:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
}

// perSecond prints a rate: whole numbers from 100/s up, two decimals
// below, so that one Stats call in 2.5s reads 0.40/s rather than 0/s.
func perSecond(f float64) string {
	if f >= 100 {
		return commas(int64(math.Round(f))) + "/s"
	}
	return fmt.Sprintf("%.2f/s", f)
}

// commas prints n with thousands separators: 100000 is 100,000.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

// mib prints a byte count in MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// parseSizes reads a comma-separated list of positive post counts, such as
// "10000,100000"; underscores are allowed as in Go ("100_000").
func parseSizes(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad size %q: give positive post counts separated by commas, e.g. 10000,100000", f)
		}
		out = append(out, n)
	}
	return out, nil
}
