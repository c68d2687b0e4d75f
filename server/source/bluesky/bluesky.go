// Package bluesky is a tweet.Source that follows Bluesky through
// Jetstream, the JSON view of the AT Protocol firehose that Bluesky runs
// in public. It needs no account: it subscribes to every new post on the
// network, keeps those that match the tracked terms (Jetstream has no
// keyword filter), and fills in each author's handle, name and avatar from
// the public AppView.
package bluesky

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetwire/tweetwire/server/source/internal/match"
	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/source/internal/shown"
	"github.com/tweetwire/tweetwire/server/tweet"
)

const (
	// DefaultJetstreamURL is one of the Jetstream instances Bluesky runs.
	DefaultJetstreamURL = "wss://jetstream2.us-east.bsky.network"
	// DefaultAppViewURL is Bluesky's public, unauthenticated AppView.
	DefaultAppViewURL = "https://public.api.bsky.app"
	// DefaultStallTimeout is how long a connection may stay silent, not
	// even a ping, before it counts as dropped. Jetstream's post
	// collection alone carries dozens of messages a second.
	DefaultStallTimeout = 90 * time.Second
	// DefaultProfileWait is how long a post waits for its author's
	// profile before it goes out with the DID as the handle.
	DefaultProfileWait = 2 * time.Second
	// MaxMessageBytes is the largest message read. A post record is a
	// few KiB; a larger message is skipped, and the connection kept.
	MaxMessageBytes = 1 << 20
)

// DefaultBackoff is the wait between reconnections when Config.Backoff is
// zero: Bluesky publishes no rules, so exponential from 1 s to 2 min, ±20%.
var DefaultBackoff = reconnect.Backoff{Min: time.Second, Max: 2 * time.Minute, Jitter: 0.2}

// rewind is how far before the last message seen a reconnection resumes:
// Jetstream orders messages by time_us only roughly, and does not promise
// a gapless replay at the exact cursor. The posts seen twice are dropped
// here (and downstream).
const rewind = 5 * time.Second

// Config says where to connect and what to follow. Zero values mean the
// defaults above.
type Config struct {
	// JetstreamURL is the Jetstream instance, ws:// or wss://, with or
	// without its /subscribe path.
	JetstreamURL string
	// AppViewURL serves app.bsky.actor.getProfile.
	AppViewURL string
	// Track are the terms to follow; see package match. At least one is
	// needed: the network's whole post stream is no wall.
	Track        []string
	StallTimeout time.Duration
	// Backoff is copied; its attempt count starts at zero.
	Backoff     reconnect.Backoff
	ProfileWait time.Duration
	// Logger gets what happens to the stream; nil means slog.Default().
	Logger *slog.Logger
}

// Source follows Jetstream. Run it once at a time.
type Source struct {
	cfg       Config
	subscribe *url.URL
	match     *match.Matcher
	log       *slog.Logger
	client    *http.Client
	dialer    *websocket.Dialer
	profiles  *profiles

	// cursor is the newest time_us seen; atomic because Position reads it
	// from another goroutine. emitted belongs to the goroutine in Run.
	cursor  atomic.Int64
	emitted *shown.Set
}

var (
	_ tweet.Source    = (*Source)(nil)
	_ tweet.Resumable = (*Source)(nil)
)

// Position is the Jetstream cursor: the newest time_us seen.
func (s *Source) Position() string {
	if c := s.cursor.Load(); c > 0 {
		return strconv.FormatInt(c, 10)
	}
	return ""
}

// ResumeFrom starts the next connection at another copy's cursor (rewound
// a little, as after any drop). A position that is not a cursor is
// ignored: the stream then starts live.
func (s *Source) ResumeFrom(position string) {
	if c, err := strconv.ParseInt(position, 10, 64); err == nil && c > 0 {
		for {
			old := s.cursor.Load()
			if c <= old || s.cursor.CompareAndSwap(old, c) {
				return
			}
		}
	}
}

// New checks cfg, so that a mistake stops the server when it starts. Its
// errors, and those of Run about a setting, are *tweet.FieldError about
// the Config field at fault.
func New(cfg Config) (*Source, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.JetstreamURL == "" {
		cfg.JetstreamURL = DefaultJetstreamURL
	}
	if cfg.AppViewURL == "" {
		cfg.AppViewURL = DefaultAppViewURL
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.Backoff.Min <= 0 || cfg.Backoff.Max <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.ProfileWait <= 0 {
		cfg.ProfileWait = DefaultProfileWait
	}
	sub, err := subscribeURL(cfg.JetstreamURL)
	if err != nil {
		return nil, err
	}
	appview, err := url.Parse(cfg.AppViewURL)
	if err != nil || (appview.Scheme != "http" && appview.Scheme != "https") || appview.Host == "" || appview.RawQuery != "" {
		return nil, tweet.FieldErrorf("AppViewURL", tweet.EINVALID, "%q is not an http(s) URL: give one like %s", cfg.AppViewURL, DefaultAppViewURL)
	}
	m := match.New(cfg.Track)
	if m.Empty() {
		return nil, tweet.FieldErrorf("Track", tweet.EINVALID, "needs keywords or #hashtags: Jetstream sends every post on Bluesky, and the wall shows those with these terms")
	}
	s := &Source{
		cfg:       cfg,
		subscribe: sub,
		match:     m,
		log:       log,
		// A client of its own, whose idle connections Run closes.
		client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		dialer: &websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: 30 * time.Second,
		},
		emitted: shown.New(1 << 16),
	}
	s.profiles = newProfiles(s.client, strings.TrimSuffix(cfg.AppViewURL, "/"), log)
	return s, nil
}

// subscribeURL turns Config.JetstreamURL into the subscription URL
// without a cursor.
func subscribeURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err == nil {
		switch u.Scheme {
		case "http":
			u.Scheme = "ws"
		case "https":
			u.Scheme = "wss"
		}
	}
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, tweet.FieldErrorf("JetstreamURL", tweet.EINVALID, "%q is not a WebSocket URL: give one like %s", raw, DefaultJetstreamURL)
	}
	if !strings.HasSuffix(u.Path, "/subscribe") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/subscribe"
	}
	q := url.Values{}
	q.Set("wantedCollections", PostCollection)
	// Jetstream then drops what we would skip, sparing the bandwidth.
	q.Set("maxMessageSizeBytes", strconv.Itoa(MaxMessageBytes))
	u.RawQuery = q.Encode()
	return u, nil
}

// Run follows Jetstream until ctx is done or the service refuses the
// subscription for good. Drops and stalls are retried forever, resuming
// at the last message seen so that nothing posted meanwhile is missed.
func (s *Source) Run(ctx context.Context, sink tweet.Sink) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		s.client.CloseIdleConnections()
	}()
	wg.Go(func() { s.profiles.run(ctx) })
	queue := make(chan pending, 256)
	wg.Go(func() { s.emit(ctx, sink, queue) })

	backoff := s.cfg.Backoff
	err := reconnect.Run(ctx, func() reconnect.Drop { return s.session(ctx, sink, queue) }, func(d reconnect.Drop) time.Duration {
		wait := backoff.After(d)
		sink.SetState(tweet.StateReconnecting, d.Err)
		s.log.Warn("bluesky: reconnecting", "err", d.Err, "wait", wait.Round(time.Millisecond))
		return wait
	})
	if err != nil {
		sink.SetState(tweet.StateFailed, err)
	}
	return err
}

// session runs one connection until it drops. It is healthy once it
// delivered a message, which resets the backoff.
func (s *Source) session(ctx context.Context, sink tweet.Sink, queue chan<- pending) reconnect.Drop {
	u := *s.subscribe
	if cursor := s.cursor.Load(); cursor > 0 {
		q := u.Query()
		q.Set("cursor", strconv.FormatInt(max(cursor-rewind.Microseconds(), 1), 10))
		u.RawQuery = q.Encode()
	}
	conn, resp, err := s.dialer.DialContext(ctx, u.String(), http.Header{"User-Agent": {"tweetwire"}})
	if err != nil {
		return s.dialError(resp, err)
	}
	defer conn.Close()
	sink.SetState(tweet.StateRunning, nil)
	s.log.Info("bluesky: connected to Jetstream", "host", s.subscribe.Host, "cursor", s.cursor.Load())

	// Closing the connection is what unblocks a read: on a stall, and
	// when ctx ends.
	wd := reconnect.NewWatchdog(s.cfg.StallTimeout, func() { conn.Close() })
	defer wd.Stop()
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	conn.SetPingHandler(func(data string) error {
		wd.Kick()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) {
			return nil // as gorilla's default handler: the read reports it
		}
		return err
	})
	var buf bytes.Buffer
	healthy := false
	for {
		typ, r, err := conn.NextReader()
		if err == nil {
			wd.Kick()
			err = readMessage(wd.Reader(r), &buf)
		}
		switch {
		case ctx.Err() != nil:
			return reconnect.Drop{Healthy: healthy}
		case wd.Stalled():
			//lint:ignore ST1005 Jetstream is a name, and the sentence starts with it.
			return reconnect.Drop{Healthy: healthy, Err: fmt.Errorf("Jetstream sent nothing for %v", s.cfg.StallTimeout)}
		case errors.Is(err, errTooLarge):
			s.log.Warn("bluesky: skipping a message larger than 1 MiB")
			continue
		case err != nil:
			return reconnect.Drop{Healthy: healthy, Err: fmt.Errorf("the connection to Jetstream dropped: %w", err)}
		}
		healthy = true
		if typ != websocket.TextMessage {
			s.log.Warn("bluesky: skipping a binary message (compression is not asked for)")
			continue
		}
		if !s.handle(ctx, buf.Bytes(), queue) {
			return reconnect.Drop{Healthy: healthy}
		}
	}
}

// dialError classifies a failed handshake. Jetstream needs no credentials
// and takes no other path, so a refusal (401, 403) or any other 4xx means
// Config.JetstreamURL points at something that is not Jetstream, or
// through a proxy that will not let us in: that is configuration, and
// retrying cannot fix it. A network error, a timeout, 429 and 5xx are
// retried: the service or the network may come back.
func (s *Source) dialError(resp *http.Response, err error) reconnect.Drop {
	where := s.subscribe.Scheme + "://" + s.subscribe.Host
	if resp == nil {
		return reconnect.Drop{Err: fmt.Errorf("cannot connect to Jetstream at %s: %w", where, err)}
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return reconnect.Drop{Fatal: true, Err: tweet.FieldErrorf("JetstreamURL", tweet.EINVALID, "Jetstream at %s refused the connection (%s), though Jetstream needs no credentials: check this URL and any proxy in between", where, resp.Status)}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		//lint:ignore ST1005 Jetstream is a name, and the sentence starts with it.
		return reconnect.Drop{Err: fmt.Errorf("Jetstream at %s answered %s", where, resp.Status)}
	default:
		return reconnect.Drop{Fatal: true, Err: tweet.FieldErrorf("JetstreamURL", tweet.EINVALID, "%s answered %s instead of a Jetstream subscription: check this URL (it looks like %s)", where, resp.Status, DefaultJetstreamURL)}
	}
}

var errTooLarge = errors.New("message larger than MaxMessageBytes")

// readMessage reads the whole message from r into buf. A message past
// MaxMessageBytes is read to its end and thrown away, so that the
// connection stays usable, and errTooLarge returned.
func readMessage(r io.Reader, buf *bytes.Buffer) error {
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(r, MaxMessageBytes+1)); err != nil {
		return err
	}
	if buf.Len() <= MaxMessageBytes {
		return nil
	}
	buf.Reset()
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return errTooLarge
}

// pending is an event on its way to the sink, waiting for its author's
// profile (when lookup is set) until deadline.
type pending struct {
	ev       tweet.Update
	lookup   *lookup
	deadline time.Time
}

// handle decodes one message and queues what the wall should show. It
// reports false when ctx ended while the queue was full.
func (s *Source) handle(ctx context.Context, msg []byte, queue chan<- pending) bool {
	m, err := Decode(msg)
	if err != nil {
		s.log.Warn("bluesky: skipping a malformed message", "err", err)
		return true
	}
	if m.TimeUS > s.cursor.Load() {
		s.cursor.Store(m.TimeUS) // only this goroutine raises it while Run runs
	}
	var p pending
	switch {
	case m.Identity:
		s.profiles.forget(m.DID)
		return true
	case m.Event.Kind == tweet.KindPost:
		t := m.Event.Tweet
		if !s.match.Match(t.Text, t.Hashtags) || !s.emitted.Add(t.ID) {
			return true // not about the event, or replayed after a rewind
		}
		p = pending{ev: m.Event, lookup: s.profiles.get(m.DID), deadline: time.Now().Add(s.cfg.ProfileWait)}
	case m.Event.Kind == tweet.KindDelete:
		// Jetstream sends every deletion on the network; only those of
		// posts shown here mean anything to the wall.
		if !s.emitted.Remove(m.Event.ID, false) {
			return true
		}
		p = pending{ev: m.Event}
	default:
		return true
	}
	// A full queue (a sink applying back-pressure) stops the reads; if
	// that lasts past the stall timeout the watchdog drops the
	// connection, and the cursor brings back what was not read.
	select {
	case queue <- p:
		return true
	case <-ctx.Done():
		return false
	}
}

// emit hands queued events to the sink in the order they arrived, each
// post once its author's profile is known or its wait is over. Waits
// overlap: a post that came while an earlier one waited has waited too.
func (s *Source) emit(ctx context.Context, sink tweet.Sink, queue <-chan pending) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var p pending
		select {
		case <-ctx.Done():
			return
		case p = <-queue:
		}
		if p.lookup != nil {
			timer.Reset(time.Until(p.deadline))
			select {
			case <-ctx.Done():
				return
			case <-p.lookup.done:
			case <-timer.C:
			}
		}
		if p.ev.Kind == tweet.KindPost {
			fillAuthor(&p.ev.Tweet, p.lookup)
		}
		if err := sink.Emit(ctx, p.ev); err != nil {
			return // only once ctx is done
		}
	}
}

// fillAuthor sets the author fields from a resolved profile. Without one
// the DID stays as the handle: it is what the permalink uses too, and the
// page shows the handle when there is no name.
func fillAuthor(t *tweet.Tweet, l *lookup) {
	if l == nil {
		return
	}
	select {
	case <-l.done:
	default:
		return
	}
	if !l.ok {
		return
	}
	if l.profile.Handle != "" {
		t.User = l.profile.Handle
	}
	t.Name = strings.TrimSpace(l.profile.DisplayName)
	if t.Name == "" {
		t.Name = t.User
	}
	t.Picture = l.profile.Avatar
}
