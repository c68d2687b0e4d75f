package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The targets of issue #16, which the report checks for every Tweetwire
// server in the run.
const (
	// perCPUTarget is how many times Node's deliveries per CPU-second a
	// loaded scenario must reach.
	perCPUTarget = 1.5
	// idleTarget is the most memory per idle connection, as a share of
	// Node's, at 10,000 and at 50,000 clients.
	idleTarget = 0.75
	// endToEndTarget is the p99 a post may take to reach 10,000 clients
	// at 10 posts/s, on the load generator's clock, in milliseconds.
	endToEndTarget = 100
	// scaleClients is where the scale scenario starts: there the target
	// is to connect every client at all, and to say what it took.
	scaleClients = 100000
)

// verdict is one target checked against one scenario.
type verdict struct {
	rank             int // the target's place in the table
	Target, Scenario string
	Measured         string // the figure, in words
	Status           string // met, missed, not reached, not measured
	Why              string // for not reached: the limit; "" otherwise
}

const (
	statusMet         = "met"
	statusMissed      = "missed"
	statusNotReached  = "not reached"
	statusNotMeasured = "not measured"
)

// failed says whether the verdict is one the profile should explain: a
// figure that was measured and fell short. A scenario that stopped at a
// limit of the machine is explained by the limit.
func (v verdict) failed() bool { return v.Status == statusMissed }

// targetScenario says whether sc is one the issue sets targets for: the
// full and scale scenarios, not the quick smoke runs or a custom one.
func targetScenario(sc scenario) bool {
	return slices.ContainsFunc(slices.Concat(fullScenarios, scaleScenarios), func(s scenario) bool { return s.Name == sc.Name })
}

// checkTargets checks server's cells against the targets, in the order of
// scenarios, against the Node.js server's cells of the same run.
func checkTargets(cells []cell, scenarios []scenario, server string) []verdict {
	byKey := map[[2]string]cell{}
	for _, c := range cells {
		byKey[[2]string{c.Scenario, c.Server}] = c
	}
	var out []verdict
	for _, sc := range scenarios {
		c, ok := byKey[[2]string{sc.Name, server}]
		if !ok || !targetScenario(sc) {
			continue
		}
		node, hasNode := byKey[[2]string{sc.Name, nodeName}]
		if len(c.Failed) == c.Runs {
			out = append(out, verdict{Target: "the scenario runs", Scenario: sc.Name, Measured: "every run failed: " + oneLine(c.Failed[0]), Status: statusMissed})
			continue
		}
		if sc.Count > 0 {
			out = append(out, deliveredVerdict(sc, c))
			if !sc.OwnClock {
				out = append(out, perCPUVerdict(sc, c, node, hasNode))
			}
			out = append(out, p99Verdict(sc, c, node, hasNode))
			if sc.OwnClock {
				out = append(out, endToEndVerdict(sc, c))
			}
			continue
		}
		if sc.Clients >= scaleClients {
			out = append(out, scaleVerdict(sc, c))
			continue
		}
		out = append(out, idleVerdict(sc, c, node, hasNode))
	}
	// One target's scenarios together, in the order of targets.
	slices.SortStableFunc(out, func(a, b verdict) int { return a.rank - b.rank })
	return out
}

func deliveredVerdict(sc scenario, c cell) verdict {
	v := verdict{Target: "every post delivered", Scenario: sc.Name, Status: statusMet,
		Measured: fmt.Sprintf("%s of %s in the worst run", commas(c.Delivered), commas(c.Expected))}
	if c.Expected == 0 || c.Delivered < c.Expected || len(c.Failed) > 0 {
		v.Status = statusMissed
	}
	if len(c.Failed) > 0 {
		v.Measured += fmt.Sprintf("; %d of %d runs failed", len(c.Failed), c.Runs)
	}
	return v
}

func perCPUVerdict(sc scenario, c, node cell, hasNode bool) verdict {
	v := verdict{rank: 1, Target: fmt.Sprintf("deliveries per CPU-second ≥ %.1f× Node's", perCPUTarget), Scenario: sc.Name}
	if !hasNode || !(node.PerCPU > 0) || math.IsNaN(c.PerCPU) {
		v.Measured, v.Status = rate(c.PerCPU)+", no Node.js run to compare with", statusNotMeasured
		return v
	}
	r := c.PerCPU / node.PerCPU
	v.Measured = fmt.Sprintf("%.2f× (%s against %s)", r, rate(c.PerCPU), rate(node.PerCPU))
	v.Status = statusMet
	if r < perCPUTarget {
		v.Status = statusMissed
	}
	return v
}

func p99Verdict(sc scenario, c, node cell, hasNode bool) verdict {
	v := verdict{rank: 2, Target: "p99 below Node's", Scenario: sc.Name}
	if !hasNode || math.IsNaN(node.P99) || math.IsNaN(c.P99) {
		v.Measured, v.Status = over(c.P99Over)+ms(c.P99)+", no Node.js run to compare with", statusNotMeasured
		return v
	}
	v.Measured = fmt.Sprintf("%s against %s", over(c.P99Over)+ms(c.P99), over(node.P99Over)+ms(node.P99))
	// Ours is only a lower bound when some posts never came: then it is
	// not below anything.
	v.Status = statusMet
	if c.P99Over || c.P99 >= node.P99 {
		v.Status = statusMissed
	}
	return v
}

func endToEndVerdict(sc scenario, c cell) verdict {
	v := verdict{rank: 3, Target: fmt.Sprintf("end to end p99 ≤ %d ms", endToEndTarget), Scenario: sc.Name,
		Measured: fmt.Sprintf("%s (p50 %s)", over(c.P99Over)+ms(c.P99), over(c.P50Over)+ms(c.P50)), Status: statusMet}
	if c.P99Over || math.IsNaN(c.P99) || c.P99 > endToEndTarget {
		v.Status = statusMissed
	}
	return v
}

func idleVerdict(sc scenario, c, node cell, hasNode bool) verdict {
	v := verdict{rank: 4, Target: fmt.Sprintf("memory per idle connection ≤ %.2f× Node's", idleTarget), Scenario: sc.Name}
	if !hasNode || !(node.IdleConn > 0) {
		v.Measured, v.Status = kb(c.IdleConn)+", no Node.js run to compare with", statusNotMeasured
		return v
	}
	r := c.IdleConn / node.IdleConn
	v.Measured = fmt.Sprintf("%.2f× (%s against %s)", r, kb(c.IdleConn), kb(node.IdleConn))
	v.Status = statusMet
	if r > idleTarget {
		v.Status = statusMissed
	}
	if c.Connected < sc.Clients {
		v.Measured += fmt.Sprintf(" at %s of %s clients", commas(int64(c.Connected)), commas(int64(sc.Clients)))
		v.Status, v.Why = statusNotReached, strings.Join(c.Limits, "; ")
	}
	return v
}

func scaleVerdict(sc scenario, c cell) verdict {
	v := verdict{rank: 5, Target: fmt.Sprintf("%s idle connections", commas(int64(sc.Clients))), Scenario: sc.Name,
		Measured: fmt.Sprintf("%s connected in %s, server RSS %s", commas(int64(c.Connected)), secs(c.Ramp), bytesIEC(c.RSS)), Status: statusMet}
	if c.Connected < sc.Clients {
		v.Status, v.Why = statusNotReached, strings.Join(c.Limits, "; ")
	}
	return v
}

// targetsMarkdown renders the verdicts of one server as a table.
func targetsMarkdown(server string, vs []verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### Targets (#16): %s\n\n", server)
	b.WriteString("| target | scenario | measured (medians) | verdict |\n|:--|:--|:--|:--|\n")
	prev := ""
	for _, v := range vs {
		target := v.Target
		if target == prev {
			target = "″"
		}
		prev = v.Target
		status := v.Status
		if v.Status != statusMet {
			status = "**" + status + "**"
		}
		if v.Why != "" {
			status += ": " + oneLine(v.Why)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", target, v.Scenario, v.Measured, status)
	}
	return b.String()
}

// missedScenarios lists, once each and in order, the scenarios with a
// missed target, which a profile can explain.
func missedScenarios(vs []verdict) []string {
	var out []string
	for _, v := range vs {
		if v.failed() && !slices.Contains(out, v.Scenario) {
			out = append(out, v.Scenario)
		}
	}
	return out
}
