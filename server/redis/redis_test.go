package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tweetwire/tweetwire/server/hub"
)

var redisAddr string

// TestMain starts a real redis-server (Debian's package; scripts/test
// installs it) on a free loopback port.
func TestMain(m *testing.M) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	redisAddr = ln.Addr().String()
	_, port, _ := net.SplitHostPort(redisAddr)
	ln.Close()
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "redis tests need redis-server (apt-get install redis-server): %v\n", err)
		os.Exit(1)
	}
	code := func() int {
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
		defer rdb.Close()
		for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
			if i > 200 {
				fmt.Fprintln(os.Stderr, "redis-server did not start")
				return 1
			}
			time.Sleep(25 * time.Millisecond)
		}
		return m.Run()
	}()
	os.Exit(code)
}

func client(t *testing.T) *goredis.Client {
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func collect(t *testing.T, h *hub.Hub, n int) []string {
	t.Helper()
	ready := make(chan struct{}, 1)
	c := h.Subscribe("", func() {
		select {
		case ready <- struct{}{}:
		default:
		}
	}, nil)
	defer h.Unsubscribe(c)
	var ids []string
	timeout := time.After(10 * time.Second)
	for len(ids) < n {
		// Take until the queue is empty: only then does the hub wake us.
		for ms, ok := c.Take(nil); ok; ms, ok = c.Take(nil) {
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
		}
		if len(ids) >= n {
			break
		}
		select {
		case <-ready:
		case <-timeout:
			t.Fatalf("got %v, want %d messages", ids, n)
		}
	}
	return ids
}

func TestBrokerReachesEveryNodeOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	channel := t.Name()
	hubs := []*hub.Hub{hub.New(hub.Config{}), hub.New(hub.Config{})}
	var brokers []*Broker
	for _, h := range hubs {
		b := NewBroker(client(t), channel, 10, h, quiet)
		brokers = append(brokers, b)
		go b.Run(ctx)
	}
	// Subscriptions are asynchronous: wait until both listen.
	for client(t).PubSubNumSub(ctx, channel).Val()[channel] < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	got := make([]chan []string, len(hubs))
	for i, h := range hubs {
		got[i] = make(chan []string, 1)
		go func() { got[i] <- collect(t, h, 3) }()
	}
	time.Sleep(50 * time.Millisecond)
	// A stray message must not stop the broker.
	client(t).Publish(ctx, channel, "not json")
	for i := range 3 {
		m := &hub.Message{Kind: hub.KindTweet, ID: fmt.Sprintf("t:%d", i), Data: []byte(`{}`), Ingested: time.Now()}
		if err := brokers[i%2].Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for i := range hubs {
		if ids := <-got[i]; fmt.Sprint(ids) != "[t:0 t:1 t:2]" {
			t.Errorf("node %d got %v", i, ids)
		}
	}
}

func TestBrokerServesLocalClientsWithoutRedis(t *testing.T) {
	h := hub.New(hub.Config{})
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer dead.Close()
	b := NewBroker(dead, "x", 10, h, quiet)
	c := h.Subscribe("", nil, nil)
	if err := b.Publish(context.Background(), &hub.Message{Kind: hub.KindTweet, ID: "t:1", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if ms, _ := c.Take(nil); len(ms) != 1 || ms[0].ID != "t:1" {
		t.Fatalf("the local client got %v while Redis was down, want t:1", ms)
	}
}

func TestLeaseOneHolderAndTakeover(t *testing.T) {
	key := t.Name()
	// working counts the holders at work now, most the most ever at
	// once: a lease says it holds just before its work starts, so the
	// test waits for the work, and checks that two never overlapped.
	var working, most atomic.Int32
	work := func(ctx context.Context) {
		n := working.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-ctx.Done()
		working.Add(-1)
	}
	ctxA, stopA := context.WithCancel(context.Background())
	a := NewLease(client(t), key, "a", 600*time.Millisecond, quiet)
	doneA := make(chan struct{})
	go func() { a.Run(ctxA, work); close(doneA) }()
	waitFor(t, "a holds", a.Holding)

	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	b := NewLease(client(t), key, "b", 600*time.Millisecond, quiet)
	go b.Run(ctxB, work)
	waitFor(t, "a at work", func() bool { return working.Load() == 1 })
	time.Sleep(time.Second) // longer than the TTL: a's renewals keep it
	if !a.Holding() || b.Holding() || working.Load() != 1 {
		t.Fatalf("a=%v b=%v working=%d, want only a", a.Holding(), b.Holding(), working.Load())
	}
	stopA()
	<-doneA
	waitFor(t, "b takes over", b.Holding)
	waitFor(t, "b at work", func() bool { return working.Load() == 1 })
	if most.Load() != 1 {
		t.Fatalf("%d holders worked at once, want 1", most.Load())
	}
}

func TestLeaseExpiresFromADeadHolder(t *testing.T) {
	key := t.Name()
	rdb := client(t)
	// A holder that died: its key stays until it expires.
	rdb.Set(context.Background(), key, "dead", 400*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := NewLease(client(t), key, "alive", 300*time.Millisecond, quiet)
	go l.Run(ctx, func(ctx context.Context) { <-ctx.Done() })
	time.Sleep(200 * time.Millisecond)
	if l.Holding() {
		t.Fatal("took a lease that was still held")
	}
	waitFor(t, "the lease after expiry", l.Holding)
}

func TestLeaseLostToAnotherNode(t *testing.T) {
	key := t.Name()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan struct{})
	l := NewLease(client(t), key, "me", 300*time.Millisecond, quiet)
	go l.Run(ctx, func(ctx context.Context) { <-ctx.Done(); close(stopped) })
	waitFor(t, "the lease", l.Holding)
	// Redis restarted empty and another node took the key first.
	client(t).Set(ctx, key, "other", time.Minute)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("work went on after another node took the lease")
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A node that joins reads what was published before it subscribed from
// the list of recent messages: the newest keep, oldest first, deletes
// included, stray entries skipped.
func TestRecentKeepsTheNewestForJoiningNodes(t *testing.T) {
	ctx := context.Background()
	channel := t.Name()
	b := NewBroker(client(t), channel, 3, hub.New(hub.Config{}), quiet)
	for i := range 4 {
		m := &hub.Message{Kind: hub.KindTweet, ID: fmt.Sprintf("t:%d", i), Data: []byte(`{}`), Ingested: time.Unix(0, int64(i+1))}
		if err := b.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	client(t).LPush(ctx, channel+":recent", "not json")
	if err := b.Publish(ctx, &hub.Message{Kind: hub.KindDelete, ID: "t:2", Data: []byte(`{"id":"t:2"}`)}); err != nil {
		t.Fatal(err)
	}
	joined := NewBroker(client(t), channel, 3, hub.New(hub.Config{}), quiet)
	got, err := joined.Recent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, m := range got {
		desc = append(desc, m.Kind+" "+m.ID)
	}
	if want := "[tweet t:3 delete t:2]"; fmt.Sprint(desc) != want {
		t.Fatalf("recent = %v, want %s (the newest 3 entries, one of them not a post)", desc, want)
	}
	if !got[0].Ingested.Equal(time.Unix(0, 4)) {
		t.Fatalf("ingested time not kept: %v", got[0].Ingested)
	}
	if ttl := client(t).TTL(ctx, channel+":recent").Val(); ttl <= 0 {
		t.Fatalf("the recent list never expires (TTL %v)", ttl)
	}
}

// A ping from one node makes every other node reload, and not itself.
func TestNotifierReachesTheOtherNodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	channel := fmt.Sprintf("test:notify:%d", time.Now().UnixNano())
	var reloads [2]atomic.Int64
	var nodes [2]*Notifier
	for i := range nodes {
		nodes[i] = NewNotifier(client(t), channel, fmt.Sprintf("node%d", i), quiet)
		if err := nodes[i].Subscribe(ctx); err != nil {
			t.Fatal(err)
		}
		go nodes[i].Run(ctx, func(context.Context) { reloads[i].Add(1) })
	}
	nodes[0].Notify()
	for reloads[1].Load() == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("node1 never reloaded")
		case <-time.After(10 * time.Millisecond):
		}
	}
	nodes[1].Notify()
	for reloads[0].Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if n := reloads[1].Load(); n != 1 {
		t.Errorf("node1 reloaded %d times, want once: its own ping must not count", n)
	}
}
