// Package twitter is the tweet.Source of Twitter's v1.1 filter stream
// (POST statuses/filter.json with track=...), authenticated as a user with
// OAuth 1.0a.
//
// Twitter retired that endpoint in 2023: as of this writing it answers 403
// to every app, and the source then stops with a sentence that says so and
// points to the x and bluesky sources. It still streams from anything that
// speaks the v1.1 protocol, which Config.StreamURL can point at.
//
// # How anaconda is used
//
// The request is built, OAuth-signed and sent by anaconda
// (PublicStreamFilter), through an http.Client of ours; the response body
// is read here, line by line, and decoded with twitterv1.Decode. anaconda's
// own stream machinery is kept away from the body on purpose:
//
//   - it decodes every line with anaconda.Tweet.UnmarshalJSON in its own
//     goroutine, and a status whose display_text_range does not fit its
//     full_text makes that method panic, which no recover of ours could
//     catch: one crafted post would kill the server. twitterv1.Decode
//     recovers from it and the line is skipped;
//   - it reads with a bufio.Scanner, which ends the stream at the first
//     line over 64 KiB; ours skips a line over 1 MiB and reads on;
//   - it turns a malformed line into a nil message, closes its channel on
//     401 and 403 without saying which, applies a backoff of its own that
//     is not Twitter's published one, and its Stop races with its reader
//     and hangs until the next line arrives.
//
// So the transport of our client (handover) performs the round trip bound
// to a context of ours, keeps the response, and answers anaconda with an
// error: anaconda's loop ends at once and closes its channel without ever
// touching the body, and Run owns the connection from there. Stopping is
// cancelling that context; there is no Stop to call and no race.
package twitter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ChimeraCoder/anaconda"

	"github.com/tweetwire/tweetwire/server/source/internal/linestream"
	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/twitterv1"
	"github.com/tweetwire/tweetwire/server/tweet"
)

const (
	// DefaultStreamURL is where the filter stream is served.
	DefaultStreamURL = "https://stream.twitter.com"
	// DefaultStallTimeout is how long a silent stream is trusted: Twitter
	// sent a keep-alive every 30 s and asked clients to reconnect after
	// 90 s without data or keep-alive.
	DefaultStallTimeout = 90 * time.Second
	// MaxTerms and MaxTermBytes are the limits Twitter set on track.
	MaxTerms     = 400
	MaxTermBytes = 60
)

// Config says what to follow and how to reach Twitter. Zero values mean
// the defaults.
type Config struct {
	// Track are the terms to follow: a post matches when it contains
	// every word of one of them (Twitter's track semantics).
	Track []string
	// The OAuth 1.0a user-context credentials of a Twitter app. They
	// only ever go into the request's signature: no log line, error or
	// state carries them.
	ConsumerKey, ConsumerSecret, AccessToken, AccessSecret string
	// StreamURL is the scheme, host and optional path prefix requests
	// go to; DefaultStreamURL when empty. A proxy or a test server can
	// stand in for Twitter. The OAuth signature always covers the real
	// endpoint's URL, which a forwarding proxy passes on.
	StreamURL string
	// StallTimeout is how long the stream may stay silent before it
	// counts as dropped; DefaultStallTimeout when zero.
	StallTimeout time.Duration
	// Backoff gives the waits between attempts; reconnect.NewTwitter()
	// when nil.
	Backoff reconnect.HTTPBackoff
	// Logger gets what happens to the stream; nil means slog.Default().
	Logger *slog.Logger
}

// credentialFields are the Config fields of the OAuth credentials.
var credentialFields = []string{"ConsumerKey", "ConsumerSecret", "AccessToken", "AccessSecret"}

// Source follows the filter stream. Run it once at a time; it holds no
// goroutine or connection outside Run.
type Source struct {
	cfg       Config
	api       *anaconda.TwitterApi
	target    *url.URL
	transport *http.Transport
	log       *slog.Logger
}

var _ tweet.Source = (*Source)(nil)

// New checks cfg, so that missing credentials or terms are reported when
// the server starts rather than by a source that fails once running. Its
// errors, and those of Run about a setting, are *tweet.FieldError about
// the Config fields at fault (several at once for the credentials, see
// tweet.FieldsError).
func New(cfg Config) (*Source, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	var missing []string
	for i, value := range []string{cfg.ConsumerKey, cfg.ConsumerSecret, cfg.AccessToken, cfg.AccessSecret} {
		if value == "" {
			missing = append(missing, credentialFields[i])
		}
	}
	if len(missing) > 0 {
		return nil, tweet.FieldsError(invalid("not set: Twitter needs all four OAuth 1.0a credentials of an app and user, from the app's Keys and tokens page"), missing...)
	}
	if err := checkTrack(cfg.Track); err != nil {
		return nil, err
	}
	if cfg.StreamURL == "" {
		cfg.StreamURL = DefaultStreamURL
	}
	target, err := linestream.BaseURL(cfg.StreamURL, "StreamURL", DefaultStreamURL, "the stream is authenticated with OAuth")
	if err != nil {
		return nil, err
	}
	if cfg.StallTimeout < 0 {
		return nil, invalidField("StallTimeout", "%v is negative: give a duration such as 90s", cfg.StallTimeout)
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.Backoff == nil {
		cfg.Backoff = reconnect.NewTwitter()
	}
	return &Source{
		cfg:    cfg,
		api:    newAPI(cfg),
		target: target,
		// A transport of our own, never http.DefaultClient's: no
		// overall timeout (a stream lasts for days) and idle
		// connections that Run can close.
		transport: http.DefaultTransport.(*http.Transport).Clone(),
		log:       log,
	}, nil
}

func checkTrack(track []string) error {
	if len(track) == 0 {
		return invalidField("Track", "needs the keywords, phrases or #hashtags to follow")
	}
	if len(track) > MaxTerms {
		return invalidField("Track", "has %d terms, more than the %d Twitter accepts: follow fewer", len(track), MaxTerms)
	}
	for _, term := range track {
		switch {
		case strings.TrimSpace(term) == "":
			return invalidField("Track", "has an empty term: remove it")
		case len(term) > MaxTermBytes:
			return invalidField("Track", "term %q is %d bytes long, more than the %d Twitter accepts: shorten it", term, len(term), MaxTermBytes)
		case strings.Contains(term, ","):
			return invalidField("Track", "term %q contains a comma, which separates terms: split it in two", term)
		}
	}
	return nil
}

// defaultClientMu serialises newAPI's save and restore of
// http.DefaultClient.Timeout between Sources built at the same time.
var defaultClientMu sync.Mutex

// newAPI builds anaconda's client. NewTwitterApi sets
// http.DefaultClient.Timeout to 20 s for the whole process, which would
// cut every stream read through the default client after 20 s and change
// every other user of it; the previous value is put back at once, and this
// package never uses the default client. (There is no other constructor:
// the OAuth client is unexported.) NewTwitterApi also starts a goroutine
// that serves anaconda's REST query queue, which streaming does not use:
// Close ends it at once, so a Source owns no goroutine outside Run.
func newAPI(cfg Config) *anaconda.TwitterApi {
	defaultClientMu.Lock()
	saved := http.DefaultClient.Timeout
	api := anaconda.NewTwitterApiWithCredentials(cfg.AccessToken, cfg.AccessSecret, cfg.ConsumerKey, cfg.ConsumerSecret)
	http.DefaultClient.Timeout = saved
	defaultClientMu.Unlock()
	api.Close()
	api.HttpClient = nil // each connection gets its own, in open
	return api
}

// Run streams until ctx is done (it returns nil) or Twitter refuses the
// credentials or the request (it returns the error, which says what to
// fix). It reconnects on its own after anything else, waiting as Twitter
// asked.
func (s *Source) Run(ctx context.Context, sink tweet.Sink) error {
	defer s.transport.CloseIdleConnections()
	s.log.Info("twitter: connecting to the v1.1 filter stream", "url", s.target.Redacted(), "track", strings.Join(s.cfg.Track, ","))
	err := reconnect.Run(ctx, func() reconnect.Drop { return s.connect(ctx, sink) }, func(d reconnect.Drop) time.Duration {
		wait := reconnect.AfterHTTP(s.cfg.Backoff, d)
		sink.SetState(tweet.StateReconnecting, d.Err)
		s.log.Warn("twitter: reconnecting", "in", wait.Round(time.Millisecond), "err", d.Err)
		return wait
	})
	if err != nil {
		sink.SetState(tweet.StateFailed, err)
	}
	return err
}

// connect makes one connection and reads it until it ends.
func (s *Source) connect(ctx context.Context, sink tweet.Sink) reconnect.Drop {
	return s.lineStream().Connect(ctx, sink, s.open, &messages{s: s})
}

// lineStream makes and reads the stream connections.
func (s *Source) lineStream() linestream.Stream {
	return linestream.Stream{
		Service:      "Twitter",
		URLField:     "StreamURL",
		StallTimeout: s.cfg.StallTimeout,
		Backoff:      s.cfg.Backoff,
		Refused:      s.refused,
		Log:          s.log,
	}
}

// open sends the filter request through anaconda and returns the
// response, whose body is ours to read (see the package comment).
func (s *Source) open(ctx context.Context) (*http.Response, error) {
	h := &handover{ctx: ctx, next: s.transport, target: s.target}
	api := *s.api // a copy per connection: nothing is shared with anaconda's goroutine
	api.HttpClient = &http.Client{Transport: h}
	st := api.PublicStreamFilter(url.Values{
		"track": {strings.Join(s.cfg.Track, ",")},
		// Ask for a warning before Twitter drops a client that reads too
		// slowly; it is logged.
		"stall_warnings": {"true"},
	})
	for range st.C {
		// Nothing comes, since anaconda never sees the body; the
		// channel's close says its goroutine has ended.
	}
	return h.result()
}

// handover is the transport of anaconda's client for one connection. It
// sends the signed request to the configured URL, bound to the
// connection's context (anaconda's own request has none, so it could not
// be cancelled), keeps the response for Run, and answers anaconda with
// errHandedOver, so that anaconda's stream loop ends without reading.
// http.Client wraps that error in a *url.Error, never a bare io.EOF,
// which anaconda's loop would mistake for a response.
type handover struct {
	ctx    context.Context
	next   http.RoundTripper
	target *url.URL

	used atomic.Bool
	// resp and err are written by anaconda's goroutine before it closes
	// the stream's channel, and read after that close.
	resp *http.Response
	err  error
}

var errHandedOver = errors.New("twitter: response handed over to the reader")

func (h *handover) RoundTrip(req *http.Request) (*http.Response, error) {
	if h.used.Swap(true) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("twitter: one request per connection")
	}
	out := req.Clone(h.ctx)
	u := *req.URL
	u.Scheme, u.Host, u.User = h.target.Scheme, h.target.Host, nil
	u.Path = h.target.Path + req.URL.Path
	u.RawPath = ""
	out.URL, out.Host = &u, ""
	h.resp, h.err = h.next.RoundTrip(out)
	if h.err != nil {
		op := req.Method[:1] + strings.ToLower(req.Method[1:])
		h.err = &url.Error{Op: op, URL: u.Redacted(), Err: h.err}
	}
	return nil, errHandedOver
}

func (h *handover) result() (*http.Response, error) {
	if !h.used.Load() {
		return nil, errors.New("anaconda did not send the filter request")
	}
	return h.resp, h.err
}

// refused turns an HTTP error status into a drop that says what to do.
func (s *Source) refused(resp *http.Response) reconnect.Drop {
	// Reading what is left lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	status := fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	switch code {
	case http.StatusUnauthorized:
		return reconnect.Drop{Fatal: true, Err: tweet.FieldsError(invalid("Twitter refused the credentials (%s): check all four, and the system clock, which OAuth signatures depend on", status), credentialFields...)}
	case http.StatusForbidden:
		return reconnect.Drop{Fatal: true, Err: invalid("Twitter refused the v1.1 filter stream (%s): Twitter retired that endpoint in 2023 and refuses every app, so use the x source (X API v2, paid access) or the bluesky source instead", status)}
	case http.StatusNotFound:
		return reconnect.Drop{Fatal: true, Err: invalidField("StreamURL", "%s has no statuses/filter.json (%s): check this URL", s.target.Redacted(), status)}
	case http.StatusBadRequest, http.StatusNotAcceptable, http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong, http.StatusRequestedRangeNotSatisfiable:
		return reconnect.Drop{Fatal: true, Err: invalidField("Track", "Twitter refused the filter parameters (%s): check the terms (at most %d terms of up to %d bytes)", status, MaxTerms, MaxTermBytes)}
	case 420, http.StatusTooManyRequests:
		return reconnect.Drop{Status: code, Err: unavailable("Twitter is rate limiting this app (%s), after too many connections in a short time: waiting before the next attempt", status)}
	default:
		return reconnect.Drop{Status: code, Err: unavailable("the Twitter stream answered %s: retrying", status)}
	}
}

// messages decodes the messages of one connection.
type messages struct {
	s      *Source
	notice string // the last disconnect notice, which explains the close after it
}

var _ linestream.Messages = (*messages)(nil)

func (m *messages) Decode(line []byte) (tweet.Update, bool, error) {
	ev, ok, err := twitterv1.Decode(line)
	if err != nil {
		m.s.log.Warn("twitter: skipping a malformed message", "err", err)
		return tweet.Update{}, false, nil
	}
	if !ok {
		if n := m.s.control(line); n != "" {
			m.notice = n
		}
		return tweet.Update{}, false, nil
	}
	return ev, true, nil
}

func (m *messages) Closed() error { return unavailable("Twitter closed the stream%s", m.notice) }

// control logs the control messages worth a line and returns a
// disconnect notice's reason. twitterv1.Decode passes over them all.
func (s *Source) control(line []byte) string {
	var m struct {
		Disconnect *struct {
			Code   int    `json:"code"`
			Reason string `json:"reason"`
		} `json:"disconnect"`
		Warning *struct {
			Code        string `json:"code"`
			Message     string `json:"message"`
			PercentFull int    `json:"percent_full"`
		} `json:"warning"`
		Limit *struct {
			Track int64 `json:"track"`
		} `json:"limit"`
	}
	if json.Unmarshal(line, &m) != nil {
		return ""
	}
	switch {
	case m.Disconnect != nil:
		s.log.Warn("twitter: Twitter is closing the stream", "code", m.Disconnect.Code, "reason", m.Disconnect.Reason)
		return fmt.Sprintf(" after disconnect notice %d (%s)", m.Disconnect.Code, m.Disconnect.Reason)
	case m.Warning != nil:
		s.log.Warn("twitter: Twitter warns about this stream", "code", m.Warning.Code, "message", m.Warning.Message, "percent_full", m.Warning.PercentFull)
	case m.Limit != nil:
		s.log.Info("twitter: Twitter held back posts over the stream's share", "undelivered_so_far", m.Limit.Track)
	}
	return ""
}

// invalid is a configuration or credential error: reconnecting cannot
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
