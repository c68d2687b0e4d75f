package store

import (
	"strings"
	"testing"
	"time"
)

// Counter keys come from people (handles, hashtags) and from sources
// (language tags): whatever they hold, the field name is one that MongoDB
// and FerretDB accept and it gives the key back.
func TestFieldNameRoundTrip(t *testing.T) {
	for _, key := range []string{
		"", "en", "twitter:bob.smith", "$money", "a.b.c", "twitter:$tsla", "100%", "%2E", "%",
		"🎉", "日本語", "ゴー言語", "ليلى", "עברית", "café", "<b>ivan</b>", "zh-Hant",
		"tab\there", "nul\x00byte", "bad\xffutf8", "28571428", "-5", "k", "kk",
	} {
		name := fieldName(key)
		if name == "" || strings.ContainsAny(name, ".$\x00\t") || !strings.HasPrefix(name, "k") {
			t.Errorf("fieldName(%q) = %q: not a field name both databases take", key, name)
		}
		back, ok := fieldKey(name)
		if !ok || back != key {
			t.Errorf("fieldKey(fieldName(%q)) = %q, %v", key, back, ok)
		}
	}
	if _, ok := fieldKey("total"); ok {
		t.Error(`fieldKey("total") is a key: only names fieldName makes are`)
	}
}

// The edge keys sort as Recent does, oldest first, including before 1970
// and among posts of the same millisecond.
func TestEdgeKeyOrder(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	posts := []struct {
		at time.Time
		id string
	}{
		{at("1969-07-20T20:17:40Z"), "apollo"},
		{at("1970-01-01T00:00:00Z"), "epoch"},
		{at("2026-12-04T09:00:00.001Z"), "bluesky:1"},
		{at("2026-12-04T09:00:00.001Z"), "bluesky:10"},
		{at("2026-12-04T09:00:00.001Z"), "bluesky:2"},
		{at("2026-12-04T09:00:00.002Z"), "a"},
	}
	for i := 1; i < len(posts); i++ {
		a, b := posts[i-1], posts[i]
		if ka, kb := edgeKey(a.at, a.id), edgeKey(b.at, b.id); ka >= kb {
			t.Errorf("edgeKey(%v, %q) = %q is not before edgeKey(%v, %q) = %q", a.at, a.id, ka, b.at, b.id, kb)
		}
		if got := edgeID(edgeKey(b.at, b.id)); got != b.id {
			t.Errorf("edgeID gives %q, want %q", got, b.id)
		}
	}
}
