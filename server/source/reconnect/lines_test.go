package reconnect

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		input string
		max   int
		want  []string // "<long>" marks a skipped line
	}{
		{"CRLF lines and keep-alives", "{\"a\":1}\r\n\r\n\r\n{\"b\":2}\r\n", 64, []string{`{"a":1}`, "", "", `{"b":2}`}},
		{"LF lines", "a\nb\n", 64, []string{"a", "b"}},
		{"last line without newline", "a\r\nb", 64, []string{"a", "b"}},
		{"a line longer than max is skipped, the next one read", "a\r\n" + long + "\r\nb\r\n", 50, []string{"a", "<long>", "b"}},
		{"a line exactly max is kept", strings.Repeat("y", 50) + "\r\n", 50, []string{strings.Repeat("y", 50)}},
		{"a long line longer than the buffer", strings.Repeat("z", 200<<10) + "\r\nok\r\n", 1 << 10, []string{"<long>", "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// OneByteReader makes every line cross many reads, as a
			// chunked stream does.
			lr := NewLineReader(iotest.OneByteReader(strings.NewReader(tt.input)), tt.max)
			var got []string
			for {
				line, tooLong, err := lr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if tooLong {
					got = append(got, "<long>")
					continue
				}
				got = append(got, string(line))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("lines = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLineReaderReportsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	lr := NewLineReader(io.MultiReader(strings.NewReader("a\r\npartial"), iotest.ErrReader(boom)), 64)
	if line, _, err := lr.Next(); err != nil || string(line) != "a" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	if _, _, err := lr.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reader's error (the partial line is lost)", err)
	}
}
