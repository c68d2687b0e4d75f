package socketio

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/googollee/go-socket.io/engineio/session"

	"github.com/tweetwire/tweetwire/server/hub"
)

type bufWriter struct{ frames []string }

type frame struct {
	b *bytes.Buffer
	w *bufWriter
}

func (f frame) Write(p []byte) (int, error) { return f.b.Write(p) }
func (f frame) Close() error                { f.w.frames = append(f.w.frames, f.b.String()); return nil }

func (w *bufWriter) NextWriter(session.FrameType) (io.WriteCloser, error) {
	return frame{&bytes.Buffer{}, w}, nil
}

// The frames we write by hand must be what socket.io-client 2.x parses: a
// Socket.IO EVENT packet whose payload is the JSON array [event, data].
func TestFramesAreSocketIOEvents(t *testing.T) {
	w := &bufWriter{}
	backlog := backlogJSON([]*hub.Message{{Data: []byte(`{"id":"a"}`)}, {Data: []byte(`{"id":"b"}`)}})
	if err := writeFrame(w, hub.EventBacklog, backlog); err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(w, hub.EventBacklog, backlogJSON(nil)); err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(w, hub.EventTweet, []byte(`{"id":"c","text":"\u003cb\u003e"}`)); err != nil {
		t.Fatal(err)
	}
	want := []string{`2["backlog",[{"id":"a"},{"id":"b"}]]`, `2["backlog",[]]`, `2["tweet",{"id":"c","text":"\u003cb\u003e"}]`}
	for i, f := range w.frames {
		if f != want[i] {
			t.Errorf("frame %d = %s, want %s", i, f, want[i])
		}
		var arr []json.RawMessage
		if err := json.Unmarshal([]byte(f[1:]), &arr); err != nil || len(arr) != 2 {
			t.Errorf("frame %d payload is not a two-element JSON array: %v", i, err)
		}
	}
}
