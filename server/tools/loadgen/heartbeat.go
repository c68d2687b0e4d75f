package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// heartbeat is socket.io-client's keep-alive for one Engine.IO session,
// started by the open packet with the pingInterval and pingTimeout it
// announces. The two protocol generations differ in who pings:
//
//   - EIO 3 (engine.io-client 3.x, socket.io-client 2.x): the client sends
//     a ping "2" pingInterval after the open packet and then pingInterval
//     after each pong "3" (setPing). Once a ping is out, the server has
//     pingTimeout to send something; any packet it sends pushes the
//     deadline back to pingInterval+pingTimeout (onHeartbeat). Past the
//     deadline the client closes ("ping timeout").
//   - EIO 4 (engine.io-client 4 to 6, socket.io-client 3.x/4.x): the server
//     pings; the client answers each ping with a pong at once (the caller
//     does that, with the ping's data) and closes when no ping came within
//     pingInterval+pingTimeout of the previous one or of the open packet
//     (resetPingTimeout).
//
// Timers, not a goroutine, wait between beats: 100,000 idle clients then
// cost two timers each and no stacks. A timer's function runs on a
// goroutine of its own, so send and expire must be safe to call
// concurrently with the session's reads.
type heartbeat struct {
	eio               int
	interval, timeout time.Duration
	send              func(packet string) error // sends one Engine.IO packet
	expire            func()                    // ends the session: closes the connection or stops the polls

	mu      sync.Mutex
	ping    *time.Timer // EIO 3: the next ping; nil on EIO 4
	dead    *time.Timer // the ping timeout
	stopped bool
	expired atomic.Bool
	pings   atomic.Int64 // pings sent (EIO 3), for tests
}

// startHeartbeat arms the timers of a session whose open packet said o.
func startHeartbeat(eio int, o openInfo, send func(string) error, expire func()) *heartbeat {
	h := &heartbeat{
		eio:      eio,
		interval: time.Duration(o.PingInterval) * time.Millisecond,
		timeout:  time.Duration(o.PingTimeout) * time.Millisecond,
		send:     send,
		expire:   expire,
	}
	if h.interval <= 0 {
		h.interval = 25 * time.Second // the protocol's default
	}
	if h.timeout <= 0 {
		h.timeout = 20 * time.Second
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dead = time.AfterFunc(h.interval+h.timeout, h.onDead)
	if eio == 3 {
		h.ping = time.AfterFunc(h.interval, h.onPing)
	}
	return h
}

// received is told the type of every packet the server sends.
func (h *heartbeat) received(t byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	switch {
	case h.eio == 3:
		h.dead.Reset(h.interval + h.timeout)
		if t == eioPong {
			h.ping.Reset(h.interval)
		}
	case t == eioPing:
		h.dead.Reset(h.interval + h.timeout)
	}
}

// onPing sends an EIO 3 ping and gives the server pingTimeout to answer.
func (h *heartbeat) onPing() {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.dead.Reset(h.timeout)
	h.mu.Unlock()
	// Outside mu: a polling send is an HTTP request.
	if h.send(string(eioPing)) == nil {
		h.pings.Add(1)
	}
}

func (h *heartbeat) onDead() {
	h.mu.Lock()
	stopped := h.stopped
	h.mu.Unlock()
	if !stopped {
		h.expired.Store(true)
		h.expire()
	}
}

// stop disarms the timers; the session is over.
func (h *heartbeat) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	h.dead.Stop()
	if h.ping != nil {
		h.ping.Stop()
	}
}
