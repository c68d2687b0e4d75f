package shown

import "testing"

func TestSet(t *testing.T) {
	s := New(2)
	steps := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"a new post is shown", func() bool { return s.Add("a") }, true},
		{"the same post again is not", func() bool { return s.Add("a") }, false},
		{"its delete goes out", func() bool { return s.Remove("a", false) }, true},
		{"a second delete does not", func() bool { return s.Remove("a", true) }, false},
		{"a deleted post is not shown again", func() bool { return s.Add("a") }, false},
		{"the delete of an unknown post does not go out", func() bool { return s.Remove("x", false) }, false},
		{"unless asked for", func() bool { return s.Remove("y", true) }, true},
		{"the oldest id is forgotten", func() bool { return s.Add("b") && s.Add("a") }, true},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Fatalf("%s: got %v, want %v", st.name, got, st.want)
		}
	}
}
