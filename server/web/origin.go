package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ExtensionOrigin is the bundled Chrome extension's origin; its id is fixed
// by the `key` in extension/manifest.json.
const ExtensionOrigin = "chrome-extension://fjamhnalbnojmognfhnilhlakmampnfa"

// ParseOrigin checks that s is an origin a browser sends: scheme and host,
// no path. It returns the canonical form.
func ParseOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("%q is not an origin: write it as scheme://host[:port], e.g. https://wall.example.org", s)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// OriginPolicy allows the page's own origin, the bundled extension and the
// extra origins given (already canonical, from ParseOrigin).
func OriginPolicy(extra []string) func(origin string, r *http.Request) bool {
	allowed := map[string]bool{ExtensionOrigin: true}
	for _, o := range extra {
		allowed[o] = true
	}
	return func(origin string, r *http.Request) bool {
		o := strings.ToLower(origin)
		if allowed[o] {
			return true
		}
		// Same origin: the page this server served talks back to it.
		// Behind a TLS-terminating proxy the scheme differs, so the
		// host alone decides.
		u, err := url.Parse(o)
		return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
	}
}
