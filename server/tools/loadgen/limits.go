package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Limits that stop a ramp short: a scenario of 100,000 clients meets the
// machine's before it meets the server's. The ramp checks them before it
// starts (file descriptors, ports) and while it runs (a dial that fails
// for want of a resource, the server gone, memory running out), and the
// report says which one it hit instead of counting failed clients.

// fdReserve is what this program and a server keep open besides the
// clients' sockets: listeners, the store, pipes, the control client.
const fdReserve = 256

// plannedClients is how many of want clients fit in the open-file limit
// (both this program and the server it started hold one socket per
// WebSocket client, two per polling client) and in the ephemeral ports
// of sources loopback addresses; limit says which bound it, "" for none.
func plannedClients(want int, polling bool, fileLimit uint64, sources int, ports int) (n int, limit string) {
	per := 1
	if polling {
		per = 2
	}
	n = want
	if fileLimit > 0 {
		if fit := (int(min(fileLimit, 1<<30)) - fdReserve) / per; fit < n {
			n = max(fit, 0)
			limit = fmt.Sprintf("file descriptors: the open-file limit is %d (ulimit -Hn) for the load generator and the server, room for %s clients; raise the hard limit (limits.conf, systemd LimitNOFILE, or docker --ulimit nofile=) to go further", fileLimit, commas(int64(n)))
		}
	}
	if ports > 0 && sources > 0 {
		// Leave a tenth for TIME_WAITs of earlier runs and other programs.
		if fit := sources * ports * 9 / 10 / per; fit < n {
			n = fit
			limit = fmt.Sprintf("ephemeral ports: %d source addresses × %d ports; give more --source-addrs", sources, ports)
		}
	}
	return n, limit
}

// ephemeralPorts is the size of net.ipv4.ip_local_port_range, 0 if
// unknown.
func ephemeralPorts() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return 0
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || hi < lo {
		return 0
	}
	return hi - lo + 1
}

// dialLimit names the resource a failed connection ran out of, or ""
// when the failure is not one of want: the ramp stops at the first.
func dialLimit(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "file descriptors: the load generator's open-file limit (" + err.Error() + ")"
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return "ephemeral ports: no free source port (" + err.Error() + "); give more --source-addrs"
	case errors.Is(err, syscall.ENOMEM), errors.Is(err, syscall.ENOBUFS):
		return "memory: the kernel refused a socket (" + err.Error() + ")"
	}
	return ""
}

// memoryLow says why the machine is too short of memory to add clients
// (MemAvailable under a twentieth of MemTotal or 512 MiB), "" when it is
// not: the machine is shared, and the OOM killer would pick a process at
// random.
func memoryLow() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return ""
	}
	total, avail := meminfo(string(data))
	if total <= 0 || avail < 0 {
		return ""
	}
	if floor := max(total/20, 512<<20); avail < floor {
		return fmt.Sprintf("memory: MemAvailable fell to %s of %s", bytesIEC(float64(avail)), bytesIEC(float64(total)))
	}
	return ""
}

// meminfo reads MemTotal and MemAvailable, in bytes, from /proc/meminfo;
// -1 for one it lacks.
func meminfo(s string) (total, avail int64) {
	total, avail = -1, -1
	for line := range strings.Lines(s) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "kB")), 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "MemTotal":
			total = kb << 10
		case "MemAvailable":
			avail = kb << 10
		}
	}
	return total, avail
}
