package app

import (
	"log/slog"
	"net"
	"sync"
	"syscall"
)

// limitListener accepts at most max connections at a time: past that,
// Accept waits until one closes, and new clients wait in the kernel's
// backlog instead of the process running out of file descriptors, which
// would fail every request (accept4: too many open files), the database's
// and the spool's files included. Reaching the cap is logged once each
// time, with how to raise it.
type limitListener struct {
	net.Listener
	sem chan struct{}
	log *slog.Logger
	// done is closed by Close, so that an Accept waiting for a place
	// returns instead of holding up the server's shutdown.
	done      chan struct{}
	closeOnce sync.Once

	mu   sync.Mutex
	full bool // the cap was reached and not yet left
}

func newLimitListener(ln net.Listener, max int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, max), log: log, done: make(chan struct{})}
}

// Close stops accepting, waking an Accept that waits for a place.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	default:
		l.mu.Lock()
		if !l.full {
			l.full = true
			l.log.Warn("connection cap reached: new connections wait until one closes; raise --max-connections (and the file limit, ulimit -n) to serve more",
				"max_connections", cap(l.sem))
		}
		l.mu.Unlock()
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: l.release}, nil
}

func (l *limitListener) release() {
	<-l.sem
	l.mu.Lock()
	if l.full && len(l.sem) < cap(l.sem)*9/10 {
		l.full = false
		l.log.Info("connections back under the cap", "open", len(l.sem), "max_connections", cap(l.sem))
	}
	l.mu.Unlock()
}

// limitConn gives its place back once, however often it is closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// NetConn is the connection underneath, as tls.Conn's: a writer that
// writes a batch in one writev (net.Buffers) needs the *net.TCPConn
// itself. Close the limitConn, not this.
func (c *limitConn) NetConn() net.Conn { return c.Conn }

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// DefaultMaxConnections is the cap when none is given: the process's file
// limit less room for the database, the spool, Redis and the sources, so
// that the cap, not the file limit, is what clients meet.
func DefaultMaxConnections() int {
	const reserve = 256
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 2*reserve {
		return reserve
	}
	return int(min(lim.Cur-reserve, 1<<20))
}
