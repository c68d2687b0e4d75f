// Package metrics exposes Tweetwire's counters in the Prometheus format at
// /metrics. The other packages know nothing of Prometheus: they keep plain
// counters, and this package reads them when scraped, or gets hooks to call.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sources are the readings taken at scrape time. Nil fields are left out.
type Sources struct {
	// Clients counts connected clients by transport.
	Clients func() map[string]int
	// Dropped counts clients dropped for overflowing their queue.
	Dropped func() uint64
	// SpoolDepth is how many posts wait on disk for the database.
	SpoolDepth func() int
	// Lost counts posts and deletes that could not be stored at all.
	Lost func() uint64
	// Reconnects counts the source's reconnections.
	Reconnects func() uint64
	// LeaseHolder reports whether this node consumes the source.
	LeaseHolder func() bool
	// Pending counts the Socket.IO handshakes not yet come back to.
	Pending func() int
	// CounterFailures counts the posts whose statistics counter update
	// failed after they were stored (each leaves the statistics a post
	// short until `tweetwire stats --recount`).
	CounterFailures func() uint64
}

// Metrics holds the registry and the instruments that are driven by hooks.
type Metrics struct {
	reg      *prometheus.Registry
	ingested *prometheus.CounterVec
	stored   prometheus.Counter
	fanout   prometheus.Histogram
}

// New registers the metrics driven by hooks (Ingested, Stored, FanOut) and
// the Go runtime's; Watch adds the readings once their parts exist.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tweetwire_posts_ingested_total", Help: "Posts taken from the source, after duplicates were dropped.",
		}, []string{"source"}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tweetwire_posts_stored_total", Help: "Posts written to the database (directly or from the spool).",
		}),
		fanout: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tweetwire_fanout_latency_seconds",
			Help:    "Time from ingesting a post to writing it to a client.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.reg.MustRegister(m.ingested, m.stored, m.fanout,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Watch registers the readings taken at scrape time. Call it once.
func (m *Metrics) Watch(src Sources) {
	if src.Clients != nil {
		for _, tr := range []string{"websocket", "polling"} {
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "tweetwire_clients", Help: "Connected clients by transport.", ConstLabels: prometheus.Labels{"transport": tr},
			}, func() float64 { return float64(src.Clients()[tr]) }))
		}
	}
	if src.Pending != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tweetwire_sessions_pending", Help: "Socket.IO handshakes whose client has not come back yet (capped; they end within the ping timeout).",
		}, func() float64 { return float64(src.Pending()) }))
	}
	if src.Dropped != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tweetwire_clients_dropped_total", Help: "Clients disconnected because their queue overflowed.",
		}, func() float64 { return float64(src.Dropped()) }))
	}
	if src.SpoolDepth != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tweetwire_spool_depth", Help: "Posts spooled on disk while the database is unavailable.",
		}, func() float64 { return float64(src.SpoolDepth()) }))
	}
	if src.Lost != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tweetwire_posts_lost_total", Help: "Posts and deletes not stored at all: the spool could not take them, or the database refused them.",
		}, func() float64 { return float64(src.Lost()) }))
	}
	if src.Reconnects != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tweetwire_source_reconnects_total", Help: "Times the source lost its stream and reconnected.",
		}, func() float64 { return float64(src.Reconnects()) }))
	}
	if src.CounterFailures != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tweetwire_stats_counter_failures_total", Help: "Posts whose statistics counter update failed after they were stored: run `tweetwire stats --recount`.",
		}, func() float64 { return float64(src.CounterFailures()) }))
	}
	if src.LeaseHolder != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tweetwire_lease_holder", Help: "1 when this node holds the lease and consumes the source.",
		}, func() float64 {
			if src.LeaseHolder() {
				return 1
			}
			return 0
		}))
	}
}

// Ingested counts one post from source.
func (m *Metrics) Ingested(source string) { m.ingested.WithLabelValues(source).Inc() }

// Stored counts one post written to the database.
func (m *Metrics) Stored() { m.stored.Inc() }

// FanOut records the latency of one post written to one client.
func (m *Metrics) FanOut(ingested time.Time) {
	if !ingested.IsZero() {
		m.fanout.Observe(time.Since(ingested).Seconds())
	}
}

// Handler serves the registry.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
