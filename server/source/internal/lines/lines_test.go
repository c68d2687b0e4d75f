package lines

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLineReader(t *testing.T) {
	type line struct {
		text    string
		tooLong bool
		cut     bool // ended with the input, without a newline
	}
	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		input string
		max   int // 8 when 0
		want  []line
	}{
		{name: "empty input", input: "", want: nil},
		{name: "one line", input: "abc\n", want: []line{{text: "abc"}}},
		{name: "last line without newline", input: "abc\ndef", want: []line{{text: "abc"}, {text: "def", cut: true}}},
		{name: "CRLF endings", input: "abc\r\ndef\r\n", want: []line{{text: "abc"}, {text: "def"}}},
		{name: "blank lines", input: "\n\r\n\n", want: []line{{}, {}, {}}},
		{name: "exactly max", input: "12345678\r\n", want: []line{{text: "12345678"}}},
		{name: "one past max", input: "123456789\nok\n", want: []line{{tooLong: true}, {text: "ok"}}},
		{name: "long line without newline at the end", input: "ok\n1234567890123", want: []line{{text: "ok"}, {tooLong: true, cut: true}}},
		{
			name:  "very long line between short ones",
			input: "a\n" + strings.Repeat("x", 200_000) + "\nb\n",
			want:  []line{{text: "a"}, {tooLong: true}, {text: "b"}},
		},
		// As the live sources read streams.
		{name: "CRLF lines and keep-alives", input: "{\"a\":1}\r\n\r\n\r\n{\"b\":2}\r\n", max: 64, want: []line{{text: `{"a":1}`}, {}, {}, {text: `{"b":2}`}}},
		{name: "LF lines", input: "a\nb\n", max: 64, want: []line{{text: "a"}, {text: "b"}}},
		{name: "last line without newline after CRLF", input: "a\r\nb", max: 64, want: []line{{text: "a"}, {text: "b", cut: true}}},
		{name: "a line longer than max is skipped, the next one read", input: "a\r\n" + long + "\r\nb\r\n", max: 50, want: []line{{text: "a"}, {tooLong: true}, {text: "b"}}},
		{name: "a line exactly max is kept", input: strings.Repeat("y", 50) + "\r\n", max: 50, want: []line{{text: strings.Repeat("y", 50)}}},
		{name: "a long line longer than the buffer", input: strings.Repeat("z", 200<<10) + "\r\nok\r\n", max: 1 << 10, want: []line{{tooLong: true}, {text: "ok"}}},
	}
	readers := map[string]func(string) io.Reader{
		"whole": func(s string) io.Reader { return strings.NewReader(s) },
		// OneByteReader makes every line cross many reads, as a chunked
		// stream does.
		"one byte reads": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
	}
	for _, tt := range tests {
		for rname, mk := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				max := tt.max
				if max == 0 {
					max = 8
				}
				lr := NewReader(mk(tt.input), max)
				var got []line
				for {
					b, tooLong, err := lr.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, line{text: string(b), tooLong: tooLong, cut: lr.Cut()})
					if lr.N() != len(got) {
						t.Errorf("line number = %d, want %d", lr.N(), len(got))
					}
				}
				if len(got) != len(tt.want) {
					t.Fatalf("lines = %+v, want %+v", got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("line %d = %+v, want %+v", i+1, got[i], tt.want[i])
					}
				}
			})
		}
	}
}

func TestLineReaderPassesOnReadErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	lr := NewReader(io.MultiReader(strings.NewReader("ok\n"), iotest.ErrReader(boom)), 8)
	if b, _, err := lr.Next(); err != nil || string(b) != "ok" {
		t.Fatalf("first line = %q, %v", b, err)
	}
	if _, _, err := lr.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestLineReaderReportsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	lr := NewReader(io.MultiReader(strings.NewReader("a\r\npartial"), iotest.ErrReader(boom)), 64)
	if line, _, err := lr.Next(); err != nil || string(line) != "a" {
		t.Fatalf("first line = %q, %v", line, err)
	}
	if _, _, err := lr.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reader's error (the partial line is lost)", err)
	}
}
