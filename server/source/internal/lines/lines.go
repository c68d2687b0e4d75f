// Package lines reads newline-delimited messages: the "\r\n"-delimited
// JSON of Twitter's and X's streams, the lines of a replay file, and the
// field lines of Mastodon's server-sent events.
package lines

import (
	"bufio"
	"errors"
	"io"
)

// MaxBytes is the longest line the sources decode. A v1.1 status with a
// retweet, a quote and their media, or a v2 post with its expansions, runs
// to some tens of KiB; a line past 1 MiB is not a post but a fault (of the
// stream or of a damaged file), and is skipped.
const MaxBytes = 1 << 20

// Reader reads lines ending in "\n" or "\r\n". Unlike bufio.Scanner, which
// stops for good at a line longer than its buffer (and so would lose a
// connection, or the rest of a file, over one oversized line), it consumes
// such a line whole and reports it, so that reading goes on; and it never
// holds more than max bytes of one line.
type Reader struct {
	r   *bufio.Reader
	max int
	buf []byte
	n   int
	cut bool
}

// NewReader reads lines of up to max bytes from r.
func NewReader(r io.Reader, max int) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next line without its "\n" or "\r\n"; on a stream an
// empty line is a keep-alive. The slice is valid until the next call. When
// the line was longer than max, line is nil and tooLong is true. At the end
// of the input err is io.EOF; a last line without a newline is returned
// first (see Cut). Any other error is the reader's: a read error mid-line
// loses the partial line, which on a stream is a dropped connection and an
// incomplete message anyway.
func (lr *Reader) Next() (line []byte, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	read := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		read = read || len(chunk) > 0
		if !tooLong {
			// max+2 leaves room for the "\r\n" that is not part of the line.
			if len(lr.buf)+len(chunk) > lr.max+2 {
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the line goes on past the buffer
		}
		if err != nil && (!errors.Is(err, io.EOF) || !read) {
			return nil, false, err
		}
		lr.cut = err != nil
		break // a whole line, or the last one without a newline
	}
	lr.n++
	line = lr.buf
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if tooLong || len(line) > lr.max {
		return nil, true, nil
	}
	return line, false, nil
}

// N is the number of the line Next returned last, counting from 1.
func (lr *Reader) N() int { return lr.n }

// Cut reports whether the line Next returned last ended with the input,
// without a newline: for a format in which such a line is not a line
// (server-sent events) it is the end of the input.
func (lr *Reader) Cut() bool { return lr.cut }
