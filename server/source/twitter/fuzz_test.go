package twitter

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/sourcetest"
)

// FuzzRead feeds the reading of a stream arbitrary bodies: whatever the bytes, it must
// not panic (anaconda's decoder can, on a crafted status), it must end at
// the end of the body as a dropped connection, never a fatal one, and what
// it emits must satisfy the tweet.Tweet invariants.
func FuzzRead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "internal", "twitterv1", "testdata", "*.jsonl"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no twitterv1 fixtures: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		// As Twitter sent them: "\r\n" between messages, keep-alives.
		f.Add(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n\r\n")))
	}
	f.Add([]byte(`{"id_str":"1","full_text":"hi","display_text_range":[0,50],"user":{"screen_name":"a"},"created_at":"Thu Apr 25 09:00:00 +0000 2019"}` + "\r\n"))
	f.Add([]byte(`{"disconnect":{"code":7,"stream_name":"s","reason":"admin logout"}}` + "\r\n"))
	f.Add([]byte(`{"warning":{"code":"FALLING_BEHIND","message":"m","percent_full":60}}` + "\r\n" + `{"limit":{"track":3}}`))
	f.Add([]byte("\r\n\r\n{\"delete\":{\"status\":{\"id_str\":\"5\"}}}\r\n{\"id_str\":"))

	f.Fuzz(func(t *testing.T, body []byte) {
		s := &Source{
			cfg: Config{StallTimeout: time.Hour, Backoff: reconnect.NewTwitter()},
			log: slog.New(slog.DiscardHandler),
		}
		wd := reconnect.NewWatchdog(time.Hour, func() {})
		defer wd.Stop()
		sink := &sourcetest.Sink{}
		d := s.lineStream().Read(context.Background(), bytes.NewReader(body), wd, sink, &messages{s: s})
		if d.Fatal || d.Status != 0 || d.Err == nil || !strings.Contains(d.Err.Error(), "closed the stream") {
			t.Fatalf("end of body read as %+v, want a dropped connection", d)
		}
		for _, ev := range sink.Events() {
			if !strings.HasPrefix(ev.ID, "twitter:") || len(ev.ID) == len("twitter:") {
				t.Fatalf("event ID %q", ev.ID)
			}
			sourcetest.CheckEvent(t, ev, "twitter")
		}
	})
}
