// Package mastodon is a tweet.Source that follows a Mastodon server's
// streaming API: one server-sent-event stream per tracked hashtag, and
// the public timeline, filtered here, for plain keywords (Mastodon has no
// keyword stream). It sees what that one server knows of the fediverse:
// its own posts and those of the accounts its users follow.
package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/tweetwire/tweetwire/server/source/internal/match"
	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/secret"
	"github.com/tweetwire/tweetwire/server/source/internal/shown"
	"github.com/tweetwire/tweetwire/server/tweet"
)

const (
	// DefaultURL is the largest Mastodon server.
	DefaultURL = "https://mastodon.social"
	// DefaultStallTimeout is how long a stream may stay silent before it
	// counts as dropped. Mastodon sends a ":thump" comment every 15 s.
	DefaultStallTimeout = 90 * time.Second
	// MaxEventBytes is the largest event read. A status with its account,
	// tags, mentions and media runs to some KiB; a larger event is
	// skipped, and the stream kept.
	MaxEventBytes = 1 << 20
)

// DefaultBackoff is the wait between reconnections when Config.Backoff is
// zero: Mastodon publishes no rules, so exponential from 1 s to 2 min,
// ±20%.
var DefaultBackoff = reconnect.Backoff{Min: time.Second, Max: 2 * time.Minute, Jitter: 0.2}

// Config says which server to follow and what for. Zero values mean the
// defaults above.
type Config struct {
	// URL is the server, e.g. https://mastodon.social.
	URL string
	// Token is an access token of an account on that server with the
	// read:statuses scope (read works too). Servers since Mastodon 4.2
	// refuse streams without one.
	Token string
	// Track are the terms to follow: each "#tag" alone gets a hashtag
	// stream, every other term is matched on the public timeline (see
	// package match).
	Track        []string
	StallTimeout time.Duration
	// Backoff is copied for each stream; its attempt count starts at zero.
	Backoff reconnect.Backoff
	// Logger gets what happens to the streams; nil means slog.Default().
	Logger *slog.Logger
}

// Source follows the streams. Run it once at a time.
type Source struct {
	cfg     Config
	base    *url.URL
	host    string // for ids
	streams []stream
	log     *slog.Logger
	client  *http.Client

	// emitMu makes checking shown and emitting one step, so that a status
	// arriving on two streams at once is emitted once, and before its
	// delete.
	emitMu sync.Mutex
	shown  *shown.Set
}

// stream is one streaming endpoint.
type stream struct {
	name   string // for logs and errors: "#goconf", "public"
	path   string // under /api/v1/streaming/
	query  url.Values
	filter *match.Matcher // nil: every status belongs on the wall
}

var _ tweet.Source = (*Source)(nil)

// New checks cfg, so that a mistake stops the server when it starts. Its
// errors, and those of Run about a setting, are *tweet.FieldError about
// the Config field at fault.
func New(cfg Config) (*Source, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.Backoff.Min <= 0 || cfg.Backoff.Max <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	base, err := url.Parse(cfg.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return nil, tweet.FieldErrorf("URL", tweet.EINVALID, "%q is not the URL of a server: give one like %s", cfg.URL, DefaultURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	if strings.ContainsFunc(cfg.Token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		// Never quote the token: errors end up in logs and /healthz.
		return nil, tweet.FieldErrorf("Token", tweet.EINVALID, "the Mastodon access token contains white space or control characters: give the token alone")
	}
	streams, err := plan(cfg.Track)
	if err != nil {
		return nil, err
	}
	s := &Source{
		cfg:     cfg,
		base:    base,
		host:    strings.ToLower(base.Host),
		streams: streams,
		log:     log,
		shown:   shown.New(1 << 16),
	}
	s.client = &http.Client{
		// No Timeout: a stream lasts; the watchdog notices a silent one.
		Transport:     http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: s.checkRedirect,
	}
	return s, nil
}

// plan turns the terms into streams: a hashtag stream per "#tag" term, and
// the public timeline for the rest.
func plan(track []string) ([]stream, error) {
	var streams []stream
	var keywords []string
	seen := map[string]bool{}
	for _, term := range track {
		fields := strings.Fields(term)
		if len(fields) == 1 && (strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], "＃")) {
			tag := tweet.NormalizeHashtag(fields[0])
			if tag == "" {
				continue
			}
			if !validTag(tag) {
				return nil, tweet.FieldErrorf("Track", tweet.EINVALID, "%q is not a Mastodon hashtag, which holds only letters, digits and _: fix it, or drop the # to match it as words", term)
			}
			if !seen[tag] {
				seen[tag] = true
				streams = append(streams, stream{name: "#" + tag, path: "hashtag", query: url.Values{"tag": {tag}}})
			}
			continue
		}
		keywords = append(keywords, term)
	}
	if m := match.New(keywords); !m.Empty() {
		streams = append(streams, stream{name: "public", path: "public", filter: m})
	}
	if len(streams) == 0 {
		return nil, tweet.FieldErrorf("Track", tweet.EINVALID, "needs #hashtags to follow, or keywords to look for in the public timeline")
	}
	return streams, nil
}

func validTag(tag string) bool {
	for _, r := range tag {
		if r != '_' && r != '·' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			return false
		}
	}
	return true
}

// checkRedirect follows the redirect a Mastodon server sends when its
// streaming API lives on another host (mastodon.social sends
// /api/v1/streaming to streaming.mastodon.social), keeping the token,
// which Go drops on a change of host. It refuses to carry the token from
// https to plain http.
func (s *Source) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("%s redirected the stream from https to %s", s.host, req.URL.Scheme)
	}
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	}
	return nil
}

// Run follows every stream until ctx is done or one of them cannot go on
// (a refused token, a URL that is no Mastodon server): then all stop, and
// Run returns that error. Drops and stalls are retried forever, each
// stream on its own.
func (s *Source) Run(ctx context.Context, sink tweet.Sink) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	states := newStates(sink, s.streams)
	var (
		wg       sync.WaitGroup
		fatalMu  sync.Mutex
		fatalErr error
	)
	for i := range s.streams {
		wg.Go(func() {
			if err := s.follow(ctx, sink, states, i); err != nil {
				fatalMu.Lock()
				if fatalErr == nil {
					fatalErr = err
				}
				fatalMu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	s.client.CloseIdleConnections()
	if fatalErr != nil {
		sink.SetState(tweet.StateFailed, fatalErr)
	}
	return fatalErr
}

// follow keeps stream i connected until ctx is done (nil) or it meets a
// fatal error (returned).
func (s *Source) follow(ctx context.Context, sink tweet.Sink, states *states, i int) error {
	st := s.streams[i]
	backoff := s.cfg.Backoff
	return reconnect.Run(ctx, func() reconnect.Drop { return s.session(ctx, sink, states, i) }, func(d reconnect.Drop) time.Duration {
		wait := backoff.After(d)
		states.set(i, tweet.StateReconnecting, d.Err)
		s.log.Warn("mastodon: reconnecting", "stream", st.name, "err", d.Err, "wait", wait.Round(time.Millisecond))
		return wait
	})
}

// session runs one connection of stream i until it drops. It is healthy
// once it delivered an event, or kept alive past one keep-alive, which
// resets the backoff.
func (s *Source) session(ctx context.Context, sink tweet.Sink, states *states, i int) reconnect.Drop {
	st := s.streams[i]
	u := *s.base
	u.Path += "/api/v1/streaming/" + st.path
	u.RawQuery = st.query.Encode()

	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The watchdog runs from the request on, so a server that never
	// answers counts as stalled too. It cancels the request, which ends a
	// blocked read.
	wd := reconnect.NewWatchdog(s.cfg.StallTimeout, cancel)
	defer wd.Stop()
	req, err := http.NewRequestWithContext(connCtx, http.MethodGet, u.String(), nil)
	if err != nil {
		return reconnect.Drop{Fatal: true, Err: tweet.FieldErrorf("URL", tweet.EINVALID, "%q gives no valid stream URL (%v): give the server's base URL, like %s", s.cfg.URL, err, DefaultURL)}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", "tweetwire")
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if wd.Stalled() {
			return reconnect.Drop{Err: fmt.Errorf("%s did not answer the %s stream for %v", s.host, st.name, s.cfg.StallTimeout)}
		}
		return reconnect.Drop{Err: fmt.Errorf("cannot connect to %s for the %s stream: %s", s.host, st.name, s.redact(err.Error()))}
	}
	defer resp.Body.Close()
	if d := s.checkResponse(resp, st); d.Err != nil {
		return d
	}
	states.set(i, tweet.StateRunning, nil)
	s.log.Info("mastodon: streaming", "stream", st.name, "host", s.host)

	sr := newSSEReader(wd.Reader(resp.Body), MaxEventBytes)
	healthy, keepAlives := false, 0
	for {
		ev, err := sr.next()
		switch {
		case ctx.Err() != nil:
			return reconnect.Drop{Healthy: healthy}
		case wd.Stalled():
			return reconnect.Drop{Healthy: healthy, Err: fmt.Errorf("%s sent nothing on the %s stream, not even a keep-alive, for %v", s.host, st.name, s.cfg.StallTimeout)}
		case errors.Is(err, io.EOF):
			return reconnect.Drop{Healthy: healthy, Err: fmt.Errorf("%s closed the %s stream", s.host, st.name)}
		case err != nil:
			return reconnect.Drop{Healthy: healthy, Err: fmt.Errorf("the %s stream from %s dropped: %s", st.name, s.host, s.redact(err.Error()))}
		case ev.comment:
			// The first comment comes with the connection; a second one
			// means it has lasted a keep-alive period.
			keepAlives++
			healthy = healthy || keepAlives > 1
			continue
		case ev.tooLarge:
			s.log.Warn("mastodon: skipping an event larger than 1 MiB", "stream", st.name, "event", ev.name)
			continue
		}
		healthy = true
		if !s.handle(ctx, sink, st, ev) {
			return reconnect.Drop{Healthy: healthy}
		}
	}
}

// checkResponse classifies the answer to a stream request: a drop without
// Err when it is a stream. A refused token and a URL that is no Mastodon
// server are fatal: retrying cannot fix them, and a retry storm on a 401
// is how accounts get suspended. 408, 429 and 5xx are retried.
func (s *Source) checkResponse(resp *http.Response, st stream) reconnect.Drop {
	code := resp.StatusCode
	if code == http.StatusOK {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if ct != "text/event-stream" {
			return reconnect.Drop{Fatal: true, Err: tweet.FieldErrorf("URL", tweet.EINVALID, "%s answered the %s stream with %q, not an event stream: check that this is a Mastodon server", s.host, st.name, ct)}
		}
		return reconnect.Drop{}
	}
	// Mastodon explains a refusal in {"error": "..."}; it is the server's
	// sentence, so it is quoted, short, and scrubbed of the token.
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&body)
	why := resp.Status
	if e := strings.TrimSpace(body.Error); e != "" {
		why += ": " + truncate(s.redact(e), 200)
	}
	switch {
	case code == http.StatusUnauthorized && s.cfg.Token == "":
		return reconnect.Drop{Fatal: true, Err: tweet.FieldErrorf("Token", tweet.EINVALID, "%s requires an access token for streaming (%s): create one in Preferences > Development with the read:statuses scope and set it", s.host, why)}
	case code == http.StatusUnauthorized:
		return reconnect.Drop{Fatal: true, Err: tweet.FieldErrorf("Token", tweet.EINVALID, "%s refused the access token (%s): set a valid token of an account on %s with the read:statuses scope", s.host, why, s.host)}
	case code == http.StatusForbidden:
		return reconnect.Drop{Fatal: true, Err: tweet.FieldErrorf("Token", tweet.EINVALID, "%s refused the %s stream (%s): give the token the read:statuses scope, and check that the account is not suspended", s.host, st.name, why)}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return reconnect.Drop{Err: fmt.Errorf("%s answered the %s stream with %s", s.host, st.name, why)}
	default:
		return reconnect.Drop{Fatal: true, Err: tweet.FieldErrorf("URL", tweet.EINVALID, "%s answered the %s stream with %s: check that this is a Mastodon server, like %s", s.host, st.name, why, DefaultURL)}
	}
}

// redact removes the token, in any form, from a message that may quote
// it back.
func (s *Source) redact(msg string) string {
	return secret.Scrub(msg, s.cfg.Token)
}

// handle decodes one event and emits it when it belongs on the wall. It
// reports false when ctx ended during Emit.
func (s *Source) handle(ctx context.Context, sink tweet.Sink, st stream, sse sseEvent) bool {
	ev, ok, err := Decode(s.host, sse.name, sse.data)
	if err != nil {
		s.log.Warn("mastodon: skipping a malformed event", "stream", st.name, "event", sse.name, "err", s.redact(err.Error()))
		return true
	}
	if !ok {
		return true
	}
	if ev.Kind == tweet.KindPost && st.filter != nil && !st.filter.Match(ev.Tweet.Text, ev.Tweet.Hashtags) {
		return true
	}
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	switch ev.Kind {
	case tweet.KindPost:
		if !s.shown.Add(ev.ID) {
			return true // it came on another stream too
		}
	case tweet.KindDelete:
		// The public timeline announces every deletion on the server;
		// only those of posts shown here matter. A hashtag stream's
		// deletions are of posts with the tag, which may have been shown
		// before a restart.
		if !s.shown.Remove(ev.ID, st.filter == nil) {
			return true
		}
	}
	return sink.Emit(ctx, ev) == nil // an error means ctx is done
}

// states folds the streams' states into the source's: running once every
// stream is, reconnecting while any is (with its error), and it tells the
// sink only of changes.
type states struct {
	mu      sync.Mutex
	sink    tweet.Sink
	streams []stream
	each    []tweet.State
	errs    []error
	last    tweet.State
	lastErr string
}

func newStates(sink tweet.Sink, streams []stream) *states {
	return &states{sink: sink, streams: streams, each: make([]tweet.State, len(streams)), errs: make([]error, len(streams))}
}

func (s *states) set(i int, st tweet.State, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.each[i], s.errs[i] = st, err
	state, why := tweet.State(""), error(nil)
	running := 0
	for j, e := range s.each {
		switch e {
		case tweet.StateReconnecting:
			if state == "" {
				state, why = tweet.StateReconnecting, s.errs[j]
			}
		case tweet.StateRunning:
			running++
		}
	}
	if state == "" && running == len(s.each) {
		state = tweet.StateRunning
	}
	if state == "" {
		return // some streams are still connecting for the first time
	}
	msg := ""
	if why != nil {
		msg = why.Error()
	}
	if state == s.last && msg == s.lastErr {
		return
	}
	s.last, s.lastErr = state, msg
	s.sink.SetState(state, why)
}
