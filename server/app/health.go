package app

import (
	"github.com/tweetwire/tweetwire/server/ingest"
	"github.com/tweetwire/tweetwire/server/spool"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/web"
)

// Health is the server's /healthz: 200 while the source has not failed
// and the write path is not full, 503 otherwise.
type Health struct {
	// Status is "ok" or "degraded".
	Status  string         `json:"status"`
	Source  ingest.Health  `json:"source"`
	Clients map[string]int `json:"clients"`
	// Dropped counts clients dropped for overflowing their queue.
	Dropped uint64 `json:"dropped"`
	// PendingSessions counts the handshakes not yet come back to.
	PendingSessions int         `json:"pending_sessions"`
	Event           string      `json:"event"`
	Store           StoreHealth `json:"store"`
	// Cluster is set with several nodes.
	Cluster *ClusterHealth `json:"cluster,omitempty"`
}

// StoreHealth is the database's side of Health.
type StoreHealth struct {
	// Database is "embedded" or "mongodb".
	Database string       `json:"database"`
	Writes   spool.Health `json:"writes"`
}

// ClusterHealth is this node's place among the nodes.
type ClusterHealth struct {
	Node        string `json:"node"`
	LeaseHolder bool   `json:"lease_holder"`
}

var _ web.HealthReport = Health{}

// Healthy reports whether /healthz answers 200.
func (h Health) Healthy() bool { return h.Status == "ok" }

// Health reports every part's state now.
func (a *App) Health() Health {
	h := Health{
		Source:          a.pipeline.Health(),
		Clients:         a.sio.Clients(),
		Dropped:         a.hub.Dropped(),
		PendingSessions: a.pendingSessions(),
		Event:           a.event.Name,
		Store:           StoreHealth{Database: a.db.Kind, Writes: a.write.writer.Health()},
		Status:          "ok",
	}
	if a.rdb != nil {
		h.Cluster = &ClusterHealth{Node: a.cfg.NodeID, LeaseHolder: a.runner.Lease.Holding()}
	}
	if h.Source.State == tweet.StateFailed || h.Store.Writes.State == "full" {
		h.Status = "degraded"
	}
	return h
}
