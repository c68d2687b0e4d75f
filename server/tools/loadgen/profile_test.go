package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// Stacks as a CPU profile of the server under polling load gives them,
// leaf first (trimmed).
var (
	stackWrite = []string{"internal/runtime/syscall/linux.Syscall6", "syscall.RawSyscall6", "syscall.Syscall", "syscall.write",
		"syscall.Write", "internal/poll.ignoringEINTRIO", "internal/poll.(*FD).Write", "net.(*netFD).Write", "bufio.(*Writer).Flush",
		"net/http.(*response).finishRequest", "net/http.(*conn).serve", "runtime.goexit"}
	stackOwnWritev = []string{"internal/runtime/syscall/linux.Syscall6", "syscall.RawSyscall6", "syscall.Syscall",
		"github.com/tweetwire/tweetwire/server/socketio.tryWrite", "github.com/tweetwire/tweetwire/server/socketio.(*writer).flush", "runtime.goexit"}
	stackReadExit = []string{"runtime.exitsyscall", "syscall.Syscall", "syscall.read", "syscall.Read",
		"internal/poll.ignoringEINTRIO", "internal/poll.(*FD).Read", "net/http.(*connReader).backgroundRead", "runtime.goexit"}
	stackEpoll = []string{"internal/runtime/syscall/linux.Syscall6", "internal/runtime/syscall/linux.EpollWait", "runtime.netpoll",
		"runtime.findRunnable", "runtime.schedule", "runtime.park_m", "runtime.mcall"}
	stackMalloc = []string{"runtime.memclrNoHeapPointers", "runtime.mallocgc", "runtime.newobject",
		"net/http.(*conn).readRequest", "net/http.(*conn).serve", "runtime.goexit"}
	stackGC      = []string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2", "runtime.systemstack", "runtime.gcBgMarkWorker", "runtime.goexit"}
	stackPark    = []string{"runtime.gopark", "runtime.selectgo", "github.com/tweetwire/tweetwire/server/socketio.(*session).poll", "runtime.goexit"}
	stackFutex   = []string{"runtime.futex", "runtime.futexwakeup", "runtime.notewakeup", "runtime.startm", "runtime.wakep", "runtime.newproc.func1"}
	stackMapMine = []string{"memeqbody", "runtime.mapaccess1_faststr", "net/url.Values.Get",
		"github.com/tweetwire/tweetwire/server/socketio.(*engine).ServeHTTP", "net/http.(*ServeMux).ServeHTTP", "net/http.(*conn).serve", "runtime.goexit"}
	stackHTTPPath = []string{"path.(*lazybuf).append", "path.Clean", "net/http.cleanPath", "net/http.(*ServeMux).findHandler",
		"net/http.(*ServeMux).ServeHTTP", "github.com/tweetwire/tweetwire/server/app.(*startGate).ServeHTTP", "runtime.goexit"}
	stackGorilla = []string{"runtime.memmove", "github.com/gorilla/websocket.(*Upgrader).Upgrade", "github.com/tweetwire/tweetwire/server/socketio.(*engine).openWS", "runtime.goexit"}
	stackOther   = []string{"sort.Strings", "main.main", "runtime.main", "runtime.goexit"}
)

func TestClassifyPutsEachSampleUnderItsWork(t *testing.T) {
	tests := []struct {
		name  string
		stack []string
		want  string
	}{
		{"net/http's response write is a write", stackWrite, workWrite},
		{"Tweetwire's own writev is a write", stackOwnWritev, workWrite},
		{"leaving a read system call is the read's", stackReadExit, workRead},
		{"epoll_wait is another system call", stackEpoll, workSyscall},
		{"an allocation is memory, whoever asked", stackMalloc, workMemory},
		{"the GC's mark worker is memory", stackGC, workMemory},
		{"a goroutine parking is the scheduler", stackPark, workScheduler},
		{"a futex wake is the scheduler", stackFutex, workScheduler},
		{"a map lookup in Tweetwire's handler is Tweetwire's", stackMapMine, workTweetwire},
		{"path.Clean for net/http's mux is net/http's", stackHTTPPath, workHTTP},
		{"gorilla's upgrade is gorilla's", stackGorilla, workWebSocket},
		{"anything else is other", stackOther, workOther},
	}
	for _, tc := range tests {
		if got := classify(tc.stack); got != tc.want {
			t.Errorf("%s: classify = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPackageOf(t *testing.T) {
	for f, want := range map[string]string{
		"net/http.(*conn).serve": "net/http",
		"github.com/tweetwire/tweetwire/server/socketio.(*session).poll": "github.com/tweetwire/tweetwire/server/socketio",
		"runtime.gopark":            "runtime",
		"memeqbody":                 "runtime",
		"internal/poll.(*FD).Write": "internal/poll",
		"vendor/golang.org/x/net/http/httpguts.ValidHeaderFieldName": "vendor/golang.org/x/net/http/httpguts",
	} {
		if got := packageOf(f); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", f, got, want)
		}
	}
}

// writeProfile writes a CPU profile with the given stacks and their
// CPU time, as the Go runtime does (samples and nanoseconds), inlined
// frames sharing a location as pprof stores them.
func writeProfile(t *testing.T, stacks map[*[]string]time.Duration) string {
	t.Helper()
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     int64(10 * time.Millisecond),
	}
	funcs := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f, ok := funcs[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(funcs) + 1), Name: name, SystemName: name}
		funcs[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	for stack, d := range stacks {
		s := &profile.Sample{Value: []int64{int64(d / (10 * time.Millisecond)), int64(d)}}
		// Two frames to a location: the leaf inlined into its caller.
		for i := 0; i < len(*stack); i += 2 {
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Address: uint64(0x1000 + len(p.Location))}
			for _, name := range (*stack)[i:min(i+2, len(*stack))] {
				loc.Line = append(loc.Line, profile.Line{Function: fn(name), Line: 1})
			}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := p.Write(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProfileSharesAddUpLargestFirst(t *testing.T) {
	path := writeProfile(t, map[*[]string]time.Duration{
		&stackWrite:     400 * time.Millisecond,
		&stackOwnWritev: 200 * time.Millisecond,
		&stackReadExit:  300 * time.Millisecond,
		&stackPark:      100 * time.Millisecond,
	})
	shares, total, err := profileShares(path)
	if err != nil {
		t.Fatal(err)
	}
	if total != time.Second {
		t.Errorf("total %v, want 1s", total)
	}
	want := []cpuShare{{workWrite, 600 * time.Millisecond, 0.6}, {workRead, 300 * time.Millisecond, 0.3}, {workScheduler, 100 * time.Millisecond, 0.1}}
	if len(shares) != len(want) {
		t.Fatalf("shares %+v, want %+v", shares, want)
	}
	for i := range want {
		if shares[i].What != want[i].What || shares[i].CPU != want[i].CPU || shares[i].Frac < want[i].Frac-1e-9 || shares[i].Frac > want[i].Frac+1e-9 {
			t.Errorf("share %d = %+v, want %+v", i, shares[i], want[i])
		}
	}
	line := sharesLine(shares)
	if !strings.HasPrefix(line, workWrite+" 60%; "+workRead+" 30%") {
		t.Errorf("sharesLine = %q", line)
	}
}

func TestProfileSharesSaysWhatIsWrong(t *testing.T) {
	if _, _, err := profileShares(filepath.Join(t.TempDir(), "none.pprof")); err == nil {
		t.Error("a missing profile gave no error")
	}
	bad := filepath.Join(t.TempDir(), "bad.pprof")
	if err := os.WriteFile(bad, []byte("<html>not a profile</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := profileShares(bad); err == nil || !strings.Contains(err.Error(), "read the CPU profile") {
		t.Errorf("a page for a profile: %v", err)
	}
	if _, _, err := profileShares(writeProfile(t, nil)); err == nil || !strings.Contains(err.Error(), "no samples") {
		t.Errorf("an empty profile: %v", err)
	}
}

// A profile left in the folder by an earlier invocation (another build,
// perhaps) is never read as this run's: only when this run profiled
// every scenario on tweetwire-core (--twprof with --cpuprofile).
func TestExplainMissedReadsOnlyThisRunsProfiles(t *testing.T) {
	path := writeProfile(t, map[*[]string]time.Duration{&stackWrite: 750 * time.Millisecond, &stackReadExit: 250 * time.Millisecond})
	dir := filepath.Dir(path)
	sc := fullScenarios[0]
	if err := os.Rename(path, filepath.Join(dir, coreName+"-"+sc.Name+".cpu.pprof")); err != nil {
		t.Fatal(err)
	}
	cfg := runConfig{ProfileDir: dir, Progress: io.Discard}
	stale := explainMissed(context.Background(), []string{sc.Name}, fullScenarios, "", false, 0, time.Now().Add(time.Hour), cfg)
	if !strings.Contains(stale, "**"+sc.Name+"**: no profile (give --explain)") || strings.Contains(stale, "75%") {
		t.Errorf("an older profile was read as this run's:\n%s", stale)
	}
	ours := explainMissed(context.Background(), []string{sc.Name}, fullScenarios, "", true, 0, time.Now().Add(time.Hour), cfg)
	if !strings.Contains(ours, "the first run on "+coreName) || !strings.Contains(ours, "system calls 100% in all. "+workWrite+" 75%; "+workRead+" 25%") {
		t.Errorf("this run's profile was not explained:\n%s", ours)
	}
}
