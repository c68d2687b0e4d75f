// Command bench measures Tweetwire and prints the results as a Markdown
// table on stdout, with progress on stderr. Run it through scripts/bench:
//
//	scripts/bench store [--sizes 10000,100000] [--quick] [--max-minutes 30]
//
// Each benchmark is a subcommand; more (fan-out) will join "store".
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

const usage = `usage: bench <benchmark> [flags]

benchmarks:
  store   insert throughput, Recent and Stats latency, disk size on the
          embedded store (FerretDB + SQLite)

Run "bench <benchmark> -h" for its flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the exit status: 0 on success, 1 when a benchmark failed, 2
// for a bad command line.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "store":
		return runStore(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "bench: unknown benchmark %q\n\n%s", args[0], usage)
		return 2
	}
}

// machine describes where the benchmark ran, for the report's header.
func machine(now time.Time) string {
	return fmt.Sprintf("%s; %d CPUs (GOMAXPROCS %d), %s %s/%s; %s",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(),
		runtime.GOOS, runtime.GOARCH, now.UTC().Format(time.RFC3339))
}

// cpuModel is the CPU's name from /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// depVersion is the version of the module at path this program was built
// with, or "?".
func depVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "?"
}

// peakRSS is the process's peak resident set size (VmHWM in
// /proc/self/status), or "?" where there is no such file.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
				return mib(kb << 10)
			}
		}
	}
	return "?"
}

// loadAvg is the one-minute load average, or "?" where it is unknown.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
