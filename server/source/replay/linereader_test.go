package replay

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLineReader(t *testing.T) {
	const max = 8
	type line struct {
		text    string
		tooLong bool
	}
	tests := []struct {
		name  string
		input string
		want  []line
	}{
		{name: "empty input", input: "", want: nil},
		{name: "one line", input: "abc\n", want: []line{{text: "abc"}}},
		{name: "last line without newline", input: "abc\ndef", want: []line{{text: "abc"}, {text: "def"}}},
		{name: "CRLF endings", input: "abc\r\ndef\r\n", want: []line{{text: "abc"}, {text: "def"}}},
		{name: "blank lines", input: "\n\r\n\n", want: []line{{}, {}, {}}},
		{name: "exactly max", input: "12345678\r\n", want: []line{{text: "12345678"}}},
		{name: "one past max", input: "123456789\nok\n", want: []line{{tooLong: true}, {text: "ok"}}},
		{name: "long line without newline at the end", input: "ok\n1234567890123", want: []line{{text: "ok"}, {tooLong: true}}},
		{
			name:  "very long line between short ones",
			input: "a\n" + strings.Repeat("x", 200_000) + "\nb\n",
			want:  []line{{text: "a"}, {tooLong: true}, {text: "b"}},
		},
	}
	readers := map[string]func(string) io.Reader{
		"whole":          func(s string) io.Reader { return strings.NewReader(s) },
		"one byte reads": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
	}
	for _, tt := range tests {
		for rname, mk := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				lr := newLineReader(mk(tt.input), max)
				var got []line
				for {
					b, tooLong, err := lr.next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, line{text: string(b), tooLong: tooLong})
					if lr.n != len(got) {
						t.Errorf("line number = %d, want %d", lr.n, len(got))
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
	lr := newLineReader(io.MultiReader(strings.NewReader("ok\n"), iotest.ErrReader(boom)), 8)
	if b, _, err := lr.next(); err != nil || string(b) != "ok" {
		t.Fatalf("first line = %q, %v", b, err)
	}
	if _, _, err := lr.next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}
