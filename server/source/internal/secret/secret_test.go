package secret

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestScrubEveryForm(t *testing.T) {
	token := "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid+pm/ükß🔑"
	for _, tt := range []struct{ name, echoed string }{
		{"as sent", "Authorization: Bearer " + token},
		{"in a query", "GET /2/tweets?access_token=" + url.QueryEscape(token)},
		{"in a path", "/stream/" + url.PathEscape(token) + "/x"},
		{"base64", "Basic " + base64.StdEncoding.EncodeToString([]byte(token))},
		{"base64url", base64.RawURLEncoding.EncodeToString([]byte(token)) + "."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Scrub("proxy error: "+tt.echoed+" (Grüße 🎉)", token)
			for _, f := range Forms(token) {
				if strings.Contains(got, f) {
					t.Fatalf("Scrub left the form %q in %q", f, got)
				}
			}
			if !strings.Contains(got, "[token]") || !strings.HasSuffix(got, "(Grüße 🎉)") {
				t.Errorf("Scrub = %q, want the token replaced and the rest kept", got)
			}
		})
	}
	if got := Scrub("short words stay", "short"); got != "short words stay" {
		t.Errorf("a secret under 8 bytes matched ordinary text: %q", got)
	}
	if got := Scrub("nothing to hide", ""); got != "nothing to hide" {
		t.Errorf("an empty secret changed the text: %q", got)
	}
}
