package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tweetwire/tweetwire/server/moderation"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// Admin authentication: the bearer token in the Authorization header,
// never a cookie (a cookie would ride along with any cross-site request).
const (
	// maxFailures wrong tokens from one address within failureWindow
	// lock that address out until the window ends.
	maxFailures   = 10
	failureWindow = time.Minute
	// maxTracked bounds the addresses remembered.
	maxTracked = 10000
)

// adminGuard checks the admin token for every state change: ending the
// event and the moderation API.
type adminGuard struct {
	// sum is the token's SHA-256: comparing sums takes the same time
	// whatever the length of what a client sends.
	sum   [32]byte
	empty bool
	now   func() time.Time

	mu       sync.Mutex
	failures map[string]*failures
}

type failures struct {
	n     int
	since time.Time
}

func newAdminGuard(token string, now func() time.Time) *adminGuard {
	return &adminGuard{sum: sha256.Sum256([]byte(token)), empty: token == "", now: now, failures: map[string]*failures{}}
}

// clientAddr is the address wrong tokens are counted by: the peer's IP.
// (Behind a reverse proxy every client shares the proxy's; the lockout
// then covers them all, which errs on the safe side.)
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// authorize answers 403, 401 or 429 and returns false unless r carries
// the admin token from this server's own pages or a non-browser client.
// what says what needs the token, for the error.
func (g *adminGuard) authorize(w http.ResponseWriter, r *http.Request, what string) bool {
	// A page on another site must not act through a visitor's browser:
	// browsers send Origin with every cross-site POST.
	if o := r.Header.Get("Origin"); o != "" {
		if !SameOrigin(o, r) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": what + " is only allowed from this server's own pages"})
			return false
		}
	}
	addr, now := clientAddr(r), g.now()
	g.mu.Lock()
	f := g.failures[addr]
	if f != nil && now.Sub(f.since) >= failureWindow {
		delete(g.failures, addr)
		f = nil
	}
	locked := f != nil && f.n >= maxFailures
	g.mu.Unlock()
	if locked {
		w.Header().Set("Retry-After", strconv.Itoa(int(failureWindow/time.Second)))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many wrong admin tokens from this address: wait a minute, then try again with the right one"})
		return false
	}
	header := r.Header.Get("Authorization")
	got, ok := strings.CutPrefix(header, "Bearer ")
	sum := sha256.Sum256([]byte(got))
	if !g.empty && ok && subtle.ConstantTimeCompare(sum[:], g.sum[:]) == 1 {
		return true
	}
	if header != "" {
		g.fail(addr, now)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="tweetwire"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": what + " needs the admin token: send Authorization: Bearer <token> (the server logs where the token is kept at start-up, unless --admin-token gives one)"})
	return false
}

func (g *adminGuard) fail(addr string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.failures) >= maxTracked {
		for a, f := range g.failures {
			if now.Sub(f.since) >= failureWindow {
				delete(g.failures, a)
			}
		}
		if len(g.failures) >= maxTracked {
			clear(g.failures)
		}
	}
	f := g.failures[addr]
	if f == nil {
		f = &failures{since: now}
		g.failures[addr] = f
	}
	f.n++
}

// Limits of the moderation API.
const (
	DefaultAdminPosts = 50
	MaxAdminPosts     = 200
	DefaultAudit      = 100
	MaxAudit          = 1000
	maxAdminBody      = 64 << 10
)

// sessionLabel is what X-Admin-Session may hold: the console sends a
// random label per browser tab.
var sessionLabel = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// registerAdmin adds the moderation API (every route behind the admin
// token) and the console page:
//
//	GET    /admin                          the console page
//	POST   /api/admin/posts/{id}/{action}  hide, unhide, pin, unpin
//	GET    /api/admin/posts?limit=N        newest posts with their moderation
//	GET    /api/admin/hidden               hidden posts
//	GET    /api/admin/pins                 pinned posts
//	GET    /api/admin/blocks               blocks
//	POST   /api/admin/blocks               {"kind":"word"|"author","value":"..."}
//	DELETE /api/admin/blocks/{id}
//	GET    /api/admin/settings
//	PUT    /api/admin/settings             {"premoderation":b,"hide_reposts":b,"allow":[...]}
//	GET    /api/admin/queue                posts waiting, oldest first
//	POST   /api/admin/queue/{id}/{action}  approve, reject
//	GET    /api/admin/audit?limit=N        actions, newest first
func registerAdmin(mux *http.ServeMux, cfg APIConfig, g *adminGuard) {
	mux.Handle("GET /admin", securityHeaders(http.HandlerFunc(adminPage)))
	if cfg.Moderation == nil {
		return
	}
	m := &admin{cfg: cfg, mod: cfg.Moderation}
	route := func(pattern string, h func(http.ResponseWriter, *http.Request, string)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			noStore(w)
			if !g.authorize(w, r, "moderation") {
				return
			}
			by := "api"
			if s := r.Header.Get("X-Admin-Session"); s != "" {
				if !sessionLabel.MatchString(s) {
					Error(w, tweet.Errorf(tweet.EINVALID, "X-Admin-Session must be 1 to 64 letters, digits or dashes"))
					return
				}
				by = s
			}
			ctx, cancel := context.WithTimeout(r.Context(), cfg.Timeout)
			defer cancel()
			h(w, r.WithContext(ctx), by)
		})
	}
	route("POST /api/admin/posts/{id}/{action}", m.postAction)
	route("GET /api/admin/posts", m.posts)
	route("GET /api/admin/hidden", func(w http.ResponseWriter, r *http.Request, _ string) {
		writeJSON(w, http.StatusOK, itemsPage{Posts: m.mod.Hidden()})
	})
	route("GET /api/admin/pins", func(w http.ResponseWriter, r *http.Request, _ string) {
		writeJSON(w, http.StatusOK, itemsPage{Posts: m.mod.PinnedItems()})
	})
	route("GET /api/admin/queue", func(w http.ResponseWriter, r *http.Request, _ string) {
		writeJSON(w, http.StatusOK, itemsPage{Posts: m.mod.Queue()})
	})
	route("POST /api/admin/queue/{id}/{action}", m.queueAction)
	route("GET /api/admin/blocks", func(w http.ResponseWriter, r *http.Request, _ string) {
		writeJSON(w, http.StatusOK, blocksPage{Blocks: m.mod.Blocks()})
	})
	route("POST /api/admin/blocks", m.addBlock)
	route("DELETE /api/admin/blocks/{id}", m.removeBlock)
	route("GET /api/admin/settings", func(w http.ResponseWriter, r *http.Request, _ string) {
		writeJSON(w, http.StatusOK, m.mod.Settings())
	})
	route("PUT /api/admin/settings", m.putSettings)
	route("GET /api/admin/audit", m.audit)
}

// adminPage serves the console; it reads the token from the URL's
// fragment, which never reaches the server.
func adminPage(w http.ResponseWriter, r *http.Request) {
	static, _ := fs.Sub(assets, "assets")
	if _, err := fs.Stat(static, "admin.html"); err != nil {
		http.Error(w, "the moderation console is missing from this build: the API under /api/admin/ works without it", http.StatusNotFound)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.ServeFileFS(w, r, static, "admin.html")
}

type admin struct {
	cfg APIConfig
	mod *moderation.Service
}

type itemsPage struct {
	Posts []moderation.Item `json:"posts"`
}

type blocksPage struct {
	Blocks []tweet.Block `json:"blocks"`
}

type auditPage struct {
	Entries []tweet.AuditEntry `json:"entries"`
}

func (m *admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	if code := tweet.ErrorCode(err); code == tweet.EINTERNAL || code == tweet.EUNAVAILABLE {
		m.cfg.Logger.Error("moderation request failed", "path", r.URL.Path, "err", err)
	}
	Error(w, err)
}

// postID is the {id} of the path, unescaped by the mux.
func postID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxParam {
		return "", tweet.Errorf(tweet.EINVALID, "the post id must be 1 to %d bytes, as clients receive it (twitter:123)", maxParam)
	}
	return id, nil
}

// answerItem writes the post's moderation after an action.
func (m *admin) answerItem(w http.ResponseWriter, r *http.Request, id string) {
	it, err := m.mod.Item(r.Context(), id)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (m *admin) postAction(w http.ResponseWriter, r *http.Request, by string) {
	id, err := postID(r)
	if err != nil {
		Error(w, err)
		return
	}
	do := map[string]func(context.Context, string, string) error{
		"hide": m.mod.Hide, "unhide": m.mod.Unhide, "pin": m.mod.Pin, "unpin": m.mod.Unpin,
	}[r.PathValue("action")]
	if do == nil {
		Error(w, tweet.Errorf(tweet.ENOTFOUND, "a post can be hidden, unhidden, pinned or unpinned: POST /api/admin/posts/{id}/hide, unhide, pin or unpin"))
		return
	}
	if err := do(r.Context(), by, id); err != nil {
		m.fail(w, r, err)
		return
	}
	m.answerItem(w, r, id)
}

func (m *admin) queueAction(w http.ResponseWriter, r *http.Request, by string) {
	id, err := postID(r)
	if err != nil {
		Error(w, err)
		return
	}
	do := map[string]func(context.Context, string, string) error{"approve": m.mod.Approve, "reject": m.mod.Reject}[r.PathValue("action")]
	if do == nil {
		Error(w, tweet.Errorf(tweet.ENOTFOUND, "a queued post can be approved or rejected: POST /api/admin/queue/{id}/approve or reject"))
		return
	}
	if err := do(r.Context(), by, id); err != nil {
		m.fail(w, r, err)
		return
	}
	m.answerItem(w, r, id)
}

// limitParam reads ?limit=, between 1 and most.
func limitParam(r *http.Request, def, most int) (int, error) {
	s, err := param(r.URL.Query(), "limit")
	if err != nil || s == "" {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > most {
		return 0, tweet.Errorf(tweet.EINVALID, "limit must be a whole number from 1 to %d", most)
	}
	return n, nil
}

func (m *admin) posts(w http.ResponseWriter, r *http.Request, _ string) {
	limit, err := limitParam(r, DefaultAdminPosts, MaxAdminPosts)
	if err != nil {
		Error(w, err)
		return
	}
	items, err := m.mod.Posts(r.Context(), limit)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, itemsPage{Posts: items})
}

func (m *admin) audit(w http.ResponseWriter, r *http.Request, _ string) {
	limit, err := limitParam(r, DefaultAudit, MaxAudit)
	if err != nil {
		Error(w, err)
		return
	}
	entries, err := m.mod.AuditLog(r.Context(), limit)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, auditPage{Entries: entries})
}

// decodeBody reads a small JSON object into v; an error is one sentence
// that names no part of the body.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return tweet.Errorf(tweet.EINVALID, "the field %q has the wrong type: see the API in the README", typ.Field)
		case errors.As(err, &syntax), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return tweet.Errorf(tweet.EINVALID, "the body must be one JSON object of at most %d KB", maxAdminBody>>10)
		default:
			return tweet.Errorf(tweet.EINVALID, "the body must be one JSON object with only the fields the README lists")
		}
	}
	if dec.More() {
		return tweet.Errorf(tweet.EINVALID, "the body must be one JSON object, nothing after it")
	}
	return nil
}

func (m *admin) addBlock(w http.ResponseWriter, r *http.Request, by string) {
	var body struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	}
	if err := decodeBody(r, &body); err != nil {
		Error(w, err)
		return
	}
	b, err := m.mod.AddBlock(r.Context(), by, body.Kind, body.Value)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/admin/blocks/"+url.PathEscape(b.ID))
	writeJSON(w, http.StatusCreated, b)
}

func (m *admin) removeBlock(w http.ResponseWriter, r *http.Request, by string) {
	if err := m.mod.RemoveBlock(r.Context(), by, r.PathValue("id")); err != nil {
		m.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (m *admin) putSettings(w http.ResponseWriter, r *http.Request, by string) {
	// Fields left out keep their value, so a switch can be flipped
	// without sending the allow-list back.
	var body struct {
		Premoderation *bool     `json:"premoderation"`
		HideReposts   *bool     `json:"hide_reposts"`
		Allow         *[]string `json:"allow"`
	}
	if err := decodeBody(r, &body); err != nil {
		Error(w, err)
		return
	}
	s := m.mod.Settings()
	if body.Premoderation != nil {
		s.Premoderation = *body.Premoderation
	}
	if body.HideReposts != nil {
		s.HideReposts = *body.HideReposts
	}
	if body.Allow != nil {
		s.Allow = *body.Allow
	}
	if err := m.mod.SetSettings(r.Context(), by, s); err != nil {
		m.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m.mod.Settings())
}
