package mastodon

import (
	"bytes"
	"io"

	"github.com/tweetwire/tweetwire/server/source/internal/lines"
)

// sseEvent is one server-sent event, or a comment line.
type sseEvent struct {
	// name is the event field ("update", "delete"); "message" when the
	// event had none.
	name string
	// data is the data lines joined by "\n". It is valid until the next
	// call of next.
	data []byte
	// comment is set for a comment line (":thump"), which Mastodon sends
	// as a keep-alive; name and data are then empty.
	comment bool
	// tooLarge is set for an event whose data passed the reader's limit:
	// it was read to its end and dropped.
	tooLarge bool
}

// sseReader reads the text/event-stream format as Mastodon writes it:
// "field: value" lines ending in "\n" (or "\r\n"), a blank line ending
// each event, and ":" comments. Unlike bufio.Scanner it survives a line
// or an event longer than its limit: it skips it and goes on.
type sseReader struct {
	lines *lines.Reader
	max   int
	data  bytes.Buffer
}

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{lines: lines.NewReader(r, max), max: max}
}

// next returns the next event or comment. At the end of the stream it
// returns io.EOF (an event cut off by the end is dropped, as the SSE
// specification says).
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	s.data.Reset()
	hasData := false
	for {
		line, tooLong, err := s.readLine()
		if err != nil {
			return sseEvent{}, err
		}
		if tooLong {
			// Only a data line can be this long in practice; whatever it
			// was, the event is lost.
			ev.tooLarge = true
			continue
		}
		if len(line) == 0 {
			if ev.tooLarge {
				return sseEvent{name: ev.name, tooLarge: true}, nil
			}
			if !hasData {
				ev = sseEvent{} // an event with no data is not dispatched
				continue
			}
			if ev.name == "" {
				ev.name = "message"
			}
			ev.data = s.data.Bytes()
			return ev, nil
		}
		if line[0] == ':' {
			if !hasData && ev.name == "" && !ev.tooLarge {
				return sseEvent{comment: true}, nil
			}
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			ev.name = string(value)
		case "data":
			if ev.tooLarge {
				continue
			}
			if s.data.Len()+len(value)+1 > s.max {
				ev.tooLarge = true
				s.data.Reset()
				continue
			}
			if hasData {
				s.data.WriteByte('\n')
			}
			s.data.Write(value)
			hasData = true
		}
		// "id" and "retry" do not matter to a client that reconnects on
		// its own terms; other fields are ignored, as the format says.
	}
}

// readLine returns the next line without its end. A line longer than max
// is consumed whole and reported as tooLong.
func (s *sseReader) readLine() (line []byte, tooLong bool, err error) {
	line, tooLong, err = s.lines.Next()
	if err == nil && s.lines.Cut() {
		// A line cut off by the end of the stream is not a line.
		return nil, false, io.EOF
	}
	return line, tooLong, err
}
