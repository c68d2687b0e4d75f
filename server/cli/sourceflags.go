package cli

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// sourceFlags declares one source kind's flags on the shared flag set and
// remembers which Config field each one sets. The source packages report
// mistakes as *tweet.FieldError with the Go name of the field and no flag
// or environment variable, since they are libraries; this is where the
// field gets the name the user knows: --x-bearer-token (env
// X_BEARER_TOKEN). A kind declares field, flag and environment variable in
// one statement, so there is no second table to keep in step.
type sourceFlags struct {
	kind   string
	fs     *flagSet
	fields map[string]string // Config field -> flag name
}

// trackField is the Config field every source has for --track.
const trackField = "Track"

func newSourceFlags(fs *flagSet, kind string) *sourceFlags {
	return &sourceFlags{kind: kind, fs: fs, fields: map[string]string{trackField: "track"}}
}

// declared is a flag just declared, to which env gives the environment
// variable users know from the service's own tools, where there is one.
type declared struct {
	fs   *flagSet
	flag string
}

// env declares the environment variable behind the flag, instead of
// TWEETWIRE_<FLAG>.
func (d declared) env(variable string) { d.fs.env(d.flag, variable) }

func (sf *sourceFlags) declare(field, flag string) declared {
	sf.fields[field] = flag
	return declared{fs: sf.fs, flag: flag}
}

// StringVar declares the flag that sets the Config field named field.
func (sf *sourceFlags) StringVar(p *string, field, flag, value, usage string) declared {
	sf.fs.StringVar(p, flag, value, usage)
	return sf.declare(field, flag)
}

// Float64Var declares the flag that sets the Config field named field.
func (sf *sourceFlags) Float64Var(p *float64, field, flag string, value float64, usage string) declared {
	sf.fs.Float64Var(p, flag, value, usage)
	return sf.declare(field, flag)
}

// BoolVar declares the flag that sets the Config field named field.
func (sf *sourceFlags) BoolVar(p *bool, field, flag string, value bool, usage string) declared {
	sf.fs.BoolVar(p, flag, value, usage)
	return sf.declare(field, flag)
}

// DurationVar declares the flag that sets the Config field named field.
func (sf *sourceFlags) DurationVar(p *time.Duration, field, flag string, value time.Duration, usage string) declared {
	sf.fs.DurationVar(p, flag, value, usage)
	return sf.declare(field, flag)
}

// flagName is how the user sets a Config field: "--x-bearer-token (env
// X_BEARER_TOKEN)". ok is false for a field no flag sets.
func (sf *sourceFlags) flagName(field string) (name string, ok bool) {
	flag, ok := sf.fields[field]
	if !ok {
		return "", false
	}
	return "--" + flag + " (env " + sf.fs.envName(flag) + ")", true
}

// build wraps b: the source it builds reports its field errors, while
// running too and in its own log lines, with the flags' names, and so do
// its errors when it cannot be built, which start with the source's name
// ("--source x: ...").
func (sf *sourceFlags) build(b buildSource) buildSource {
	return func(common sourceCommon) (tweet.Source, error) {
		if common.Logger != nil {
			common.Logger = slog.New(namingHandler{Handler: common.Logger.Handler(), name: sf.name})
		}
		src, err := b(common)
		if err != nil {
			return nil, &namedError{
				named: &tweet.Error{Code: tweet.ErrorCode(err), Message: "--source " + sf.kind + ": " + sf.name(err).Error()},
				err:   err,
			}
		}
		return newNamedSource(src, sf.name), nil
	}
}

// name returns err with the flags that set the fields it is about in
// place of the fields' Go names, or err itself when it is about no field
// (nil stays nil). A field that no flag sets keeps its Go name; a test
// makes sure none of the fields the sources report is one.
func (sf *sourceFlags) name(err error) error {
	if err == nil {
		return nil
	}
	fields, msg := fieldsOf(err)
	if fields == nil {
		var fe *tweet.FieldError
		if !errors.As(err, &fe) {
			return err
		}
		// Wrapped in more words: name the field where it stands.
		fields, msg = []string{fe.Field}, ""
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		if n, ok := sf.flagName(f); ok {
			names[i] = n
		} else {
			names[i] = f
		}
	}
	text := strings.Join(names, ", ") + ": " + msg
	if msg == "" {
		text = strings.Replace(err.Error(), fields[0]+": ", names[0]+": ", 1)
	}
	return &namedError{named: &tweet.Error{Code: tweet.ErrorCode(err), Message: text}, err: err}
}

// fieldsOf returns the fields err is about and what it says of them, when
// err is a *tweet.FieldError or several that share their Err (as
// tweet.FieldsError makes), and nil otherwise.
func fieldsOf(err error) ([]string, string) {
	if fe, ok := err.(*tweet.FieldError); ok {
		return []string{fe.Field}, fe.Err.Error()
	}
	multi, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return nil, ""
	}
	var fields []string
	var shared error
	for _, e := range multi.Unwrap() {
		fe, ok := e.(*tweet.FieldError)
		if !ok || (shared != nil && fe.Err != shared) {
			return nil, ""
		}
		shared = fe.Err
		fields = append(fields, fe.Field)
	}
	if shared == nil {
		return nil, ""
	}
	return fields, shared.Error()
}

// namedError is a source's error as the user reads it, with flag names.
// It unwraps to a *tweet.Error with that message and the same code, so
// that tweet.ErrorMessage says it too, and to the source's own error, for
// errors.As and errors.Is.
type namedError struct {
	named *tweet.Error
	err   error
}

func (e *namedError) Error() string   { return e.named.Message }
func (e *namedError) Unwrap() []error { return []error{e.named, e.err} }

// namedSource runs a source so that the errors it reports, through the
// sink's SetState (for /healthz) and as Run's result (for the log), name
// flags, not Config fields. A wrapper, rather than each source taking a
// naming function, keeps the source packages free of the command line.
type namedSource struct {
	src  tweet.Source
	name func(error) error
}

// namedResumable is a namedSource whose source is a tweet.Resumable: the
// cluster type-asserts the source it runs, so the wrapper must keep what
// the inner source offers.
type namedResumable struct {
	*namedSource
	tweet.Resumable
}

var (
	_ tweet.Source    = (*namedSource)(nil)
	_ tweet.Resumable = namedResumable{}
)

func newNamedSource(src tweet.Source, name func(error) error) tweet.Source {
	ns := &namedSource{src: src, name: name}
	if r, ok := src.(tweet.Resumable); ok {
		return namedResumable{namedSource: ns, Resumable: r}
	}
	return ns
}

func (s *namedSource) Run(ctx context.Context, sink tweet.Sink) error {
	return s.name(s.src.Run(ctx, namedSink{Sink: sink, name: s.name}))
}

// namedSink passes states on with their errors named.
type namedSink struct {
	tweet.Sink
	name func(error) error
}

func (k namedSink) SetState(s tweet.State, err error) { k.Sink.SetState(s, k.name(err)) }

// namingHandler names the field errors in the attributes of the source's
// own log lines ("x: reconnecting" err=...), as namedSource does for the
// errors it reports, so that the log reads the same as /healthz.
type namingHandler struct {
	slog.Handler
	name func(error) error
}

func (h namingHandler) Handle(ctx context.Context, r slog.Record) error {
	named := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		named.AddAttrs(h.attr(a))
		return true
	})
	return h.Handler.Handle(ctx, named)
}

func (h namingHandler) attr(a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.Any(a.Key, h.name(err))
		}
	case slog.KindGroup:
		attrs := a.Value.Group()
		named := make([]any, len(attrs))
		for i, g := range attrs {
			named[i] = h.attr(g)
		}
		return slog.Group(a.Key, named...)
	}
	return a
}

func (h namingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	named := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		named[i] = h.attr(a)
	}
	return namingHandler{Handler: h.Handler.WithAttrs(named), name: h.name}
}

func (h namingHandler) WithGroup(name string) slog.Handler {
	return namingHandler{Handler: h.Handler.WithGroup(name), name: h.name}
}
