package benchmode

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
)

type recorder struct {
	mu  sync.Mutex
	got []*hub.Message
}

func (r *recorder) Publish(_ context.Context, m *hub.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, m)
	return nil
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func TestPublishAndStats(t *testing.T) {
	rec := &recorder{}
	h := Handler(Config{Broker: rec, Clients: func() int { return 3 }, Context: context.Background()})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/bench/publish?count=50&rate=0", nil))
	if w.Code != 202 {
		t.Fatalf("publish = %d", w.Code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rec.len() < 50 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rec.len() != 50 {
		t.Fatalf("published %d, want 50", rec.len())
	}
	var p map[string]any
	if err := json.Unmarshal(rec.got[7].Data, &p); err != nil {
		t.Fatal(err)
	}
	ts, err := strconv.ParseInt(p["ts"].(string), 10, 64)
	if p["id"] != "bench:7" || err != nil || time.Since(time.Unix(0, ts)) > time.Minute {
		t.Errorf("post = %v", p)
	}
	for _, k := range []string{"user", "name", "text", "picture", "created_at", "url", "source", "hashtags"} {
		if _, ok := p[k]; !ok {
			t.Errorf("post lacks %s", k)
		}
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/bench/stats", nil))
	var st struct{ Clients, Published, RSS int64 }
	_ = json.Unmarshal(w.Body.Bytes(), &st)
	if st.Clients != 3 || st.Published != 50 || st.RSS <= 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPublishPacesAtRate(t *testing.T) {
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := Handler(Config{Broker: rec, Clients: func() int { return 0 }, Context: ctx})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/bench/publish?count=1000&rate=100", nil))
	time.Sleep(500 * time.Millisecond)
	// About 50 by now; far from all 1000.
	if n := rec.len(); n < 10 || n > 200 {
		t.Errorf("after 0.5 s at 100/s published %d", n)
	}
	cancel()
}

func TestBadParameters(t *testing.T) {
	h := Handler(Config{Broker: &recorder{}, Clients: func() int { return 0 }, Context: context.Background()})
	for _, q := range []string{"count=-1", "count=x", "rate=-2", "count=100000000"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/bench/publish?"+q, nil))
		if w.Code != 400 {
			t.Errorf("%s: %d, want 400", q, w.Code)
		}
	}
}
