// Package x is the tweet.Source of the X API v2 filtered stream. It keeps
// the app's stream rules in step with the tracked terms, touching only the
// rules it tagged, then reads GET /2/tweets/search/stream with the app's
// bearer token, over plain net/http.
//
// As of this writing the filtered stream needs a paid access level (Pro or
// Enterprise; Basic and Free have none), and a Pro app may hold one stream
// connection at a time.
package x

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/linestream"
	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/secret"
	"github.com/tweetwire/tweetwire/server/tweet"
)

const (
	// DefaultAPIURL is where the X API v2 is served.
	DefaultAPIURL = "https://api.x.com"
	// DefaultStallTimeout is how long a silent stream is trusted. X sends
	// a keep-alive every 20 s and asks clients to reconnect when it stops;
	// keep-alives often arrive a little late, so exactly 20 s would drop
	// healthy streams.
	DefaultStallTimeout = 30 * time.Second
	// DefaultRuleTag tags the stream rules this package creates. Rules
	// with another tag belong to someone else and are never changed.
	DefaultRuleTag = "tweetwire"

	streamPath = "/2/tweets/search/stream"
	rulesPath  = streamPath + "/rules"
)

// streamQuery asks for what a tweet.Tweet needs: the author (expansion
// author_id), and for a repost the original and its author, whose full
// text the wall shows; note_tweet holds the text of a post over 280
// characters; attachments.media_keys the photos, in includes.media.
var streamQuery = url.Values{
	"expansions":   {"author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys"},
	"tweet.fields": {"created_at,entities,lang,referenced_tweets,note_tweet,author_id,attachments,public_metrics"},
	"user.fields":  {"username,name,profile_image_url"},
	"media.fields": {"type,url,preview_image_url,alt_text,width,height"},
}.Encode()

// Config says what to follow and how to reach X. Zero values mean the
// defaults.
type Config struct {
	// Track are the terms to follow, one stream rule each: a post
	// matches when it contains every word of one of them, and "#tag"
	// matches the hashtag.
	Track []string
	// BearerToken is the app-only token of an X app. It only ever goes
	// into the Authorization header: no log line, error or state
	// carries it.
	BearerToken string
	// APIURL is the scheme, host and optional path prefix of the API;
	// DefaultAPIURL when empty. A proxy or a test server can stand in.
	APIURL string
	// RuleTag tags the rules this source owns; DefaultRuleTag when empty.
	RuleTag string
	// StallTimeout is how long the stream may stay silent before it
	// counts as dropped; DefaultStallTimeout when zero.
	StallTimeout time.Duration
	// Backoff gives the waits between attempts; reconnect.NewTwitter()
	// when nil.
	Backoff reconnect.HTTPBackoff
	// Logger gets what happens to the stream; nil means slog.Default().
	Logger *slog.Logger
}

// Source follows the filtered stream. Run it once at a time; it holds no
// goroutine or connection outside Run.
type Source struct {
	cfg    Config
	terms  []string // Track without repeats, in order
	base   *url.URL
	client *http.Client
	log    *slog.Logger

	// lastPost is when the newest post arrived (Unix nanoseconds), and
	// resume when another node's copy of the stream stopped; both are
	// read and written across goroutines.
	lastPost atomic.Int64
	resume   atomic.Int64
}

var (
	_ tweet.Source    = (*Source)(nil)
	_ tweet.Resumable = (*Source)(nil)
)

// maxBackfill is the longest backfill the filtered stream offers.
const maxBackfill = 5 * time.Minute

// Position is when the newest post arrived, RFC 3339.
func (s *Source) Position() string {
	if n := s.lastPost.Load(); n > 0 {
		return time.Unix(0, n).UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// ResumeFrom asks the next connection for the posts since position, with
// backfill_minutes (at most five minutes back: the most X keeps, on the
// access levels that offer it). Older positions and non-times are ignored.
func (s *Source) ResumeFrom(position string) {
	if t, err := time.Parse(time.RFC3339Nano, position); err == nil {
		s.resume.Store(t.UnixNano())
	}
}

// streamQueryNow is the stream's query, with a backfill when this copy
// takes over from another; the backfill is asked for once.
func (s *Source) streamQueryNow() string {
	from := s.resume.Swap(0)
	if from == 0 {
		return streamQuery
	}
	gap := time.Since(time.Unix(0, from))
	if gap <= 0 || gap > maxBackfill {
		return streamQuery
	}
	minutes := int((gap + time.Minute - 1) / time.Minute)
	return streamQuery + "&backfill_minutes=" + strconv.Itoa(minutes)
}

// New checks cfg, so that a missing token or terms are reported when the
// server starts. Its errors, and those of Run about a setting, are
// *tweet.FieldError about the Config field at fault.
func New(cfg Config) (*Source, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if strings.TrimSpace(cfg.BearerToken) == "" {
		return nil, invalidField("BearerToken", "needs the bearer token of an X app: the Bearer Token on the app's Keys and tokens page")
	}
	if len(cfg.Track) == 0 {
		return nil, invalidField("Track", "needs the keywords, phrases or #hashtags to follow, one stream rule each")
	}
	var terms []string
	for _, term := range cfg.Track {
		term = strings.TrimSpace(term)
		if term == "" {
			return nil, invalidField("Track", "has an empty term: remove it")
		}
		if !contains(terms, term) {
			terms = append(terms, term)
		}
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	base, err := linestream.BaseURL(cfg.APIURL, "APIURL", DefaultAPIURL, "the API is authenticated with the bearer token")
	if err != nil {
		return nil, err
	}
	if cfg.StallTimeout < 0 {
		return nil, invalidField("StallTimeout", "%v is negative: give a duration such as 30s", cfg.StallTimeout)
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.RuleTag == "" {
		cfg.RuleTag = DefaultRuleTag
	}
	if cfg.Backoff == nil {
		cfg.Backoff = reconnect.NewTwitter()
	}
	return &Source{
		cfg:   cfg,
		terms: terms,
		base:  base,
		// A client of our own, never http.DefaultClient: no overall
		// timeout (a stream lasts for days; each rules request has its
		// own) and idle connections that Run can close.
		client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		log:    log,
	}, nil
}

// Run syncs the stream rules, then streams until ctx is done (it returns
// nil) or X refuses the token, the access level or the rules (it returns
// the error, which says what to fix). It reconnects on its own after
// anything else, waiting as X asks.
func (s *Source) Run(ctx context.Context, sink tweet.Sink) error {
	defer s.client.CloseIdleConnections()
	s.log.Info("x: following the v2 filtered stream", "url", s.base.Redacted(), "track", strings.Join(s.terms, ","))
	var rules map[string]bool // the ids of the rules for our terms, once synced
	err := reconnect.Run(ctx, func() reconnect.Drop {
		if rules == nil {
			var d reconnect.Drop
			if rules, d = s.syncRules(ctx); rules == nil {
				return d
			}
		}
		return s.connect(ctx, sink, rules)
	}, func(d reconnect.Drop) time.Duration {
		wait := reconnect.AfterHTTP(s.cfg.Backoff, d)
		sink.SetState(tweet.StateReconnecting, d.Err)
		s.log.Warn("x: reconnecting", "in", wait.Round(time.Millisecond), "err", d.Err)
		return wait
	})
	if err != nil {
		sink.SetState(tweet.StateFailed, err)
	}
	return err
}

// rule is a filtered stream rule.
type rule struct {
	ID    string `json:"id,omitempty"`
	Value string `json:"value"`
	Tag   string `json:"tag,omitempty"`
}

// ruleError is an error object of the rules endpoint: a problem about one
// rule value.
type ruleError struct {
	Problem
	Value   string   `json:"value"`
	ID      string   `json:"id"`
	Details []string `json:"details"`
}

type rulesResponse struct {
	Data   []rule      `json:"data"`
	Errors []ruleError `json:"errors"`
}

// syncRules makes the rules tagged RuleTag exactly one per term: it
// deletes the tagged rules of terms no longer tracked and adds the missing
// ones. A term that already has a rule under another tag uses that rule,
// since X refuses duplicates. It returns the ids of the rules whose posts
// are ours.
func (s *Source) syncRules(ctx context.Context) (map[string]bool, reconnect.Drop) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var current rulesResponse
	if d := s.call(ctx, http.MethodGet, nil, &current); d.Err != nil {
		return nil, d
	}
	ours := map[string]bool{}
	have := map[string]bool{} // terms with a rule
	var stale []string
	for _, r := range current.Data {
		switch {
		case r.Tag == s.cfg.RuleTag && contains(s.terms, r.Value) && !have[r.Value]:
			ours[r.ID], have[r.Value] = true, true
		case r.Tag == s.cfg.RuleTag:
			stale = append(stale, r.ID)
		}
	}
	for _, r := range current.Data {
		if r.Tag != s.cfg.RuleTag && contains(s.terms, r.Value) && !have[r.Value] {
			s.log.Info("x: another tool's stream rule already follows a term; its posts are shown", "term", r.Value, "tag", r.Tag)
			ours[r.ID], have[r.Value] = true, true
		}
	}
	if len(stale) > 0 {
		body := map[string]any{"delete": map[string]any{"ids": stale}}
		if d := s.call(ctx, http.MethodPost, body, &rulesResponse{}); d.Err != nil {
			return nil, d
		}
	}
	var add []rule
	for _, term := range s.terms {
		if !have[term] {
			add = append(add, rule{Value: term, Tag: s.cfg.RuleTag})
		}
	}
	if len(add) > 0 {
		var added rulesResponse
		if d := s.call(ctx, http.MethodPost, map[string]any{"add": add}, &added); d.Err != nil {
			return nil, d
		}
		for _, r := range added.Data {
			ours[r.ID] = true
		}
		for _, e := range added.Errors {
			if e.Title == "DuplicateRule" {
				ours[e.ID] = true
				continue
			}
			return nil, reconnect.Drop{Fatal: true, Err: s.ruleRefused(e)}
		}
	}
	s.log.Info("x: stream rules in step with the tracked terms", "tag", s.cfg.RuleTag, "rules", len(s.terms), "added", len(add), "deleted", len(stale))
	return ours, reconnect.Drop{}
}

func (s *Source) ruleRefused(e ruleError) error {
	why := e.String()
	if len(e.Details) > 0 {
		why = strings.Join(e.Details, "; ")
	}
	return invalidField("Track", "X refused the stream rule %q made from a tracked term (%s): change or remove that term", e.Value, s.clean(why))
}

// call sends one request to the rules endpoint and decodes the answer
// into out.
func (s *Source) call(ctx context.Context, method string, body, out any) reconnect.Drop {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reconnect.Drop{Fatal: true, Err: fmt.Errorf("x: encode the rules request: %w", err)}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url(rulesPath, ""), r)
	if err != nil {
		return reconnect.Drop{Fatal: true, Err: fmt.Errorf("x: build the rules request: %w", err)}
	}
	s.authorize(req)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return reconnect.Drop{Err: tweet.FieldErrorf("APIURL", tweet.EUNAVAILABLE, "cannot reach the X API (%v): check the network and this URL", err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return reconnect.Drop{Err: unavailable("the X API broke off its answer about the stream rules (%v)", err)}
	}
	if resp.StatusCode/100 != 2 {
		var rr rulesResponse
		if json.Unmarshal(b, &rr) == nil && resp.StatusCode == http.StatusBadRequest {
			for _, e := range rr.Errors {
				if e.Value != "" {
					return reconnect.Drop{Fatal: true, Err: s.ruleRefused(e)}
				}
			}
		}
		return s.refused(resp.StatusCode, b, "the stream rules request")
	}
	if err := json.Unmarshal(b, out); err != nil {
		return reconnect.Drop{Err: unavailable("the X API answered the stream rules request with something that is not its JSON (%v): retrying", err)}
	}
	return reconnect.Drop{}
}

func (s *Source) authorize(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+s.cfg.BearerToken)
	req.Header.Set("User-Agent", "tweetwire")
}

func (s *Source) url(path, query string) string {
	u := *s.base
	u.Path += path
	u.RawQuery = query
	return u.String()
}

// refused turns an HTTP error status into a drop that says what to do.
func (s *Source) refused(code int, body []byte, what string) reconnect.Drop {
	status := fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	if p := s.problem(body); p != "" {
		status += ": " + p
	}
	switch code {
	case http.StatusUnauthorized:
		return reconnect.Drop{Fatal: true, Err: invalidField("BearerToken", "X refused the bearer token (%s): check it; it is the app-only Bearer Token on the app's Keys and tokens page", status)}
	case http.StatusForbidden:
		return reconnect.Drop{Fatal: true, Err: invalid("X refused this app the filtered stream (%s): as of this writing it needs the Pro or Enterprise access level and an app inside a Project, so upgrade on the X developer portal or use the bluesky source or the mastodon source", status)}
	case http.StatusNotFound:
		return reconnect.Drop{Fatal: true, Err: invalidField("APIURL", "%s has no X API v2 filtered stream (%s): check this URL", s.base.Redacted(), status)}
	case http.StatusBadRequest:
		return reconnect.Drop{Fatal: true, Err: invalidField("Track", "X refused %s (%s): check the terms", what, status)}
	case http.StatusTooManyRequests:
		return reconnect.Drop{Status: code, Err: unavailable("X is rate limiting this app (%s), after too many connections or requests: waiting before the next attempt", status)}
	default:
		return reconnect.Drop{Status: code, Err: unavailable("X answered %s with %s: retrying", what, status)}
	}
}

// problem returns the gist of an error body: its detail, title or first
// error, cleaned for one line.
func (s *Source) problem(body []byte) string {
	var p struct {
		Problem
		Errors []Problem `json:"errors"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	msg := p.Problem.String()
	if msg == "" && len(p.Errors) > 0 {
		msg = p.Errors[0].String()
	}
	return s.clean(msg)
}

// clean shortens text X sent to one line of at most 200 bytes, and
// removes the token, in any form, in case a proxy echoed it.
func (s *Source) clean(text string) string {
	text = secret.Scrub(text, s.cfg.BearerToken)
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > 200 {
		text = strings.ToValidUTF8(text[:200], "") + "…"
	}
	return text
}

// connect makes one stream connection and reads it until it ends.
func (s *Source) connect(ctx context.Context, sink tweet.Sink, rules map[string]bool) reconnect.Drop {
	req, err := http.NewRequest(http.MethodGet, s.url(streamPath, s.streamQueryNow()), nil)
	if err != nil {
		return reconnect.Drop{Fatal: true, Err: fmt.Errorf("x: build the stream request: %w", err)}
	}
	s.authorize(req)
	open := func(ctx context.Context) (*http.Response, error) { return s.client.Do(req.WithContext(ctx)) }
	return s.lineStream().Connect(ctx, sink, open, messages{s: s, rules: rules})
}

// lineStream makes and reads the stream connections.
func (s *Source) lineStream() linestream.Stream {
	return linestream.Stream{
		Service:      "X",
		URLField:     "APIURL",
		StallTimeout: s.cfg.StallTimeout,
		Backoff:      s.cfg.Backoff,
		Refused: func(resp *http.Response) reconnect.Drop {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			return s.refused(resp.StatusCode, b, "the stream")
		},
		Log: s.log,
	}
}

// messages decodes the messages of one connection; rules are the ids of
// the stream rules whose posts are ours.
type messages struct {
	s     *Source
	rules map[string]bool
}

var _ linestream.Messages = messages{}

func (m messages) Decode(line []byte) (tweet.Update, bool, error) {
	msg, err := Decode(line)
	if err != nil {
		m.s.log.Warn("x: skipping a malformed message", "err", err)
		return tweet.Update{}, false, nil
	}
	for _, p := range msg.Problems {
		if p.Disconnect() {
			return tweet.Update{}, false, unavailable("X disconnected the stream (%s)", m.s.clean(p.String()))
		}
		m.s.log.Warn("x: the stream reported a problem", "problem", m.s.clean(p.String()))
	}
	if msg.Event.Kind == 0 {
		return tweet.Update{}, false, nil
	}
	if msg.Event.Kind == tweet.KindPost && !matches(msg.RuleIDs, m.rules) {
		// Another tool's rule on the same app matched it.
		m.s.log.Debug("x: skipping a post no rule of ours matched", "id", msg.Event.ID)
		return tweet.Update{}, false, nil
	}
	if msg.Event.Kind == tweet.KindPost {
		m.s.lastPost.Store(time.Now().UnixNano())
	}
	return msg.Event, true, nil
}

func (m messages) Closed() error { return unavailable("X closed the stream") }

// matches reports whether a post that matched ids is ours. A post that
// names no rule is taken: only a post that names rules, none of them
// ours, belongs to someone else.
func matches(ids []string, ours map[string]bool) bool {
	if len(ids) == 0 || len(ours) == 0 {
		return true
	}
	for _, id := range ids {
		if ours[id] {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// invalid is a configuration, credential or access error: retrying cannot
// fix it.
func invalid(format string, args ...any) error { return tweet.Errorf(tweet.EINVALID, format, args...) }

// invalidField is an invalid error about the Config field named field.
func invalidField(field, format string, args ...any) error {
	return tweet.FieldErrorf(field, tweet.EINVALID, format, args...)
}

// unavailable is an error the source reconnects after.
func unavailable(format string, args ...any) error {
	return tweet.Errorf(tweet.EUNAVAILABLE, format, args...)
}
