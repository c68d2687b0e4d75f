package app

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/ingest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// sourceStatus is the `status` event's argument: what a wall says about
// the stream (reconnecting, failed, finished, the event ended), so that
// its readers know more than /healthz tells an operator.
type sourceStatus struct {
	// State is the source's (running, reconnecting, failed, finished),
	// or "ended" once the event has ended.
	State string    `json:"state"`
	Error string    `json:"error,omitempty"`
	Since time.Time `json:"since"`
}

// statusMessage is the sticky hub message for h, or nil for a state that
// says nothing about the stream: starting (it has not run yet) and standby
// (another node runs it, and its status reaches every node's clients).
func statusMessage(h ingest.Health, ended bool) *hub.Message {
	if h.State == tweet.StateStarting || h.State == tweet.StateStandby {
		return nil
	}
	st := sourceStatus{State: string(h.State), Error: h.Error, Since: h.Since}
	if ended {
		st = sourceStatus{State: "ended", Since: h.Since}
	}
	data, err := json.Marshal(st)
	if err != nil {
		return nil // three strings and a time: cannot happen
	}
	return &hub.Message{Kind: hub.KindStatus, ID: hub.KindStatus, Data: data}
}

// publishStatus tells every node's clients the source's new state. It
// runs from the source's goroutine, so a slow broker (Redis) is bounded.
func (a *App) publishStatus(h ingest.Health) {
	ended := errors.Is(context.Cause(a.srcCtx), errEventEnded)
	m := statusMessage(h, ended)
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.broker.Publish(ctx, m); err != nil {
		a.log.Warn("cannot tell the clients the source's state", "state", h.State, "err", err)
	}
}
