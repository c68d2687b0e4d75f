// Package linestream reads the streaming HTTP responses of Twitter's v1.1
// filter stream and X's v2 filtered stream, which share one protocol: a
// chunked body of "\r\n"-delimited JSON messages, with blank lines as
// keep-alives, that the service may close or go silent on at any time.
// What the messages mean is each source's own.
package linestream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tweetwire/tweetwire/server/source/internal/lines"
	"github.com/tweetwire/tweetwire/server/source/internal/reconnect"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// BaseURL parses raw, the value of the Config field named field: the base
// URL of a service, http or https, a host and an optional path prefix,
// which loses its trailing slash. It has no query or fragment, and no user
// name or password, since the service is authenticated otherwise, as auth
// says ("the stream is authenticated with OAuth"). example is a URL to
// give as a model. Errors are *tweet.FieldError about field.
func BaseURL(raw, field, example, auth string) (*url.URL, error) {
	u, err := url.Parse(raw)
	// The value is not repeated when it does not parse: it may hold a
	// proxy's password, which only URL.Redacted would hide.
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, tweet.FieldErrorf(field, tweet.EINVALID, "is not an http(s) base URL: give one like %s, without query or fragment", example)
	}
	if u.User != nil {
		return nil, tweet.FieldErrorf(field, tweet.EINVALID, "carries a user name or password: remove them, %s", auth)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// Messages is what a source makes of the messages of one connection.
type Messages interface {
	// Decode turns a message into an event for the sink (ok), or into
	// nothing (a control message, or one to skip), or ends the
	// connection with end, a reason to reconnect.
	Decode(line []byte) (ev tweet.Update, ok bool, end error)
	// Closed is the error for a stream the service closed.
	Closed() error
}

// Stream is one service's stream.
type Stream struct {
	// Service names the service in errors ("the X stream broke off")
	// and, in lower case, starts the log messages.
	Service string
	// URLField is the Config field that holds the service's URL, which
	// the error about a service that cannot be reached is about.
	URLField string
	// StallTimeout is how long the stream may stay silent, without even
	// a keep-alive, before it counts as dropped.
	StallTimeout time.Duration
	// Backoff is reset once a connection delivered data.
	Backoff reconnect.HTTPBackoff
	// Refused turns an answer other than 200 OK into a drop that says
	// what to do.
	Refused func(resp *http.Response) reconnect.Drop
	Log     *slog.Logger
}

// Connect makes one connection, with open sending the request bound to
// the context it is given, and reads it until it ends.
func (s Stream) Connect(ctx context.Context, sink tweet.Sink, open func(context.Context) (*http.Response, error), m Messages) reconnect.Drop {
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The watchdog runs from the start, so that a server that accepts
	// the connection and never answers counts as a stall too.
	wd := reconnect.NewWatchdog(s.StallTimeout, cancel)
	defer wd.Stop()
	resp, err := open(connCtx)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return reconnect.Drop{}
		case wd.Stalled():
			return reconnect.Drop{Err: s.Stalled()}
		}
		return reconnect.Drop{Err: tweet.FieldErrorf(s.URLField, tweet.EUNAVAILABLE, "cannot connect to the %s stream (%v): check the network and this URL", s.Service, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s.Refused(resp)
	}
	sink.SetState(tweet.StateRunning, nil)
	s.Log.Info(strings.ToLower(s.Service) + ": stream open")
	return s.Read(ctx, resp.Body, wd, sink, m)
}

// Stalled is the error for a stream that stayed silent too long.
func (s Stream) Stalled() error {
	return tweet.Errorf(tweet.EUNAVAILABLE, "the %s stream sent nothing, not even a keep-alive, for %v", s.Service, s.StallTimeout)
}

// Read reads the stream body, hands its messages to m and their
// events to sink, until the connection ends, and returns how it ended.
// wd watches the connection and cancels it when it stalls.
func (s Stream) Read(ctx context.Context, body io.Reader, wd *reconnect.Watchdog, sink tweet.Sink, m Messages) reconnect.Drop {
	name := strings.ToLower(s.Service)
	lr := lines.NewReader(wd.Reader(body), lines.MaxBytes)
	delivered := false
	for {
		line, tooLong, err := lr.Next()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return reconnect.Drop{}
		case wd.Stalled():
			return reconnect.Drop{Err: s.Stalled()}
		case errors.Is(err, io.EOF):
			return reconnect.Drop{Err: m.Closed()}
		default:
			return reconnect.Drop{Err: tweet.Errorf(tweet.EUNAVAILABLE, "the %s stream broke off (%v)", s.Service, err)}
		}
		if !delivered {
			s.Backoff.Reset()
			delivered = true
		}
		if tooLong {
			s.Log.Warn(name + ": skipping a message longer than 1 MiB")
			continue
		}
		if len(line) == 0 {
			continue // keep-alive
		}
		ev, ok, end := m.Decode(line)
		if end != nil {
			return reconnect.Drop{Err: end}
		}
		if !ok {
			continue
		}
		// The stream is not read while the sink applies back-pressure,
		// so the watchdog, which judges the server's silence, pauses.
		wd.Stop()
		err = sink.Emit(ctx, ev)
		wd.Kick()
		if err != nil {
			if ctx.Err() != nil {
				return reconnect.Drop{}
			}
			// tweet.Sink promises an error only once ctx is done.
			return reconnect.Drop{Fatal: true, Err: fmt.Errorf("%s: the sink refused %s: %w", name, ev.ID, err)}
		}
	}
}
