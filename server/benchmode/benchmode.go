// Package benchmode is the server's benchmark mode, off unless --bench turns
// it on. It offers the two endpoints of the Node.js reference server in
// ../shared/anchors/node-socketio, so that one load generator measures
// both:
//
//	POST /bench/publish?count=C&rate=R   publish C posts at R per second (0: at once)
//	GET  /bench/stats                    {clients, published, rss}
//
// Posts go to the broker, so they take the path of real ones from there on:
// hub, per-client queues, Socket.IO writers (and Redis with --redis-url).
// They are not stored.
package benchmode

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Config wires the endpoints.
type Config struct {
	Broker hub.Broker
	// Clients counts the connected clients.
	Clients func() int
	// Context ends every publishing run (the server's lifetime).
	Context context.Context
}

type server struct {
	cfg       Config
	published atomic.Int64
}

// Handler returns the two endpoints.
func Handler(cfg Config) http.Handler {
	s := &server{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /bench/publish", s.publish)
	mux.HandleFunc("GET /bench/stats", s.stats)
	return mux
}

// benchPost is a post as the reference server sends it: Tweetwire's wire
// fields plus ts, the publish time in Unix nanoseconds, for latency.
type benchPost struct {
	tweet.Tweet
	TS string `json:"ts"`
}

// maxCount bounds one request, so a typo cannot run for hours.
const maxCount = 10_000_000

// ParsePublish reads count and rate from a /bench/publish request; the
// error is a sentence for a 400 answer.
func ParsePublish(r *http.Request) (count int, rate float64, err error) {
	q := r.URL.Query()
	count, err1 := strconv.Atoi(def(q.Get("count"), "1000"))
	rate, err2 := strconv.ParseFloat(def(q.Get("rate"), "0"), 64)
	if err1 != nil || err2 != nil || count < 0 || count > maxCount || rate < 0 {
		return 0, 0, fmt.Errorf("count must be 0 to %d and rate a number of posts per second, 0 for as fast as possible", maxCount)
	}
	return count, rate, nil
}

func (s *server) publish(w http.ResponseWriter, r *http.Request) {
	count, rate, err := ParsePublish(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	go Schedule(s.cfg.Context, count, rate, func() error { return s.cfg.Broker.Publish(s.cfg.Context, s.post()) })
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"count": count, "rate": rate})
}

// Schedule calls publish count times at rate per second (0: as fast as
// possible), on the reference server's schedule: the posts due go out in a
// batch, then it sleeps half a period. It stops early when ctx is done or
// publish fails.
func Schedule(ctx context.Context, count int, rate float64, publish func() error) {
	start := time.Now()
	tick := time.Duration(0)
	if rate > 0 {
		tick = max(time.Millisecond, time.Duration(float64(time.Second)/rate/2))
	}
	for sent := 0; sent < count; {
		due := count
		if rate > 0 {
			due = min(count, int(time.Since(start).Seconds()*rate)+1)
		}
		for ; sent < due; sent++ {
			if err := publish(); err != nil {
				return
			}
		}
		if sent < count {
			select {
			case <-ctx.Done():
				return
			case <-time.After(tick):
			}
		}
	}
}

func (s *server) post() *hub.Message {
	i := s.published.Add(1) - 1
	now := time.Now()
	return &hub.Message{Kind: hub.KindTweet, ID: fmt.Sprintf("bench:%d", i), Data: PostJSON(i, now), Ingested: now}
}

// PostJSON is the i-th bench post published at now: Tweetwire's wire
// fields, about 300 bytes as the reference server's, plus ts, the publish
// time in Unix nanoseconds, for latency.
func PostJSON(i int64, now time.Time) []byte {
	data, _ := json.Marshal(benchPost{ // plain strings and a time: cannot fail
		Tweet: tweet.Tweet{
			ID:        fmt.Sprintf("bench:%d", i),
			User:      fmt.Sprintf("author%d", i%997),
			Name:      fmt.Sprintf("Author %d", i%997),
			Text:      fmt.Sprintf("Post %d about #GoConf and the talk that just started in room B; streaming to every client now.", i),
			Picture:   fmt.Sprintf("https://example.invalid/avatars/%d.png", i%997),
			CreatedAt: now.UTC(),
			URL:       fmt.Sprintf("https://example.invalid/status/%d", i),
			Source:    "bench",
			Hashtags:  []string{"goconf"},
		},
		TS: strconv.FormatInt(now.UnixNano(), 10),
	})
	return data
}

func (s *server) stats(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"clients":   s.cfg.Clients(),
		"published": s.published.Load(),
		"rss":       RSS(),
	})
}

// RSS reads the resident set size in bytes from /proc (Linux); 0 elsewhere.
func RSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func def(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
