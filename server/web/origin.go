package web

import (
	"fmt"
	"net"
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

// HostPolicy says which Host headers this server answers to with event
// data or actions: an IP address (the listener's, as a client typed it),
// localhost, and the names given (as ParseName returns them). Any other
// name is what DNS rebinding sends: a page on evil.example whose name was
// made to resolve to this server reads it with the visitor's browser as
// same-origin, and Origin checks cannot tell.
func HostPolicy(names []string) func(host string) bool {
	allowed := map[string]bool{"localhost": true}
	for _, n := range names {
		allowed[n] = true
	}
	return func(host string) bool {
		h := host
		if hp, _, err := net.SplitHostPort(host); err == nil {
			h = hp
		}
		h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
		return net.ParseIP(h) != nil || allowed[h]
	}
}

// ParseName checks that s is a host name (no scheme, port or path) and
// returns it in lower case.
func ParseName(s string) (string, error) {
	n := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if n == "" || strings.ContainsAny(n, "/:@ ?#[]") {
		return "", fmt.Errorf("%q is not a host name: write it as the browser's address bar shows it, without scheme or port, e.g. wall.example.org", s)
	}
	return n, nil
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
