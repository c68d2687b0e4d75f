// Package sourcetest holds what the tests of the sources share: a Sink
// that records what a source hands it, a log destination, a source
// running in the background (against a fake stream, for the live ones),
// backoffs for tests, fixtures, the invariants every decoded event must
// hold, and the scenarios every streaming source must survive
// (scenarios.go).
package sourcetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// Sink is a tweet.Sink that records the events and states a source hands
// it. Its zero value is ready to use.
type Sink struct {
	// OnEmit, when set, is called after an event is recorded, with the
	// number of events recorded so far, and Emit returns what it returns.
	OnEmit func(ctx context.Context, n int) error

	mu      sync.Mutex
	events  []tweet.Update
	states  []State
	read    int           // the events Next handed out
	changed chan struct{} // closed at the next change
}

// State is a state a source reported, with its error.
type State struct {
	State tweet.State
	Err   error
}

var _ tweet.Sink = (*Sink)(nil)

// Emit records ev, unless ctx is done.
func (s *Sink) Emit(ctx context.Context, ev tweet.Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.events = append(s.events, ev)
	n := len(s.events)
	s.notifyLocked()
	s.mu.Unlock()
	if s.OnEmit != nil {
		return s.OnEmit(ctx, n)
	}
	return nil
}

// SetState records st and err.
func (s *Sink) SetState(st tweet.State, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = append(s.states, State{st, err})
	s.notifyLocked()
}

func (s *Sink) notifyLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// change returns a channel closed at the next change.
func (s *Sink) change() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// Events returns the events recorded so far.
func (s *Sink) Events() []tweet.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tweet.Update(nil), s.events...)
}

// IDs returns the ids of the events recorded so far, those of deletes
// with a "-" in front.
func (s *Sink) IDs() []string {
	var out []string
	for _, ev := range s.Events() {
		prefix := ""
		if ev.Kind == tweet.KindDelete {
			prefix = "-"
		}
		out = append(out, prefix+ev.ID)
	}
	return out
}

// States returns the states recorded so far.
func (s *Sink) States() []State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]State(nil), s.states...)
}

// Last returns the last state recorded, or the zero State.
func (s *Sink) Last() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.states) == 0 {
		return State{}
	}
	return s.states[len(s.states)-1]
}

// LastMessage returns the last state and its error message ("" without
// an error).
func (s *Sink) LastMessage() (tweet.State, string) {
	st := s.Last()
	if st.Err == nil {
		return st.State, ""
	}
	return st.State, st.Err.Error()
}

// Saw reports whether the source reported st with an error containing
// want.
func (s *Sink) Saw(st tweet.State, want string) bool {
	for _, got := range s.States() {
		if got.State == st && got.Err != nil && strings.Contains(got.Err.Error(), want) {
			return true
		}
	}
	return false
}

// WaitState waits up to 10 s for the last state to be want, and returns it.
func (s *Sink) WaitState(t testing.TB, want tweet.State) State {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		change := s.change()
		if st := s.Last(); st.State == want {
			return st
		}
		select {
		case <-change:
		case <-deadline:
			t.Fatalf("state never became %s; last %v", want, s.Last())
		}
	}
}

// Next waits up to 10 s for the event after the one Next returned last.
func (s *Sink) Next(t testing.TB) tweet.Update {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		change := s.change()
		s.mu.Lock()
		if s.read < len(s.events) {
			ev := s.events[s.read]
			s.read++
			s.mu.Unlock()
			return ev
		}
		s.mu.Unlock()
		select {
		case <-change:
		case <-deadline:
			t.Fatal("no event within 10 s")
		}
	}
}

// None fails the test if an event comes after the one Next returned last,
// within d.
func (s *Sink) None(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		change := s.change()
		s.mu.Lock()
		if s.read < len(s.events) {
			ev := s.events[s.read]
			s.mu.Unlock()
			t.Fatalf("unexpected event %v %s", ev.Kind, ev.ID)
		}
		s.mu.Unlock()
		select {
		case <-change:
		case <-deadline:
			return
		}
	}
}

// WaitFor polls ok until it holds, and fails the test if it does not
// within 10 s.
func WaitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
