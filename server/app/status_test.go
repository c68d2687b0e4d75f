package app

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/ingest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// The status clients get: nothing while the source starts or another node
// runs it, its state and error otherwise, "ended" once the event is over.
func TestStatusMessage(t *testing.T) {
	since := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		h     ingest.Health
		ended bool
		want  string // "" for no message
	}{
		{ingest.Health{State: tweet.StateStarting, Since: since}, false, ""},
		{ingest.Health{State: tweet.StateStandby, Since: since}, false, ""},
		{ingest.Health{State: tweet.StateRunning, Since: since}, false, `{"state":"running","since":"2026-11-25T18:00:00Z"}`},
		{ingest.Health{State: tweet.StateReconnecting, Error: "Mastodon a répondu 502 «Bad Gateway» 🙃", Since: since}, false,
			`{"state":"reconnecting","error":"Mastodon a répondu 502 «Bad Gateway» 🙃","since":"2026-11-25T18:00:00Z"}`},
		{ingest.Health{State: tweet.StateFinished, Error: errors.New("the event has ended").Error(), Since: since}, true, `{"state":"ended","since":"2026-11-25T18:00:00Z"}`},
	} {
		m := statusMessage(tt.h, tt.ended)
		switch {
		case tt.want == "" && m != nil:
			t.Errorf("%s: a status message %s, want none", tt.h.State, m.Data)
		case tt.want != "" && m == nil:
			t.Errorf("%s: no status message, want %s", tt.h.State, tt.want)
		case m != nil:
			if m.Kind != hub.KindStatus || string(m.Data) != tt.want || !json.Valid(m.Data) {
				t.Errorf("%s: %s %s, want %s", tt.h.State, m.Kind, m.Data, tt.want)
			}
		}
	}
}
