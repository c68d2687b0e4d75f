package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// cell is the median of one server's runs of one scenario, with the
// spread (min and max) of the figures that carry ratios.
type cell struct {
	Scenario, Server string
	Runs             int
	Failed           []string // errors of runs that did not finish
	// Worst run's deliveries, so a missing post is never hidden by a
	// median.
	Delivered, Expected int64
	Connected, Clients  int
	Drops               int64
	PerSecond           float64
	P50, P99, Max       float64 // ms
	P50Over, P99Over    bool    // a lower bound: some run ended first
	CPU, PerCPU         float64
	PeakRSS             float64
	IdleConn            float64 // bytes
	LoadCPU             float64
	RSS                 float64 // with the clients connected
	Ramp                float64 // seconds to connect the clients
	// Spreads: the lowest and highest run.
	PerCPUSpread, P99Spread, IdleConnSpread [2]float64
	// Limits are the limits that stopped runs' ramps short, once each.
	Limits []string
}

// median of xs; the mean of the middle two for an even count (with two
// runs, their mean). NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// summarize folds runs into cells, in the order scenarios and servers
// first appear.
func summarize(results []result) []cell {
	type key struct{ sc, srv string }
	var order []key
	groups := map[key][]result{}
	for _, r := range results {
		k := key{r.Scenario, r.Server}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	// Group by scenario, keeping first-seen order within.
	slices.SortStableFunc(order, func(a, b key) int {
		return firstIndex(results, a.sc) - firstIndex(results, b.sc)
	})
	var out []cell
	for _, k := range order {
		rs := groups[k]
		c := cell{Scenario: k.sc, Server: k.srv, Runs: len(rs), Clients: rs[0].Clients, Delivered: -1}
		var ok []result
		for _, r := range rs {
			if r.Err != "" {
				c.Failed = append(c.Failed, r.Err)
				continue
			}
			ok = append(ok, r)
			// The worst run by share delivered.
			if c.Delivered < 0 || share(r.Delivered, r.Expected) < share(c.Delivered, c.Expected) {
				c.Delivered, c.Expected, c.Connected = r.Delivered, r.Expected, r.Connected
			}
			c.Drops = max(c.Drops, r.Drops)
			if r.Limit != "" && !slices.Contains(c.Limits, r.Limit) {
				c.Limits = append(c.Limits, r.Limit)
			}
		}
		if c.Delivered < 0 {
			c.Delivered = 0
		}
		values := func(f func(result) float64) []float64 {
			xs := make([]float64, 0, len(ok))
			for _, r := range ok {
				xs = append(xs, f(r))
			}
			return xs
		}
		pick := func(f func(result) float64) float64 { return median(values(f)) }
		spread := func(f func(result) float64) [2]float64 {
			xs := values(f)
			if len(xs) == 0 {
				return [2]float64{math.NaN(), math.NaN()}
			}
			return [2]float64{slices.Min(xs), slices.Max(xs)}
		}
		c.PerCPUSpread = spread(func(r result) float64 { return r.PerCPU })
		c.P99Spread = spread(func(r result) float64 { return r.P99 })
		c.IdleConnSpread = spread(func(r result) float64 { return r.IdleConn })
		c.RSS = pick(func(r result) float64 { return float64(r.RSS) })
		c.Ramp = pick(func(r result) float64 { return r.Ramp })
		c.PerSecond = pick(func(r result) float64 { return r.PerSecond })
		c.P50 = pick(func(r result) float64 { return r.P50 })
		c.P99 = pick(func(r result) float64 { return r.P99 })
		for _, r := range ok {
			c.P50Over = c.P50Over || r.P50Over
			c.P99Over = c.P99Over || r.P99Over
		}
		c.Max = pick(func(r result) float64 { return r.Max })
		c.CPU = pick(func(r result) float64 { return r.CPU })
		c.PerCPU = pick(func(r result) float64 { return r.PerCPU })
		c.PeakRSS = pick(func(r result) float64 { return float64(r.PeakRSS) })
		c.IdleConn = pick(func(r result) float64 { return r.IdleConn })
		c.LoadCPU = pick(func(r result) float64 { return r.LoadCPU })
		out = append(out, c)
	}
	return out
}

func firstIndex(results []result, scenario string) int {
	return slices.IndexFunc(results, func(r result) bool { return r.Scenario == scenario })
}

func share(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Names of the two servers the others are compared with.
const (
	nodeName  = "node"
	limitName = "wsref"
)

// markdown renders the results table and, for every other server, its
// ratios to the Node.js server and to the limit: ratios of the medians.
// Where a server has more than one run, deliveries per CPU-second, p99
// and memory per idle connection show the median and, in brackets, the
// lowest and highest run: one run per server cannot carry a ratio when
// the reference's own figure moves by half between runs.
func markdown(cells []cell, scenarios []scenario) string {
	desc := map[string]scenario{}
	for _, s := range scenarios {
		desc[s.Name] = s
	}
	var b strings.Builder
	b.WriteString("| scenario | server | runs | clients | connected in | delivered (worst run) | deliveries/s | p50 | p99 [min–max] | max | server CPU | deliveries/CPU-s [min–max] | RSS connected | peak RSS | per idle conn [min–max] | loadgen CPU |\n")
	b.WriteString("|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var limits []string
	prev := ""
	for _, c := range cells {
		sc := desc[c.Scenario]
		name := c.Scenario
		if sc.Name != "" {
			name = fmt.Sprintf("%s: %s", c.Scenario, sc.describe())
		}
		if c.Scenario == prev {
			name = "″" // as above
		}
		prev = c.Scenario
		if len(c.Failed) == c.Runs {
			fmt.Fprintf(&b, "| %s | %s | %d | — | — | failed: %s | | | | | | | | | | |\n", name, c.Server, c.Runs, oneLine(c.Failed[0]))
			continue
		}
		delivered := "—"
		if c.Expected > 0 {
			delivered = fmt.Sprintf("%s / %s", commas(c.Delivered), commas(c.Expected))
			if c.Delivered < c.Expected {
				delivered = fmt.Sprintf("**%s / %s (%.2f%%)**", commas(c.Delivered), commas(c.Expected), 100*share(c.Delivered, c.Expected))
			}
		}
		if c.Drops > 0 {
			delivered += fmt.Sprintf(", %d dropped", c.Drops)
		}
		if len(c.Failed) > 0 {
			delivered += fmt.Sprintf(" (%d of %d runs failed)", len(c.Failed), c.Runs)
		}
		for _, l := range c.Limits {
			limits = append(limits, fmt.Sprintf("%s on %s: %s", c.Scenario, c.Server, l))
		}
		ok := c.Runs - len(c.Failed)
		idle := sc.Count == 0
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			name, c.Server, c.Runs, commas(int64(c.Connected)), secs(c.Ramp), delivered,
			ifBusy(!idle, rate(c.PerSecond)), ifBusy(!idle, over(c.P50Over)+ms(c.P50)),
			ifBusy(!idle, over(c.P99Over)+ms(c.P99)+spreadOf(ok, c.P99Spread, ms)), ifBusy(!idle, ms(c.Max)),
			ifBusy(!idle, secs(c.CPU)), ifBusy(!idle, rate(c.PerCPU)+spreadOf(ok, c.PerCPUSpread, rate)),
			bytesIEC(c.RSS), bytesIEC(c.PeakRSS), kb(c.IdleConn)+spreadOf(ok, c.IdleConnSpread, kb), secs(c.LoadCPU))
	}
	if len(limits) > 0 {
		fmt.Fprintf(&b, "\nStopped short of the clients asked for: %s.\n", strings.Join(limits, "; "))
	}

	// Ratios: each server but the two references, against both.
	byKey := map[[2]string]cell{}
	var servers []string
	for _, c := range cells {
		byKey[[2]string{c.Scenario, c.Server}] = c
		if c.Server != nodeName && c.Server != limitName && !slices.Contains(servers, c.Server) {
			servers = append(servers, c.Server)
		}
	}
	haveRef := slices.ContainsFunc(cells, func(c cell) bool { return c.Server == nodeName || c.Server == limitName })
	if !haveRef {
		servers = nil // nothing to compare with
	}
	for _, srv := range servers {
		fmt.Fprintf(&b, "\n%s against the Node.js server and the limit (gorilla/websocket), ratios of medians: deliveries per CPU-second higher is better; p99 and memory lower is better (the targets are checked below).\n\n", srv)
		b.WriteString("| scenario | all delivered | deliveries/CPU-s ×Node | ×limit | p99 ×Node | ×limit | per idle conn ×Node | ×limit |\n")
		b.WriteString("|:--|:-:|--:|--:|--:|--:|--:|--:|\n")
		seen := map[string]bool{}
		for _, c := range cells {
			if c.Server != srv || seen[c.Scenario] {
				continue
			}
			seen[c.Scenario] = true
			node, hasNode := byKey[[2]string{c.Scenario, nodeName}]
			lim, hasLim := byKey[[2]string{c.Scenario, limitName}]
			idle := desc[c.Scenario].Count == 0
			all := "—"
			if !idle {
				all = "yes"
				if len(c.Failed) > 0 || c.Expected == 0 || c.Delivered < c.Expected {
					all = "**no**"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.Scenario, all,
				ifBusy(!idle, ratio(c.PerCPU, node.PerCPU, hasNode)), ifBusy(!idle, ratio(c.PerCPU, lim.PerCPU, hasLim)),
				ifBusy(!idle, boundedRatio(c.P99, c.P99Over, node.P99, node.P99Over, hasNode)),
				ifBusy(!idle, boundedRatio(c.P99, c.P99Over, lim.P99, lim.P99Over, hasLim)),
				ratio(c.IdleConn, node.IdleConn, hasNode), ratio(c.IdleConn, lim.IdleConn, hasLim))
		}
	}
	return b.String()
}

// spreadOf is " [min–max]" of a figure over runs, "" for a single run.
func spreadOf(runs int, mm [2]float64, format func(float64) string) string {
	if runs < 2 || math.IsNaN(mm[0]) {
		return ""
	}
	return " [" + format(mm[0]) + "–" + format(mm[1]) + "]"
}

func ifBusy(busy bool, s string) string {
	if !busy {
		return "—"
	}
	return s
}

// over marks a percentile that is only a lower bound.
func over(o bool) string {
	if o {
		return "> "
	}
	return ""
}

// boundedRatio is a/b where either may be a lower bound: "≥" when only a
// is, "≤" when only b is, "?" when both are.
func boundedRatio(a float64, aOver bool, b float64, bOver bool, ok bool) string {
	r := ratio(a, b, ok)
	switch {
	case r == "—" || aOver == bOver && !aOver:
		return r
	case aOver && bOver:
		return "?"
	case aOver:
		return "≥ " + r
	default:
		return "≤ " + r
	}
}

func ratio(a, b float64, ok bool) string {
	if !ok || b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func rate(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return commas(int64(math.Round(x)))
}

func ms(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case x >= 1000:
		return fmt.Sprintf("%.2f s", x/1000)
	case x >= 10:
		return fmt.Sprintf("%.0f ms", x)
	default:
		return fmt.Sprintf("%.1f ms", x)
	}
}

func secs(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.1f s", x)
}

func kb(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.1f KB", x/1024)
}

func bytesIEC(x float64) string {
	if math.IsNaN(x) || x <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", x/(1<<20))
}

// commas formats n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
