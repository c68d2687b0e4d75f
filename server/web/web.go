// Package web is Tweetwire's HTTP surface: the fallback page and its
// assets, /healthz, the JSON API, and the mount point for Socket.IO.
package web

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tweetwire/tweetwire/server/tweet"
)

//go:embed assets
var assets embed.FS

// Config wires the handler. Every field but SocketIO may be nil.
type Config struct {
	// SocketIO serves /socket.io/.
	SocketIO http.Handler
	// Health returns the body of /healthz, written as JSON; nil answers
	// {"status":"ok"}.
	Health func() HealthReport
	// API, when set, serves the JSON API and the stats page.
	API *APIConfig
	// Metrics, when set, serves /metrics.
	Metrics http.Handler
	// Bench, when set, serves /bench/ (benchmark mode).
	Bench http.Handler
	// Host, when set, decides which Host headers are answered (see
	// HostPolicy); others get 421, except /healthz, which health checks
	// reach by any name and which holds no event data.
	Host   func(host string) bool
	Logger *slog.Logger
}

// HealthReport is the body of /healthz: what the application reports of
// its parts, in its own JSON.
type HealthReport interface {
	// Healthy says whether /healthz answers 200 (true) or 503.
	Healthy() bool
}

// okReport is /healthz without a Health function.
type okReport struct {
	Status string `json:"status"`
}

func (okReport) Healthy() bool { return true }

// Handler returns the server's routes.
func Handler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embed pattern names the folder: cannot happen
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", cfg.SocketIO)
	if cfg.API != nil {
		RegisterAPI(mux, *cfg.API)
	}
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	if cfg.Bench != nil {
		mux.Handle("/bench/", cfg.Bench)
	}
	routePage(mux, static, cfg.Health)
	// "/" without a method: a method pattern would conflict with the
	// method-less /socket.io/ mount (polling uses GET, POST and OPTIONS).
	mux.Handle("/", securityHeaders(readOnly(files(static))))
	return guardHost(cfg.Host, mux)
}

// Starting returns the routes of a server that listens but is still
// loading: /healthz, from health (which should say what it loads, and
// answer 503), and the page and its assets, so that a browser gets the
// page at once and its Socket.IO client retries until the server is up.
// Everything else gets 503 with Retry-After. host is as in Config.
func Starting(health func() HealthReport, host func(string) bool) http.Handler {
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embed pattern names the folder: cannot happen
	}
	mux := http.NewServeMux()
	routePage(mux, static, health)
	page := securityHeaders(readOnly(files(static)))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if st, err := fs.Stat(static, name); r.URL.Path == "/" || err == nil && !st.IsDir() {
			page.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"error": "the server is starting: it is loading the stored posts (see /healthz); try again in a moment",
		})
	}))
	return guardHost(host, mux)
}

// routePage adds /healthz, the Socket.IO client script and the display
// page to mux: what a browser needs even while the server starts.
func routePage(mux *http.ServeMux, static fs.FS, health func() HealthReport) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		var body HealthReport = okReport{Status: "ok"}
		if health != nil {
			body = health()
		}
		code := http.StatusOK
		if !body.Healthy() {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, body)
	})
	mux.HandleFunc("GET /vendor/socket.io.js", func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(static, "vendor/socket.io.js"); errors.Is(err, fs.ErrNotExist) {
			http.Error(w, "socket.io-client is missing from this build: run scripts/prepare, then rebuild", http.StatusInternalServerError)
			return
		}
		http.FileServerFS(static).ServeHTTP(w, r)
	})
	mux.Handle("GET /display", securityHeaders(page("display.html")))
}

// guardHost answers only the names host accepts (all when nil), and
// /healthz by any name.
func guardHost(host func(string) bool, next http.Handler) http.Handler {
	if host == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !host(r.Host) && r.URL.Path != "/healthz" {
			// The name is not repeated: it is the request's, and the
			// body must echo nothing a page could have chosen.
			http.Error(w, "this server does not answer to that name: its operator lists the names it serves with --public-names", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// files serves the embedded assets: a file by its name, the page at "/",
// and 404 for anything else, directories and names that are not valid
// UTF-8 included (the file server would list a directory, and answer 500
// to a name fs.FS refuses).
func files(static fs.FS) http.Handler {
	server := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			name := strings.TrimPrefix(r.URL.Path, "/")
			if !fs.ValidPath(name) || !utf8.ValidString(name) {
				http.NotFound(w, r)
				return
			}
			if st, err := fs.Stat(static, name); err != nil || st.IsDir() {
				http.NotFound(w, r)
				return
			}
		}
		server.ServeHTTP(w, r)
	})
}

func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders forbids inline and remote scripts on our pages: post
// text is untrusted, and even a rendering bug must not run it.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: http: data:; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// Error writes err as a JSON error with the HTTP status of its code; the
// one place where domain error codes become statuses.
func Error(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch tweet.ErrorCode(err) {
	case tweet.EINVALID:
		code = http.StatusBadRequest
	case tweet.ENOTFOUND:
		code = http.StatusNotFound
	case tweet.EUNAVAILABLE:
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]string{"error": tweet.ErrorMessage(err)})
}
