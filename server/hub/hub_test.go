package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func post(i int) *Message {
	return &Message{Kind: KindTweet, ID: fmt.Sprintf("t:%d", i), Data: []byte(fmt.Sprintf(`{"id":"t:%d"}`, i))}
}

func ids(ms []*Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func publish(t *testing.T, h *Hub, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := h.Publish(context.Background(), post(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func drain(c *Client) []string {
	ms, _ := c.Take(nil)
	return ids(ms)
}

func TestBacklog(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		published int
		since     string
		want      []string
	}{
		{"empty hub", Config{Backlog: 3}, 0, "", nil},
		{"no backlog", Config{Backlog: -1}, 3, "", nil},
		{"no backlog still honours since", Config{Backlog: -1}, 3, "t:0", []string{"t:1", "t:2"}},
		{"default backlog", Config{}, 60, "", func() []string {
			var out []string
			for i := 10; i < 60; i++ {
				out = append(out, fmt.Sprintf("t:%d", i))
			}
			return out
		}()},
		{"fewer than backlog", Config{Backlog: 3}, 2, "", []string{"t:0", "t:1"}},
		{"last backlog posts oldest first", Config{Backlog: 3}, 5, "", []string{"t:2", "t:3", "t:4"}},
		{"since returns everything after, beyond backlog", Config{Backlog: 2}, 6, "t:1", []string{"t:2", "t:3", "t:4", "t:5"}},
		{"since the newest is empty", Config{Backlog: 2}, 3, "t:2", nil},
		{"unknown since falls back to backlog", Config{Backlog: 2}, 4, "nope", []string{"t:2", "t:3"}},
		{"history wraps", Config{Backlog: 2, History: 4}, 10, "", []string{"t:8", "t:9"}},
		{"since older than history falls back", Config{Backlog: 2, History: 4}, 10, "t:3", []string{"t:8", "t:9"}},
		{"since inside wrapped history", Config{Backlog: 1, History: 4}, 10, "t:6", []string{"t:7", "t:8", "t:9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(tt.cfg)
			publish(t, h, 0, tt.published)
			c := h.Subscribe(tt.since, nil, nil)
			if got := ids(c.Backlog); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("backlog = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeleteRemovesFromHistoryAndIsBroadcast(t *testing.T) {
	h := New(Config{Backlog: 10})
	publish(t, h, 0, 3)
	c := h.Subscribe("", nil, nil)
	if err := h.Publish(context.Background(), &Message{Kind: KindDelete, ID: "t:1", Data: []byte(`{"id":"t:1"}`)}); err != nil {
		t.Fatal(err)
	}
	if got := drain(c); fmt.Sprint(got) != "[t:1]" {
		t.Fatalf("queued = %v, want the delete of t:1", got)
	}
	if got := ids(h.Subscribe("", nil, nil).Backlog); fmt.Sprint(got) != "[t:0 t:2]" {
		t.Fatalf("backlog after delete = %v", got)
	}
	if got := ids(h.Recent(10)); fmt.Sprint(got) != "[t:2 t:0]" {
		t.Fatalf("recent after delete = %v", got)
	}
}

func TestOrderingPerClient(t *testing.T) {
	h := New(Config{QueueSize: 100})
	a, b := h.Subscribe("", nil, nil), h.Subscribe("", nil, nil)
	publish(t, h, 0, 50)
	want := fmt.Sprint(ids(func() []*Message {
		var ms []*Message
		for i := 0; i < 50; i++ {
			ms = append(ms, post(i))
		}
		return ms
	}()))
	for name, c := range map[string]*Client{"a": a, "b": b} {
		if got := fmt.Sprint(drain(c)); got != want {
			t.Errorf("client %s got %s, want %s", name, got, want)
		}
	}
}

func TestOverflowDropsOnlyTheSlowClient(t *testing.T) {
	h := New(Config{QueueSize: 4})
	kicked := make(chan struct{})
	slow := h.Subscribe("", nil, func() { close(kicked) })
	fast := h.Subscribe("", nil, nil)
	var got []string
	for i := 0; i < 20; i++ {
		publish(t, h, i, i+1)
		got = append(got, drain(fast)...)
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow client not dropped")
	}
	<-kicked
	if !errors.Is(slow.Err(), ErrSlow) {
		t.Fatalf("slow.Err() = %v, want ErrSlow", slow.Err())
	}
	if len(got) != 20 {
		t.Fatalf("fast client got %d posts, want 20", len(got))
	}
	if fast.Err() != nil {
		t.Fatalf("fast client dropped: %v", fast.Err())
	}
	if h.Dropped() != 1 || h.Clients() != 1 {
		t.Fatalf("dropped=%d clients=%d, want 1 and 1", h.Dropped(), h.Clients())
	}
}

func TestUnsubscribe(t *testing.T) {
	h := New(Config{})
	c := h.Subscribe("", nil, nil)
	h.Unsubscribe(c)
	h.Unsubscribe(c)
	<-c.Done()
	if c.Err() != nil {
		t.Fatalf("Err after Unsubscribe = %v, want nil", c.Err())
	}
	publish(t, h, 0, 1)
	if got := drain(c); len(got) != 0 {
		t.Fatalf("unsubscribed client got %v", got)
	}
}

// A post published while clients subscribe reaches each exactly once: in
// the backlog or in the queue.
func TestExactlyOnceWhileSubscribing(t *testing.T) {
	const posts, clients = 2000, 50
	h := New(Config{Backlog: posts, History: posts, QueueSize: posts})
	var wg sync.WaitGroup
	subs := make(chan *Client, clients)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < posts; i++ {
			_ = h.Publish(context.Background(), post(i))
		}
	}()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			subs <- h.Subscribe("", nil, nil)
		}()
	}
	wg.Wait()
	close(subs)
	for c := range subs {
		all := append(ids(c.Backlog), drain(c)...)
		if len(all) != posts {
			t.Fatalf("client saw %d posts, want %d", len(all), posts)
		}
		for i, id := range all {
			if want := fmt.Sprintf("t:%d", i); id != want {
				t.Fatalf("position %d: %s, want %s", i, id, want)
			}
		}
	}
}

func TestSeedDoesNotBroadcast(t *testing.T) {
	h := New(Config{Backlog: 5})
	c := h.Subscribe("", nil, nil)
	h.Seed([]*Message{post(0), post(1), post(1)})
	if got := drain(c); len(got) != 0 {
		t.Fatalf("seed broadcast %v", got)
	}
	if got := ids(h.Subscribe("t:0", nil, nil).Backlog); fmt.Sprint(got) != "[t:1]" {
		t.Fatalf("since after seed = %v", got)
	}
}

func TestPublishDropsAPostItHolds(t *testing.T) {
	h := New(Config{})
	c := h.Subscribe("", nil, nil)
	publish(t, h, 0, 2)
	publish(t, h, 1, 3)
	if got := drain(c); fmt.Sprint(got) != "[t:0 t:1 t:2]" {
		t.Fatalf("client got %v, want each post once", got)
	}
}

// wake starts a drain only when none runs: once per burst, not per post,
// and again after Take has reported the queue empty.
func TestWakeOncePerDrain(t *testing.T) {
	h := New(Config{})
	var wakes int
	c := h.Subscribe("", func() { wakes++ }, nil)
	// Subscribe leaves the first drain to the caller.
	publish(t, h, 0, 2)
	if wakes != 0 {
		t.Fatalf("woken %d times during the first drain, want 0", wakes)
	}
	if got := drain(c); fmt.Sprint(got) != "[t:0 t:1]" {
		t.Fatalf("took %v", got)
	}
	if _, ok := c.Take(nil); ok {
		t.Fatal("Take of an empty queue reported messages")
	}
	publish(t, h, 2, 5)
	if wakes != 1 {
		t.Fatalf("woken %d times for a burst after the drain ended, want 1", wakes)
	}
	if got := drain(c); fmt.Sprint(got) != "[t:2 t:3 t:4]" {
		t.Fatalf("took %v", got)
	}
	publish(t, h, 5, 6)
	if wakes != 1 {
		t.Fatalf("woken while a drain was still running (Take had not reported empty): %d", wakes)
	}
	c.Take(nil)
	c.Take(nil)
	publish(t, h, 6, 7)
	if wakes != 2 {
		t.Fatalf("woken %d times, want 2", wakes)
	}
}

func TestWireEncodesOnce(t *testing.T) {
	m := post(1)
	calls := 0
	enc := func(m *Message) []byte { calls++; return append([]byte("x"), m.Data...) }
	a, b := m.Wire(enc), m.Wire(enc)
	if string(a) != `x{"id":"t:1"}` || string(b) != string(a) || calls != 1 {
		t.Fatalf("Wire = %q, %q after %d encodes, want one encode", a, b, calls)
	}
}

func TestJSONArray(t *testing.T) {
	for _, tt := range []struct {
		ms   []*Message
		want string
	}{
		{nil, `[]`},
		{[]*Message{post(1)}, `[{"id":"t:1"}]`},
		{[]*Message{post(1), post(2)}, `[{"id":"t:1"},{"id":"t:2"}]`},
	} {
		if got := string(JSONArray(tt.ms)); got != tt.want {
			t.Errorf("JSONArray(%v) = %s, want %s", ids(tt.ms), got, tt.want)
		}
	}
}

// A sticky message is not history: the latest of its kind goes to every
// client, and to each new one right after its backlog.
func TestStickyKeepsTheLatestPerKind(t *testing.T) {
	h := New(Config{Backlog: 10})
	publish(t, h, 0, 2)
	live := h.Subscribe("", nil, nil)
	ctx := context.Background()
	for _, data := range []string{`[{"id":"t:0"}]`, `[{"id":"t:1"},{"id":"t:0"}]`} {
		if err := h.Publish(ctx, &Message{Kind: KindPins, ID: KindPins, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := drain(live); fmt.Sprint(got) != "[pins pins]" {
		t.Errorf("a connected client got %v, want both pins messages", got)
	}
	late := h.Subscribe("", nil, nil)
	if got := ids(late.Backlog); fmt.Sprint(got) != "[t:0 t:1]" {
		t.Errorf("backlog = %v: a sticky message is not a post", got)
	}
	ms, _ := late.Take(nil)
	if len(ms) != 1 || string(ms[0].Data) != `[{"id":"t:1"},{"id":"t:0"}]` {
		t.Errorf("a new client's queue = %v, want only the latest pins", ids(ms))
	}
	if got := ids(h.Recent(10)); fmt.Sprint(got) != "[t:1 t:0]" {
		t.Errorf("Recent = %v", got)
	}
}

// A post deleted (hidden) and published again (unhidden) is in the
// history once, at the end, so a client resuming after the newest post
// gets it.
func TestRepublishedAfterDelete(t *testing.T) {
	h := New(Config{Backlog: 10})
	publish(t, h, 0, 3)
	ctx := context.Background()
	_ = h.Publish(ctx, &Message{Kind: KindDelete, ID: "t:1", Data: []byte(`{"id":"t:1"}`)})
	_ = h.Publish(ctx, post(1))
	_ = h.Publish(ctx, post(1))
	if got := ids(h.Subscribe("", nil, nil).Backlog); fmt.Sprint(got) != "[t:0 t:2 t:1]" {
		t.Errorf("backlog = %v", got)
	}
	if got := ids(h.Subscribe("t:2", nil, nil).Backlog); fmt.Sprint(got) != "[t:1]" {
		t.Errorf("since t:2 = %v", got)
	}
}
