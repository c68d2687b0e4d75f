package cli

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/app"
)

// `tweetwire end` ends the named event (or the latest) at the given time,
// in the store the server uses; a bad time is a usage error and an unknown
// event says so.
func TestEndCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := app.OpenDatabase(ctx, "", dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, name := range []string{"Café Gophers 🎉", "東京 GoConf"} {
		if _, err := db.StartEvent(ctx, name, []string{"#GoConf"}, start); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close(ctx)

	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(ctx, append(args, "--data-dir", dir), func(string) string { return "" }, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, _, errOut := run("end", "--at", "tomorrow"); code != 2 || !strings.Contains(errOut, "is not an RFC 3339 time") {
		t.Errorf("bad --at: exit %d %q", code, errOut)
	}
	if code, _, errOut := run("end", "--event", "nope"); code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("unknown event: exit %d %q, want 1 and one line", code, errOut)
	}
	code, out, errOut := run("end", "--event", "Café Gophers 🎉", "--at", "2026-11-25T18:00:00+01:00")
	if code != 0 || !strings.Contains(out, `"Café Gophers 🎉" ended at 2026-11-25T17:00:00Z`) {
		t.Fatalf("end: exit %d %q %q", code, out, errOut)
	}

	db, err = app.OpenDatabase(ctx, "", dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	ended, err := db.Event(ctx, "Café Gophers 🎉")
	if err != nil || !ended.End.Equal(time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("the event is %+v, %v; want it ended at 17:00 UTC", ended, err)
	}
	other, err := db.Event(ctx, "東京 GoConf")
	if err != nil || !other.Running() {
		t.Errorf("the other event is %+v, %v; want it running", other, err)
	}
}
