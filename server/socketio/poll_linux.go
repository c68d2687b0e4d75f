//go:build linux

package socketio

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller waits on one epoll instance for any of the idle WebSockets to
// become readable, so that an idle connection holds no goroutine: a Go
// reader parked in the runtime's netpoller keeps a stack of 2 KB or more
// (4 KB once handling a Socket.IO 5 CONNECT has grown it), a fifth to a
// third of what a whole idle connection cost. When a connection becomes
// readable, its ready function starts a goroutine that reads what came
// and arms the connection again.
//
// A connection is registered with EPOLLONESHOT, level-triggered: after it
// fires it stays silent until armed again, and arming it while data waits
// fires at once, so nothing that arrives between a read and the re-arm is
// missed. Events carry a token, not the file descriptor, and a token is
// forgotten when its connection closes: an event for a closed connection
// (whose descriptor number may already serve another) finds nothing.
// The kernel drops a descriptor from the epoll set when it is closed.
type poller struct {
	epfd int
	// wake is a pipe whose read end is in the epoll set: closing writes
	// to it, the one way to end an epoll_wait in another thread.
	wake [2]int

	mu      sync.Mutex
	watches map[uint64]*pollWatch
	next    uint64
	closed  bool
}

// pollWatch is one connection on the poller.
type pollWatch struct {
	p     *poller
	token uint64
	rc    syscall.RawConn
	ready func()
	added bool // in the epoll set: arm modifies it
}

// wakeToken marks the wake pipe's events; connection tokens start at 1.
const wakeToken = 0

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	p := &poller{epfd: epfd, watches: make(map[uint64]*pollWatch)}
	if err := syscall.Pipe2(p.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("pipe2: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	setToken(&ev, wakeToken)
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev); err != nil {
		p.closeFDs()
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	go p.run()
	return p, nil
}

func setToken(ev *syscall.EpollEvent, t uint64) {
	ev.Fd, ev.Pad = int32(uint32(t)), int32(uint32(t>>32))
}

func tokenOf(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

func (p *poller) closeFDs() {
	syscall.Close(p.wake[0])
	syscall.Close(p.wake[1])
	syscall.Close(p.epfd)
}

// run waits for readiness until close. It blocks one thread in
// epoll_wait, which the runtime lets go of as of any blocking system call.
func (p *poller) run() {
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			// Cannot happen with a valid epfd and buffer; if it
			// does, no connection would be read again: say so.
			panic(fmt.Sprintf("socketio: epoll_wait: %v", err))
		}
		for i := range n {
			t := tokenOf(&events[i])
			if t == wakeToken {
				p.closeFDs()
				return
			}
			p.mu.Lock()
			w := p.watches[t]
			p.mu.Unlock()
			if w != nil {
				w.ready()
			}
		}
	}
}

// watch puts nc on the poller; ready runs (on the poller's goroutine: it
// must only start a goroutine) each time nc is readable after arm.
func (p *poller) watch(nc net.Conn, ready func()) (*pollWatch, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T has no file descriptor", nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errSessionClosed
	}
	p.next++
	w := &pollWatch{p: p, token: p.next, rc: rc, ready: ready}
	p.watches[w.token] = w
	return w, nil
}

// arm asks for one readiness event. One goroutine at a time reads the
// connection and arms it: the one that armed it last, or the reader its
// event started.
func (w *pollWatch) arm() error {
	op := syscall.EPOLL_CTL_MOD
	if !w.added {
		op = syscall.EPOLL_CTL_ADD
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT}
	setToken(&ev, w.token)
	var cerr error
	// Under mu the epoll descriptor is open (close sets closed first, and
	// run closes it later); inside Control the connection's descriptor
	// cannot be closed and its number reused.
	w.p.mu.Lock()
	if w.p.closed {
		w.p.mu.Unlock()
		return errSessionClosed
	}
	err := w.rc.Control(func(fd uintptr) {
		cerr = syscall.EpollCtl(w.p.epfd, op, int(fd), &ev)
	})
	if err == nil {
		err = cerr
	}
	// Set under mu: the event may fire at once, and run looks the watch
	// up under mu before the next arm, on another goroutine, reads it.
	w.added = w.added || err == nil
	w.p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// stop forgets the connection; nil does nothing. Its descriptor leaves
// the epoll set when it is closed.
func (w *pollWatch) stop() {
	if w == nil {
		return
	}
	w.p.mu.Lock()
	delete(w.p.watches, w.token)
	w.p.mu.Unlock()
}

// close ends run; connections still watched are never read again (the
// engine closes them all).
func (p *poller) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	_, _ = syscall.Write(p.wake[1], []byte{1})
}

// maxIOV is IOV_MAX on Linux: writev refuses more buffers (EINVAL).
const maxIOV = 1024

// tryWrite writes frames with one write or writev that does not wait:
// how many bytes the socket took (0 when it is full). It writes the first
// maxIOV frames at most, and the caller writes the rest as it does what a
// full socket left: a client that fell a thousand posts behind has that
// many queued, and one writev of them all failed with EINVAL, which closed
// its connection.
func tryWrite(rc syscall.RawConn, frames [][]byte) (int, error) {
	if rc == nil {
		return 0, nil
	}
	frames = frames[:min(len(frames), maxIOV)]
	var (
		n    int
		werr error
	)
	err := rc.Write(func(fd uintptr) bool {
		for {
			if len(frames) == 1 {
				n, werr = unix.Write(int(fd), frames[0])
			} else {
				n, werr = unix.Writev(int(fd), frames)
			}
			if werr != unix.EINTR {
				return true // done either way: never wait here
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case werr == unix.EAGAIN:
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return n, nil
}
