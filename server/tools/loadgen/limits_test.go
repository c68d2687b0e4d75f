package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestPlannedClients(t *testing.T) {
	tests := []struct {
		name      string
		want      int
		polling   bool
		fileLimit uint64
		sources   int
		ports     int
		n         int
		limit     string
	}{
		{"fits", 10000, false, 20000, 8, 28232, 10000, ""},
		{"file descriptors", 100000, false, 20000, 8, 28232, 20000 - fdReserve, "file descriptors: the open-file limit is 20000"},
		{"polling takes two each", 9000, true, 20000, 8, 28232, 9000, ""},
		{"polling past the limit", 15000, true, 20000, 8, 28232, (20000 - fdReserve) / 2, "file descriptors"},
		{"ports", 100000, false, 1 << 20, 2, 28232, 2 * 28232 * 9 / 10, "ephemeral ports: 2 source addresses"},
		{"unknown limits", 100000, false, 0, 8, 0, 100000, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, limit := plannedClients(tc.want, tc.polling, tc.fileLimit, tc.sources, tc.ports)
			if n != tc.n || (tc.limit == "") != (limit == "") || !strings.Contains(limit, tc.limit) {
				t.Fatalf("plannedClients = %d, %q; want %d, %q", n, limit, tc.n, tc.limit)
			}
		})
	}
}

func TestDialLimit(t *testing.T) {
	wrap := func(errno syscall.Errno) error {
		return fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)})
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"file descriptors", wrap(syscall.EMFILE), "file descriptors"},
		{"ports", wrap(syscall.EADDRNOTAVAIL), "ephemeral ports"},
		{"memory", wrap(syscall.ENOBUFS), "memory"},
		{"refused is no limit", wrap(syscall.ECONNREFUSED), ""},
		{"none", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dialLimit(tc.err)
			if (tc.want == "") != (got == "") || !strings.HasPrefix(got, tc.want) {
				t.Fatalf("dialLimit = %q, want one starting %q", got, tc.want)
			}
		})
	}
}

func TestMeminfo(t *testing.T) {
	total, avail := meminfo("MemTotal:       24684000 kB\nMemFree:        100 kB\nMemAvailable:   1024 kB\n")
	if total != 24684000<<10 || avail != 1024<<10 {
		t.Fatalf("meminfo = %d, %d", total, avail)
	}
	if total, avail := meminfo("garbage"); total != -1 || avail != -1 {
		t.Fatalf("meminfo of garbage = %d, %d, want -1, -1", total, avail)
	}
}
