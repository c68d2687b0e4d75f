package app

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/tweetwire/tweetwire/server/web"
)

// startGate is the HTTP server's handler from the moment New listens.
// While New opens the database and loads the stored posts, it answers
// /healthz with 503 and what is being loaded, and serves the page, so
// that a health check, an operator and a browser get an answer at once
// (web.Starting). From the end of New until Run starts the parts, a
// request waits, as it did in the listener's backlog before, so that none
// reaches Socket.IO before it runs. Then every request goes to the full
// routes.
type startGate struct {
	starting http.Handler
	// loaded is set when New has finished loading.
	loaded atomic.Bool
	// open is closed once full is set.
	open     chan struct{}
	openOnce sync.Once
	full     http.Handler

	mu     sync.Mutex
	event  string
	detail string
}

func newStartGate(host func(string) bool, event string) *startGate {
	g := &startGate{open: make(chan struct{}), event: event, detail: "opening the database"}
	g.starting = web.Starting(func() web.HealthReport { return g.health() }, host)
	return g
}

// say sets what /healthz says the server is doing.
func (g *startGate) say(format string, args ...any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.detail = fmt.Sprintf(format, args...)
}

// Loading is /healthz while the server starts.
type Loading struct {
	// Status is "loading".
	Status string `json:"status"`
	// Detail says what, e.g. "loading 100,000 stored posts of GoConf".
	Detail string `json:"detail"`
	Event  string `json:"event"`
}

// Healthy is false: a load balancer must not send clients yet.
func (Loading) Healthy() bool { return false }

func (g *startGate) health() Loading {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Loading{Status: "loading", Detail: g.detail, Event: g.event}
}

// openWith lets requests through to h from now on; the first call wins.
func (g *startGate) openWith(h http.Handler) {
	g.openOnce.Do(func() {
		g.full = h
		close(g.open)
	})
}

func (g *startGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-g.open:
		g.full.ServeHTTP(w, r)
		return
	default:
	}
	if !g.loaded.Load() {
		g.starting.ServeHTTP(w, r)
		return
	}
	select {
	case <-g.open:
		g.full.ServeHTTP(w, r)
	case <-r.Context().Done():
	}
}

// stopping is what the gate lets through to when the server closes
// without having run.
var stopping = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
})
