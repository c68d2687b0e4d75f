package twittertext

import "testing"

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"a &amp; b":        "a & b",
		"&lt;sync.Map&gt;": "<sync.Map>",
		"&amp;lt;":         "&lt;", // the author typed "&lt;"
		"&nbsp; &#39;":     "&nbsp; &#39;",
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsID(t *testing.T) {
	for s, want := range map[string]bool{"1121338611069906945": true, "0": true, "": false, "12a": false, "-1": false, "１": false} {
		if got := IsID(s); got != want {
			t.Errorf("IsID(%q) = %v, want %v", s, got, want)
		}
	}
}
