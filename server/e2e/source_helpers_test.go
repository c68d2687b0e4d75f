package e2e

// What the tests of the live sources share: they drive a real server
// against a fake service (twittertest, xtest, jetstreamtest,
// mastodontest) and watch the clients.

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// accept waits for the server's next connection to a fake service; next
// is the fake's Accept or Open.
func accept[C any](t *testing.T, what string, srv *server, next func(context.Context) (C, error)) C {
	t.Helper()
	c, err := next(waitCtx(t, 20*time.Second))
	if err != nil {
		t.Fatalf("the server never opened %s: %v\nserver log:\n%s", what, err, srv.logs)
	}
	return c
}

// mustSend sends lines on a fake stream or messages on a fake WebSocket.
func mustSend(t *testing.T, c interface{ Send(...string) error }, lines ...string) {
	t.Helper()
	if err := c.Send(lines...); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// gone waits until the server hung up on c.
func gone(t *testing.T, srv *server, c interface{ Gone() <-chan struct{} }, why string) {
	t.Helper()
	select {
	case <-c.Gone():
	case <-time.After(20 * time.Second):
		t.Fatalf("the server kept the connection open despite %s\nserver log:\n%s", why, srv.logs)
	}
}

// quietly calls keepAlive every 200 ms, as a quiet stream sends its
// keep-alives, until keepAlive fails or the returned function is called,
// which also ends the context keepAlive is given.
func quietly(keepAlive func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if keepAlive(ctx) != nil {
					return
				}
			}
		}
	}()
	return func() { cancel(); <-finished }
}

// waitIDs waits until the first client has seen every id in want.
func waitIDs(t *testing.T, c *clients, want ...string) {
	t.Helper()
	c.waitUntil(strings.Join(want, ", "), 20*time.Second, func(evs []clientEvent) bool {
		got := received(evs)[0]
		for _, id := range want {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	})
}

// posts lists the posts the clients received, live or in a backlog.
func posts(evs []clientEvent) []post {
	var out []post
	for _, e := range evs {
		switch e.Event {
		case "tweet":
			var p post
			_ = json.Unmarshal(e.Data, &p)
			out = append(out, p)
		case "backlog":
			var ps []post
			_ = json.Unmarshal(e.Data, &ps)
			out = append(out, ps...)
		}
	}
	return out
}

// postByID is the post with the given id as the clients received it, live
// or in a backlog.
func postByID(evs []clientEvent, id string) (post, bool) {
	for _, p := range posts(evs) {
		if p.ID == id {
			return p, true
		}
	}
	return post{}, false
}

// assertNoSecrets fails when a secret appears in the log or in /healthz.
func assertNoSecrets(t *testing.T, logs string, health map[string]any, secrets ...string) {
	t.Helper()
	hb, _ := json.Marshal(health)
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the secret %q", s)
		}
		if strings.Contains(string(hb), s) {
			t.Errorf("/healthz contains the secret %q", s)
		}
	}
}

// storedSoon is what /api/tweets lists (sorted when sorted is set) once it
// equals want, or after 20 s. Clients get a post before the store has it:
// the wall broadcasts first and writes after, so a test that saw the post
// live waits for the write.
func storedSoon(t *testing.T, srv *server, want []string, sorted bool) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ids := storedIDs(t, srv.URL)
		if sorted {
			slices.Sort(ids)
		}
		if strings.Join(ids, ",") == strings.Join(want, ",") || time.Now().After(deadline) {
			return ids
		}
		time.Sleep(50 * time.Millisecond)
	}
}
