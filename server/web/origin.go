package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
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
		return isIP(h) || allowed[h]
	}
}

// isIP is net.ParseIP(h) != nil without its allocation (every request
// asks): an IPv4 or IPv6 address, no zone.
func isIP(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.Zone() == ""
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

// firefoxExtension is the origin of a Firefox add-on's pages: Firefox
// gives each installation of an add-on its own random UUID, so the bundled
// extension cannot be named like the Chrome one and any well-formed one is
// taken (see OriginPolicy).
var firefoxExtension = regexp.MustCompile(`^moz-extension://[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// IsFirefoxExtension reports whether origin is a Firefox add-on's.
func IsFirefoxExtension(origin string) bool {
	return firefoxExtension.MatchString(strings.ToLower(origin))
}

// SameOrigin reports whether origin is a page this server served: an
// http or https origin naming the host r was sent to. Behind a
// TLS-terminating proxy the scheme differs, so the host alone decides; an
// extension's origin (chrome-extension://, moz-extension://) never is,
// whatever its host part says.
func SameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(strings.ToLower(origin))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// OriginPolicy allows the page's own origin, the bundled Chrome extension,
// the extra origins given (already canonical, from ParseOrigin) and, unless
// noFirefox, every Firefox add-on. It decides who may open the live feed
// (the Socket.IO handshake, on both transports), which carries the public
// posts only: a web page cannot send a moz-extension:// Origin, only an
// add-on the user installed can, and an add-on with host permissions reads
// the server without CORS anyway, so taking them all admits no web page
// and nothing an installed add-on could not already read. Nothing that
// changes state takes this policy: those endpoints want SameOrigin and the
// admin token.
func OriginPolicy(extra []string, noFirefox bool) func(origin string, r *http.Request) bool {
	allowed := map[string]bool{ExtensionOrigin: true}
	for _, o := range extra {
		allowed[o] = true
	}
	return func(origin string, r *http.Request) bool {
		o := strings.ToLower(origin)
		if allowed[o] {
			return true
		}
		if !noFirefox && IsFirefoxExtension(o) {
			return true
		}
		// Same origin: the page this server served talks back to it.
		return SameOrigin(o, r)
	}
}
