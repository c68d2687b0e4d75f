package reconnect

import (
	"bufio"
	"errors"
	"io"
)

// MaxLineBytes is the longest stream message the live sources decode. A
// v1.1 status with a retweet, a quote and their media, or a v2 post with
// its expansions, runs to some tens of KiB; a line past 1 MiB is not a post
// but a fault, and is skipped.
const MaxLineBytes = 1 << 20

// LineReader reads the "\r\n"- (or "\n"-) delimited messages of a
// streaming HTTP response. Unlike bufio.Scanner, which stops for good at a
// line longer than its buffer (and so would lose the connection over one
// oversized message), it consumes such a line whole and reports it, so
// the stream goes on; and it never holds more than max bytes of one line.
type LineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewLineReader reads lines of up to max bytes from r.
func NewLineReader(r io.Reader, max int) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next line without its "\n" or "\r\n"; an empty line is
// a stream's keep-alive. The slice is valid until the next call. When the
// line was longer than max, line is nil and tooLong is true. At the end of
// the input err is io.EOF; a last line without a newline is returned
// first. Any other error is the reader's.
func (lr *LineReader) Next() (line []byte, tooLong bool, err error) {
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
			// A read error mid-line loses the partial line: on a
			// stream that is a dropped connection, and the message
			// was incomplete anyway.
			return nil, false, err
		}
		break // a whole line, or the last one without a newline
	}
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
