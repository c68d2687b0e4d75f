package socketio

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// parseParams reads what url.Values would, escaped or not, first value
// first, for the queries clients send and for odd ones.
func TestParseParamsReadsAsURLValues(t *testing.T) {
	queries := []string{
		"",
		"EIO=4&transport=polling",
		"EIO=4&transport=polling&t=PfXz1a&sid=Zx-_9a8b7C6d5E4f3G2h1",
		"EIO=3&transport=polling&b64=1&since=twitter%3A123&t=1",
		"EIO=3&transport=websocket&sid=abc&sid=def",              // the first wins
		"transport=polling&EIO=4&j=0",                            // JSONP
		"j&EIO=3",                                                // a key with no value
		"EIO=4&transport=poll%69ng&sid=a%2Bb",                    // escaped
		"EIO=4&transport=polling+&sid=a+b",                       // + is a space
		"EIO=4;transport=polling&sid=x",                          // ; spoils its pair
		"EIO=4&&transport=polling&=x&sid=",                       // empty pairs and keys
		"EIO=%ZZ&transport=polling",                              // a bad escape
		"eio=4&Transport=polling&SID=x",                          // names are case-sensitive
		"EIO=4&transport=polling&sid=" + strings.Repeat("é", 40), // raw UTF-8
	}
	r := rand.New(rand.NewPCG(16, 16))
	const alphabet = "EIOtransportsidj=&%+;2F4 é"
	for range 2000 {
		var b strings.Builder
		for range r.IntN(40) {
			if r.IntN(5) == 0 {
				b.WriteString([]string{"EIO", "transport", "sid", "j"}[r.IntN(4)])
				continue
			}
			b.WriteString(string([]rune(alphabet)[r.IntN(len([]rune(alphabet)))]))
		}
		queries = append(queries, b.String())
	}
	for _, raw := range queries {
		q, _ := url.ParseQuery(raw)
		want := params{eio: q.Get("EIO"), transport: q.Get("transport"), sid: q.Get("sid"), jsonp: q.Has("j")}
		if got := parseParams(raw); got != want {
			t.Errorf("parseParams(%q) = %+v, want %+v", raw, got, want)
		}
	}
}
