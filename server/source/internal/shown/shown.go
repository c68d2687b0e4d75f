// Package shown remembers which posts a source has put on the wall, so
// that a post that comes again (after a reconnection rewinds, or on a
// second stream) is not shown twice, and a delete goes out only for a post
// the wall has.
package shown

// Set remembers the ids of the posts shown, up to max of them, forgetting
// the oldest first, and which of them were deleted since. It is not safe
// for concurrent use.
type Set struct {
	max   int
	state map[string]bool // id -> still shown
	fifo  []string
	next  int
}

// New returns a Set that remembers up to max ids.
func New(max int) *Set { return &Set{max: max, state: map[string]bool{}} }

// Add records id as shown and reports whether it was unknown: a post seen
// again, even one deleted since, is not shown again.
func (s *Set) Add(id string) bool {
	if _, known := s.state[id]; known {
		return false
	}
	s.remember(id, true)
	return true
}

// Remove records id as deleted and reports whether the delete should go
// out: when the post was shown and not deleted yet, or, with unknownToo,
// when the id is unknown (a post shown before a restart, say).
func (s *Set) Remove(id string, unknownToo bool) bool {
	shown, known := s.state[id]
	switch {
	case shown:
		s.state[id] = false
		return true
	case !known && unknownToo:
		s.remember(id, false)
		return true
	}
	return false
}

func (s *Set) remember(id string, shown bool) {
	if len(s.fifo) < s.max {
		s.fifo = append(s.fifo, id)
	} else {
		delete(s.state, s.fifo[s.next])
		s.fifo[s.next] = id
		s.next = (s.next + 1) % s.max
	}
	s.state[id] = shown
}
