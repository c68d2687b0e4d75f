package web

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestRoutes(t *testing.T) {
	sio := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("socket.io " + r.Method)) })
	healthy := true
	h := Handler(Config{SocketIO: sio, Health: func() HealthReport { return testReport{Source: "x", healthy: healthy} }})
	tests := []struct {
		name, method, path string
		code               int
		contains           string
	}{
		{"page", "GET", "/", 200, "<html"},
		{"script", "GET", "/app.js", 200, ""},
		{"socket.io get", "GET", "/socket.io/?EIO=3", 200, "socket.io GET"},
		{"socket.io post", "POST", "/socket.io/?EIO=3", 200, "socket.io POST"},
		{"no writes to assets", "POST", "/", 405, ""},
		{"missing asset", "GET", "/nope.js", 404, ""},
		{"name that is not UTF-8", "GET", "/%FF%FE", 404, ""},
		{"not UTF-8 under a page", "GET", "/stats/%FF", 404, ""},
		{"no directory listing", "GET", "/vendor/", 404, ""},
		{"no directory listing without the slash", "GET", "/vendor", 404, ""},
		{"page by name", "GET", "/index.html", 301, ""},
		{"health", "GET", "/healthz", 200, `"source":"x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Fatalf("%s %s = %d %.200q, want %d containing %q", tt.method, tt.path, rec.Code, rec.Body, tt.code, tt.contains)
			}
		})
	}
	t.Run("page has a CSP", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("CSP = %q", csp)
		}
	})
	t.Run("no health function says ok", func(t *testing.T) {
		rec := httptest.NewRecorder()
		Handler(Config{SocketIO: sio}).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
			t.Fatalf("got %d %q", rec.Code, rec.Body)
		}
	})
	t.Run("unhealthy is 503", func(t *testing.T) {
		healthy = false
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != 503 || body["source"] != "x" {
			t.Fatalf("got %d %v", rec.Code, body)
		}
	})
}

// testReport is a /healthz body as the application's: its own fields.
type testReport struct {
	Source  string `json:"source"`
	healthy bool
}

func (r testReport) Healthy() bool { return r.healthy }

func TestErrorStatuses(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code int
		msg  string
	}{
		{tweet.Errorf(tweet.EINVALID, "limit must be 1 to 200"), 400, "limit must be 1 to 200"},
		{tweet.Errorf(tweet.ENOTFOUND, "no such event"), 404, "no such event"},
		{tweet.Errorf(tweet.EUNAVAILABLE, "database down"), 503, "database down"},
		{errors.New("secret internals"), 500, "internal error"},
	} {
		rec := httptest.NewRecorder()
		Error(rec, tt.err)
		var body map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != tt.code || body["error"] != tt.msg {
			t.Errorf("Error(%v) = %d %v, want %d %q", tt.err, rec.Code, body, tt.code, tt.msg)
		}
	}
}

func TestOriginPolicy(t *testing.T) {
	const firefox = "moz-extension://0f3c8e1a-7b2d-4c5e-9a1f-2d3e4f5a6b7c"
	r := httptest.NewRequest("GET", "http://tw.example:8124/socket.io/", nil)
	cases := map[string]bool{
		"http://tw.example:8124":   true,
		"https://TW.example:8124":  true,
		ExtensionOrigin:            true,
		"https://wall.example.org": true,
		firefox:                    true,
		strings.ToUpper(firefox):   true,
		"https://evil.example":     false,
		"http://tw.example:9999":   false,
		"null":                     false,
		// Another Chrome extension, even one named like this host.
		"chrome-extension://abcdefghijklmnopabcdefghijklmnop": false,
		"chrome-extension://tw.example:8124":                  false,
		// Not a Firefox installation's UUID.
		"moz-extension://":                                        false,
		"moz-extension://tw.example:8124":                         false,
		"moz-extension://0f3c8e1a-7b2d-4c5e-9a1f":                 false,
		"moz-extension://0f3c8e1a-7b2d-4c5e-9a1f-2d3e4f5a6b7c:80": false,
		"moz-extension://0f3c8e1a-7b2d-4c5e-9a1f-2d3e4f5a6b7g":    false,
		firefox + "/":                                 false,
		firefox + ".evil.example":                     false,
		"http://" + firefox[len("moz-extension://"):]: false,
	}
	allow := OriginPolicy([]string{"https://wall.example.org"}, false)
	for origin, want := range cases {
		if got := allow(origin, r); got != want {
			t.Errorf("allow(%q) = %v, want %v", origin, got, want)
		}
	}
	// --firefox-extension=false: the Firefox add-on is refused, the rest
	// as before.
	strict := OriginPolicy([]string{"https://wall.example.org"}, true)
	for origin, want := range cases {
		if strings.HasPrefix(strings.ToLower(origin), "moz-extension:") {
			want = false
		}
		if got := strict(origin, r); got != want {
			t.Errorf("with noFirefox, allow(%q) = %v, want %v", origin, got, want)
		}
	}
	// An add-on is never this server's own page, whatever the Host says.
	for _, o := range []string{firefox, ExtensionOrigin} {
		u, _ := url.Parse(o)
		if SameOrigin(o, httptest.NewRequest("GET", "http://"+u.Host+"/", nil)) {
			t.Errorf("SameOrigin(%q) with Host %q", o, u.Host)
		}
	}
	for _, bad := range []string{"wall.example.org", "https://a.example/path", "https://a.example?x=1", ""} {
		if _, err := ParseOrigin(bad); err == nil {
			t.Errorf("ParseOrigin(%q) accepted", bad)
		}
	}
}

// DNS rebinding: a name the server was not told it serves gets 421 on
// everything but /healthz; IP addresses, localhost and the listed names are
// served.
func TestHostGuard(t *testing.T) {
	sio := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("socket.io")) })
	h := Handler(Config{SocketIO: sio, Host: HostPolicy([]string{"wall.example.org", "café.example"})})
	for _, tt := range []struct {
		host, path string
		code       int
	}{
		{"evil.example", "/socket.io/?EIO=4&transport=polling", 421},
		{"evil.example:8124", "/", 421},
		{"wall.example.org.evil.example", "/socket.io/", 421},
		{"evil.example", "/healthz", 200},
		{"127.0.0.1:8124", "/socket.io/", 200},
		{"[::1]:8124", "/socket.io/", 200},
		{"192.168.1.20", "/socket.io/", 200},
		{"localhost:8124", "/socket.io/", 200},
		{"WALL.example.org.", "/socket.io/", 200},
		{"café.example:443", "/socket.io/", 200},
		{"[fe80::1%25eth0]:8124", "/socket.io/", 421}, // a zone is no address net.ParseIP takes
		{"[::ffff:10.0.0.1]:8124", "/socket.io/", 200},
		{"10.0.0", "/socket.io/", 421},
		{"010.0.0.1", "/socket.io/", 421},
	} {
		t.Run(tt.host+tt.path, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.path, nil)
			req.Host = tt.host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Fatalf("Host %s %s = %d, want %d", tt.host, tt.path, rec.Code, tt.code)
			}
			if strings.Contains(rec.Body.String(), "evil") {
				t.Errorf("the answer repeats the request's name: %q", rec.Body)
			}
		})
	}
	// isIP agrees with net.ParseIP, which it stands in for.
	for _, h := range []string{"127.0.0.1", "::1", "fe80::1%eth0", "::ffff:1.2.3.4", "1.2.3", "01.2.3.4", "1.2.3.4.5", "", "localhost", "٣.٣.٣.٣", "2001:db8::1"} {
		if got, want := isIP(h), net.ParseIP(h) != nil; got != want {
			t.Errorf("isIP(%q) = %v, net.ParseIP says %v", h, got, want)
		}
	}
	for _, bad := range []string{"https://wall.example.org", "wall.example.org:443", "", "a/b"} {
		if _, err := ParseName(bad); err == nil {
			t.Errorf("ParseName(%q) accepted it", bad)
		}
	}
}

// While the server starts, the page and /healthz answer, the rest asks to
// come back, and the host guard holds as it does later.
func TestStarting(t *testing.T) {
	h := Starting(func() HealthReport { return testReport{Source: "loading 1,000 posts of Café ☕"} }, HostPolicy(nil))
	tests := []struct {
		name, method, host, path string
		code                     int
		contains                 string
	}{
		{"page", "GET", "127.0.0.1", "/", 200, "<html"},
		{"script", "GET", "127.0.0.1", "/app.js", 200, ""},
		{"health says what loads", "GET", "127.0.0.1", "/healthz", 503, "loading 1,000 posts of Café ☕"},
		{"health by any name", "GET", "wall.example.org", "/healthz", 503, "loading"},
		{"api", "GET", "127.0.0.1", "/api/tweets?event=東京", 503, "starting"},
		{"socket.io", "POST", "127.0.0.1", "/socket.io/?EIO=4", 503, "starting"},
		{"stats page", "GET", "127.0.0.1", "/stats", 503, "starting"},
		{"no directory listing", "GET", "127.0.0.1", "/vendor/", 503, "starting"},
		{"no writes to assets", "POST", "127.0.0.1", "/", 405, ""},
		{"foreign name", "GET", "wall.example.org", "/", 421, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(tt.method, tt.path, nil)
			r.Host = tt.host
			h.ServeHTTP(rec, r)
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Fatalf("%s %s = %d %.200q, want %d containing %q", tt.method, tt.path, rec.Code, rec.Body, tt.code, tt.contains)
			}
			if tt.code == 503 && tt.path != "/healthz" && rec.Header().Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
		})
	}
}
