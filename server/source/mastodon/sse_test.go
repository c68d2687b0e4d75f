package mastodon

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func readAll(t testing.TB, in string, max int) []sseEvent {
	sr := newSSEReader(strings.NewReader(in), max)
	var out []sseEvent
	for {
		ev, err := sr.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ev.data = append([]byte(nil), ev.data...)
		out = append(out, ev)
	}
}

func show(evs []sseEvent) string {
	var b strings.Builder
	for _, e := range evs {
		switch {
		case e.comment:
			b.WriteString("[comment]")
		case e.tooLarge:
			fmt.Fprintf(&b, "[%s too large]", e.name)
		default:
			fmt.Fprintf(&b, "[%s %q]", e.name, e.data)
		}
	}
	return b.String()
}

func TestSSEReader(t *testing.T) {
	big := strings.Repeat("x", 100)
	tests := []struct {
		name, in, want string
	}{
		{name: "mastodon's stream", in: ":)\nevent: update\ndata: {\"id\":\"1\"}\n\n:thump\nevent: delete\ndata: 1\n\n", want: `[comment][update "{\"id\":\"1\"}"][comment][delete "1"]`},
		{name: "crlf", in: "event: delete\r\ndata: 7\r\n\r\n", want: `[delete "7"]`},
		{name: "data lines joined", in: "data: a\ndata:b\ndata\n\n", want: `[message "a\nb\n"]`},
		{name: "no data is not an event", in: "event: update\n\nevent: delete\ndata: 2\n\n", want: `[delete "2"]`},
		{name: "id and retry ignored", in: "id: 5\nretry: 10\nevent: delete\ndata: 3\n\n", want: `[delete "3"]`},
		{name: "cut off by the end", in: "event: delete\ndata: 4\n", want: ``},
		{name: "long line skipped, stream goes on", in: "event: update\ndata: " + big + "\n\nevent: delete\ndata: 5\n\n", want: `[update too large][delete "5"]`},
		{name: "long event over several lines", in: "event: update\n" + strings.Repeat("data: "+big[:40]+"\n", 3) + "\nevent: delete\ndata: 6\n\n", want: `[update too large][delete "6"]`},
		{name: "comment inside an event", in: "event: delete\n:thump\ndata: 8\n\n", want: `[delete "8"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := show(readAll(t, tt.in, 64)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// FuzzSSEReader: any byte stream reads to its end without panic, and no
// event holds more than the limit.
func FuzzSSEReader(f *testing.F) {
	f.Add(":)\nevent: update\ndata: {\"id\":\"1\"}\n\n:thump\nevent: delete\ndata: 1\n\n")
	f.Add("data: a\r\ndata: b\r\n\r\n")
	f.Add("event: update\ndata: " + strings.Repeat("x", 100) + "\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		sr := newSSEReader(strings.NewReader(in), 64)
		for range len(in) + 1 {
			ev, err := sr.next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				return
			}
			if len(ev.data) > 64 {
				t.Fatalf("event of %d bytes past the limit", len(ev.data))
			}
		}
		t.Fatal("more events than bytes")
	})
}
