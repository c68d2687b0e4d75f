package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// cpuShare is one kind of work and its share of a CPU profile.
type cpuShare struct {
	What string
	CPU  time.Duration
	Frac float64
}

// Kinds of work a CPU sample is put under, by its stack.
const (
	workWrite     = "write system calls (the kernel's TCP send, loopback receive included)"
	workRead      = "read system calls"
	workSyscall   = "other system calls (epoll, accept, close)"
	workMemory    = "memory: allocation and garbage collection"
	workScheduler = "Go scheduler: parking, waking and switching goroutines"
	workHTTP      = "net/http (parsing requests, headers, buffers, connection state)"
	workTweetwire = "Tweetwire's code (Engine.IO, Socket.IO, hub, app)"
	workWebSocket = "gorilla/websocket (handshakes)"
	workOther     = "other Go code"
)

// classify puts a sample under one kind of work, from its stack, leaf
// first (function names as pprof gives them). The order matters: a system
// call is the kernel's time whoever made it, an allocation is memory
// work whoever asked, and the rest belongs to the innermost frame that is
// not the runtime's.
func classify(stack []string) string {
	for i, f := range stack {
		if !isSyscallFrame(f) {
			if i == 0 {
				break
			}
			// The first frame above the system call stubs names it:
			// syscall.write, syscall.read, internal/poll.writev, or
			// Tweetwire's own writev.
			name := strings.ToLower(f[strings.LastIndex(f, ".")+1:])
			switch {
			case strings.Contains(name, "write") || strings.Contains(name, "send"):
				return workWrite
			case strings.Contains(name, "read") || strings.Contains(name, "recv"):
				return workRead
			}
			return workSyscall
		}
	}
	for _, f := range stack {
		switch f {
		case "runtime.mallocgc", "runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.bgsweep",
			"runtime.bgscavenge", "runtime.gcStart", "runtime.growslice", "runtime.makeslice", "runtime.newobject":
			return workMemory
		}
	}
	root := stack[len(stack)-1]
	if root == "runtime.mstart" || root == "runtime.mcall" || slices.Contains(stack, "runtime.schedule") ||
		slices.Contains(stack, "runtime.gopark") || stack[0] == "runtime.futex" {
		return workScheduler
	}
	// The innermost frame of the program's own code or of net/http
	// owns the rest: the runtime and general standard library packages
	// (maps, encoding/json, net/url) work for whoever called them.
	for _, f := range stack {
		pkg := packageOf(f)
		switch {
		case strings.HasPrefix(pkg, "github.com/tweetwire/"):
			return workTweetwire
		case strings.HasPrefix(pkg, "github.com/gorilla/websocket"):
			return workWebSocket
		case pkg == "net/http" || pkg == "bufio" || pkg == "net/textproto" || pkg == "net" || pkg == "internal/poll":
			return workHTTP
		}
	}
	return workOther
}

// isSyscallFrame says whether f is one of the Go stubs that enter the
// kernel: a sample there is time in the system call.
func isSyscallFrame(f string) bool {
	if strings.HasPrefix(f, "runtime.") && strings.Contains(f, "syscall") {
		return true // entersyscall, exitsyscall: the way in and out
	}
	switch f {
	case "internal/runtime/syscall/linux.Syscall6", "internal/runtime/syscall.Syscall6", "syscall.RawSyscall6",
		"syscall.Syscall", "syscall.Syscall6", "syscall.RawSyscall", "syscall.rawSyscallNoError",
		"golang.org/x/sys/unix.Syscall", "golang.org/x/sys/unix.Syscall6", "golang.org/x/sys/unix.RawSyscall",
		"runtime/internal/syscall.Syscall6":
		return true
	}
	return false
}

// packageOf is the import path of a function as pprof names it:
// "net/http.(*conn).serve" is in "net/http"; the runtime's assembly
// ("memeqbody") has no package and is the runtime's.
func packageOf(f string) string {
	if !strings.Contains(f, ".") {
		return "runtime"
	}
	slash := strings.LastIndex(f, "/")
	dot := strings.Index(f[slash+1:], ".")
	if dot < 0 {
		return f
	}
	return f[:slash+1+dot]
}

// profileShares reads a CPU profile and splits its time into kinds of
// work, largest first. It returns the profile's total CPU time too.
func profileShares(path string) ([]cpuShare, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, 0, fmt.Errorf("read the CPU profile %s: %w", path, err)
	}
	// The CPU profile's values are samples and nanoseconds: use the
	// nanoseconds, or the samples when there is only one kind.
	idx := len(p.SampleType) - 1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			idx = i
		}
	}
	if idx < 0 {
		return nil, 0, fmt.Errorf("the profile %s has no samples", path)
	}
	by := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		var stack []string
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function != nil {
					stack = append(stack, line.Function.Name)
				}
			}
		}
		if len(stack) == 0 {
			continue
		}
		v := s.Value[idx]
		by[classify(stack)] += v
		total += v
	}
	if total == 0 {
		return nil, 0, fmt.Errorf("the profile %s has no samples: the server was idle", path)
	}
	var out []cpuShare
	for what, v := range by {
		out = append(out, cpuShare{What: what, CPU: time.Duration(v), Frac: float64(v) / float64(total)})
	}
	slices.SortFunc(out, func(a, b cpuShare) int { return cmp.Or(cmp.Compare(b.CPU, a.CPU), strings.Compare(a.What, b.What)) })
	return out, time.Duration(total), nil
}

// sharesLine says where the CPU went, largest first, in one sentence.
func sharesLine(shares []cpuShare) string {
	var parts []string
	for _, s := range shares {
		if s.Frac < 0.01 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", s.What, 100*s.Frac))
	}
	return strings.Join(parts, "; ")
}

// coreName is the server twprof runs as: Tweetwire's application with
// /debug/pprof.
const coreName = "tweetwire-core"

// explainMissed profiles each scenario in missed once on the twprof
// binary bin and says where its CPU went: what bounds a missed target.
// With profiled (--twprof with --cpuprofile), this invocation has
// profiled every scenario on tweetwire-core already, and those are read;
// otherwise a file in the profile folder may be an older run's, of
// another build, and is never read. Without bin it says how to get the
// profile.
func explainMissed(ctx context.Context, missed []string, scenarios []scenario, bin string, profiled bool, backlog int, deadline time.Time, cfg runConfig) string {
	var b strings.Builder
	b.WriteString("\n### What bounds the missed targets\n\n")
	dir := cfg.ProfileDir
	if dir == "" && bin != "" {
		tmp, err := os.MkdirTemp("", "loadgen-profiles-")
		if err != nil {
			fmt.Fprintf(&b, "No profile: %v.\n", err)
			return b.String()
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if bin == "" && dir == "" {
		b.WriteString("No profile taken: give --explain with the twprof binary (scripts/bench does) to profile each such scenario.\n")
		return b.String()
	}
	how := "run once more on %s"
	if profiled {
		how = "the first run on %s"
	}
	fmt.Fprintf(&b, "Each scenario with a missed target, "+how+" (the same application with /debug/pprof, server/tools/loadgen/twprof), with a CPU profile of the publishing window; each sample is put under the kind of work it was doing (%s).\n\n", coreName, profileNote(cfg.ProfileDir))
	kind := tweetwireKind(coreName, bin, true, backlog)
	for _, name := range missed {
		i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.Name == name })
		sc := scenarios[i]
		path := filepath.Join(dir, fmt.Sprintf("%s-%s.cpu.pprof", coreName, name))
		run := ""
		if _, err := os.Stat(path); !profiled || err != nil {
			switch {
			case bin == "":
				fmt.Fprintf(&b, "- **%s**: no profile (give --explain).\n", name)
				continue
			case ctx.Err() != nil || time.Until(deadline) < estimate(sc, cfg):
				fmt.Fprintf(&b, "- **%s**: not profiled: out of time (--max-minutes).\n", name)
				continue
			}
			pcfg := cfg
			pcfg.ProfileDir = dir
			fmt.Fprintf(cfg.Progress, "loadgen: %s on %s with a CPU profile, to explain a missed target (load average %s)\n", name, coreName, loadAverage())
			res := runScenario(ctx, kind, sc, 1, pcfg)
			fmt.Fprintf(cfg.Progress, "  %s\n", summary(res))
			if res.Err != "" {
				fmt.Fprintf(&b, "- **%s**: the profiled run failed: %s.\n", name, oneLine(res.Err))
				continue
			}
			run = fmt.Sprintf("; this run: %s deliveries/CPU-s, p99 %s", rate(res.PerCPU), over(res.P99Over)+ms(res.P99))
		}
		shares, total, err := profileShares(path)
		if err != nil {
			fmt.Fprintf(&b, "- **%s**: %v.\n", name, err)
			continue
		}
		var sys float64
		for _, s := range shares {
			if s.What == workWrite || s.What == workRead || s.What == workSyscall {
				sys += s.Frac
			}
		}
		fmt.Fprintf(&b, "- **%s** (%.1f s of server CPU profiled%s): system calls %.0f%% in all. %s.\n", name, total.Seconds(), run, 100*sys, sharesLine(shares))
	}
	return b.String()
}

func profileNote(dir string) string {
	if dir == "" {
		return "--cpuprofile DIR keeps the profiles for go tool pprof"
	}
	return "the profiles are in " + dir + ", for go tool pprof"
}
