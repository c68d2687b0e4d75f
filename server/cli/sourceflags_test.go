package cli

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tweetwire/tweetwire/server/tweet"
)

// The sources report mistakes about a Config field by its Go name; the
// user reads the flag that sets it, and the environment variable.
func TestSourceErrorsNameTheFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		field string // the Config field the library reported
		want  string // the sentence the user reads
	}{
		{"x without token", []string{"--source", "x", "--track", "go"}, nil, "BearerToken",
			"--source x: --x-bearer-token (env X_BEARER_TOKEN): needs the bearer token of an X app: the Bearer Token on the app's Keys and tokens page"},
		{"x without track", []string{"--source", "x"}, map[string]string{"X_BEARER_TOKEN": "t"}, "Track",
			"--source x: --track (env TWEETWIRE_TRACK): needs the keywords, phrases or #hashtags to follow"},
		{"x API URL", []string{"--source", "x", "--track", "go", "--x-api-url", "api.x.com"}, map[string]string{"X_BEARER_TOKEN": "t"}, "APIURL",
			"--x-api-url (env TWEETWIRE_X_API_URL): is not an http(s) base URL"},
		{"x stall timeout", []string{"--source", "x", "--track", "go", "--x-stall-timeout", "-1s"}, map[string]string{"X_BEARER_TOKEN": "t"}, "StallTimeout",
			"--x-stall-timeout (env TWEETWIRE_X_STALL_TIMEOUT): -1s is negative"},
		{"twitter without credentials", []string{"--source", "twitter", "--track", "go"}, map[string]string{"TWITTER_ACCESS_TOKEN": "a"}, "ConsumerKey",
			"--source twitter: --twitter-consumer-key (env TWITTER_CONSUMER_KEY), --twitter-consumer-secret (env TWITTER_CONSUMER_SECRET), --twitter-access-secret (env TWITTER_ACCESS_SECRET): not set: Twitter needs all four"},
		{"twitter stream URL", []string{"--source", "twitter", "--track", "go", "--twitter-stream-url", "https://u:p@proxy.example"}, twitterCredentials, "StreamURL",
			"--twitter-stream-url (env TWEETWIRE_TWITTER_STREAM_URL): carries a user name or password"},
		{"bluesky without track", []string{"--source", "bluesky"}, nil, "Track",
			"--source bluesky: --track (env TWEETWIRE_TRACK): needs keywords or #hashtags"},
		{"bluesky Jetstream URL", []string{"--source", "bluesky", "--track", "go", "--bluesky-jetstream-url", "ftp://x"}, nil, "JetstreamURL",
			`--bluesky-jetstream-url (env TWEETWIRE_BLUESKY_JETSTREAM_URL): "ftp://x" is not a WebSocket URL`},
		{"bluesky AppView URL", []string{"--source", "bluesky", "--track", "go", "--bluesky-appview-url", "ftp://x"}, nil, "AppViewURL",
			`--bluesky-appview-url (env TWEETWIRE_BLUESKY_APPVIEW_URL): "ftp://x" is not an http(s) URL`},
		{"mastodon without track", []string{"--source", "mastodon"}, nil, "Track",
			"--source mastodon: --track (env TWEETWIRE_TRACK): needs #hashtags to follow, or keywords"},
		{"mastodon URL", []string{"--source", "mastodon", "--track", "#go", "--mastodon-url", "mastodon.social"}, nil, "URL",
			`--mastodon-url (env TWEETWIRE_MASTODON_URL): "mastodon.social" is not the URL of a server`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAndBuild(tt.args, func(k string) string { return tt.env[k] })
			checkNamed(t, err, tt.field, tt.want)
		})
	}
}

var twitterCredentials = map[string]string{"TWITTER_CONSUMER_KEY": "a", "TWITTER_CONSUMER_SECRET": "b", "TWITTER_ACCESS_TOKEN": "c", "TWITTER_ACCESS_SECRET": "d"}

// checkNamed fails the test unless err reads want on one line, keeps the
// library's code and *tweet.FieldError about field, and says the same
// through tweet.ErrorMessage.
func checkNamed(t *testing.T, err error, field, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one containing %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
	if tweet.ErrorCode(err) != tweet.EINVALID || tweet.ErrorMessage(err) != err.Error() {
		t.Errorf("code %q, message %q: want invalid, and the named sentence", tweet.ErrorCode(err), tweet.ErrorMessage(err))
	}
	var fe *tweet.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Errorf("errors.As found %+v, want the library's error about %s", fe, field)
	}
}

// Values as users type them (accents, emoji, other scripts) reach the
// sentence intact, and a secret never does.
func TestSourceErrorsWithRealWorldValues(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		field  string
		want   string
		secret string
	}{
		{"hashtag with an accent and an emoji", []string{"--source", "mastodon", "--track", "#café-🎉, golang"}, nil, "Track",
			`--track (env TWEETWIRE_TRACK): "#café-🎉" is not a Mastodon hashtag, which holds only letters, digits and _`, ""},
		{"token with an emoji and a line break", []string{"--source", "mastodon", "--track", "#東京"}, map[string]string{"MASTODON_TOKEN": "jéton✨secret\n"}, "Token",
			"--mastodon-token (env MASTODON_TOKEN): the Mastodon access token contains white space or control characters: give the token alone", "jéton✨secret"},
		{"term too long in bytes though short in letters", []string{"--source", "twitter", "--track", strings.Repeat("ü", 31)}, twitterCredentials, "Track",
			"--track (env TWEETWIRE_TRACK): term \"" + strings.Repeat("ü", 31) + "\" is 62 bytes long, more than the 60 Twitter accepts", ""},
		{"replay file named in Greek", []string{"--source", "replay", "--replay-file", "αρχείο 🐦.jsonl"}, nil, "Path",
			`--replay-file (env TWEETWIRE_REPLAY_FILE): replay file "αρχείο 🐦.jsonl" does not exist`, ""},
		{"bearer token of white space", []string{"--source", "x", "--track", "Zürich"}, map[string]string{"X_BEARER_TOKEN": " \u00a0 "}, "BearerToken",
			"--x-bearer-token (env X_BEARER_TOKEN): needs the bearer token", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAndBuild(tt.args, func(k string) string { return tt.env[k] })
			checkNamed(t, err, tt.field, tt.want)
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}

// fakeSource reports a field error through the sink and from Run.
type fakeSource struct{ err error }

func (f fakeSource) Run(_ context.Context, sink tweet.Sink) error {
	sink.SetState(tweet.StateReconnecting, f.err)
	sink.SetState(tweet.StateRunning, nil)
	return f.err
}

type fakeResumable struct {
	fakeSource
	pos string
}

func (f *fakeResumable) Position() string      { return f.pos }
func (f *fakeResumable) ResumeFrom(pos string) { f.pos = pos }

// recordingSink keeps the states and their errors.
type recordingSink struct {
	mu     sync.Mutex
	states []tweet.State
	errs   []error
}

func (s *recordingSink) Emit(context.Context, tweet.Update) error { return nil }
func (s *recordingSink) SetState(st tweet.State, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = append(s.states, st)
	s.errs = append(s.errs, err)
}

func (s *recordingSink) last() (tweet.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.errs) - 1; i >= 0; i-- {
		if s.errs[i] != nil {
			return s.states[i], s.errs[i]
		}
	}
	return "", nil
}

// Errors at run time, through SetState (/healthz) and out of Run (the
// log), name the flags too, and the wrapper keeps tweet.Resumable.
func TestNamedSourceAtRunTime(t *testing.T) {
	sf := newSourceFlags(newFlagSet("test"), "x")
	xFlags(sf)
	refused := tweet.FieldErrorf("BearerToken", tweet.EINVALID, "X refused the bearer token (HTTP 401): check it, «%s»", "ünïcode ✓")
	want := "--x-bearer-token (env X_BEARER_TOKEN): X refused the bearer token (HTTP 401): check it, «ünïcode ✓»"

	plain := newNamedSource(fakeSource{err: refused}, sf.name)
	if _, ok := plain.(tweet.Resumable); ok {
		t.Error("a source that cannot resume is made Resumable")
	}
	sink := &recordingSink{}
	err := plain.Run(context.Background(), sink)
	checkNamed(t, err, "BearerToken", want)
	st, stateErr := sink.last()
	if st != tweet.StateReconnecting {
		t.Errorf("state %s, want reconnecting", st)
	}
	checkNamed(t, stateErr, "BearerToken", want)
	if sink.errs[1] != nil {
		t.Errorf("a nil error became %v", sink.errs[1])
	}

	inner := &fakeResumable{fakeSource: fakeSource{err: errors.New("not about a field")}}
	res, ok := newNamedSource(inner, sf.name).(tweet.Resumable)
	if !ok {
		t.Fatal("the wrapper of a Resumable source is not Resumable: the cluster could not hand it over")
	}
	res.ResumeFrom("42")
	if res.Position() != "42" {
		t.Errorf("position %q, want the inner source's", res.Position())
	}
	if err := res.(tweet.Source).Run(context.Background(), &recordingSink{}); err == nil || err.Error() != "not about a field" {
		t.Errorf("an error about no field became %v", err)
	}
}

// A real source, refused at run time: Run's error and the failed state
// name the flag.
func TestRealSourceRefusedAtRunTime(t *testing.T) {
	jetstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer jetstream.Close()
	cfg, err := parseAndBuild([]string{"--source", "bluesky", "--track", "#göconf", "--bluesky-jetstream-url", strings.Replace(jetstream.URL, "http", "ws", 1)}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Source.(tweet.Resumable); !ok {
		t.Error("the bluesky source lost tweet.Resumable in the wrapper")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sink := &recordingSink{}
	err = cfg.Source.Run(ctx, sink)
	want := "--bluesky-jetstream-url (env TWEETWIRE_BLUESKY_JETSTREAM_URL): Jetstream at ws://127.0.0.1"
	checkNamed(t, err, "JetstreamURL", want)
	if !strings.Contains(err.Error(), "403 Forbidden") || !strings.Contains(err.Error(), "check this URL") {
		t.Errorf("err = %v, want the status and what to check", err)
	}
	st, stateErr := sink.last()
	if st != tweet.StateFailed {
		t.Errorf("state %s, want failed", st)
	}
	checkNamed(t, stateErr, "JetstreamURL", want)
}

// Every Config field a source reports in a *tweet.FieldError is set by a
// flag of that source, so that no error reaches the user with a Go name.
// The fields are read from the sources' code: the literal given to
// tweet.FieldErrorf, tweet.FieldsError, tweet.FieldError{Field: ...} or
// linestream.Stream{URLField: ...}, or to a helper that passes its
// parameter on to one of those (followed across packages), or a
// package-level []string of them.
func TestEveryReportedFieldHasAFlag(t *testing.T) {
	root := filepath.Join("..", "source")
	pkgs := map[string]*goPackage{} // by directory under server/source
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		dir := filepath.ToSlash(rel)
		if pkgs[dir] == nil {
			pkgs[dir] = &goPackage{Name: f.Name.Name}
		}
		pkgs[dir].Files = append(pkgs[dir].Files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fields := reportedFields(t, fset, pkgs)
	for _, k := range sourceKinds {
		sf := newSourceFlags(newFlagSet("test"), k.name)
		k.flags(sf)
		// A kind's package reports its fields, and the internal packages
		// it imports may report fields of their own.
		var reported []string
		for dir, fs := range fields {
			if dir == k.name || (strings.HasPrefix(dir, "internal/") && imports(pkgs[k.name], dir)) {
				reported = append(reported, fs...)
			}
		}
		sort.Strings(reported)
		t.Logf("--source %s reports errors about %v", k.name, reported)
		for _, f := range reported {
			if _, ok := sf.flagName(f); !ok {
				t.Errorf("--source %s reports errors about Config.%s, which no flag sets: declare the flag with its field in %sFlags", k.name, f, k.name)
			}
		}
		if k.name != "demo" && len(reported) < 2 {
			t.Errorf("--source %s: only %v found; the scan misses the source's field errors", k.name, reported)
		}
	}
}

// goPackage is the files of one package.
type goPackage struct {
	Name  string
	Files []*ast.File
}

// funcRef names a function or type: pkg.Name.
type funcRef struct{ pkg, name string }

// imports reports whether p imports the package in dir under server/source.
func imports(p *goPackage, dir string) bool {
	for _, f := range p.Files {
		for _, imp := range f.Imports {
			if strings.HasSuffix(strings.Trim(imp.Path.Value, `"`), "/source/"+dir) {
				return true
			}
		}
	}
	return false
}

// reportedFields returns the Config fields each package reports errors
// about, by directory.
func reportedFields(t *testing.T, fset *token.FileSet, pkgs map[string]*goPackage) map[string][]string {
	// helpers maps "pkg.Func" (or "Func" within pkg) to the index of the
	// parameter that names a field; it grows until nothing new is found.
	helpers := map[funcRef][]int{
		{"tweet", "FieldErrorf"}: {0},
		{"tweet", "FieldsError"}: {-1}, // every argument after the first
	}
	found := map[string]map[string]bool{}
	add := func(dir, field string) {
		if found[dir] == nil {
			found[dir] = map[string]bool{}
		}
		found[dir][field] = true
	}
	for changed := true; changed; {
		changed = false
		for dir, p := range pkgs {
			name := p.Name
			stringLists := packageStringLists(p)
			for _, f := range p.Files {
				for _, decl := range f.Decls {
					fn, ok := decl.(*ast.FuncDecl)
					if !ok || fn.Body == nil {
						continue
					}
					params := paramIndex(fn)
					// fieldExpr records what e says the field is.
					fieldExpr := func(e ast.Expr) {
						switch v := e.(type) {
						case *ast.BasicLit:
							s, _ := strconv.Unquote(v.Value)
							add(dir, s)
						case *ast.Ident:
							if i, ok := params[v.Name]; ok {
								key := funcRef{name, fn.Name.Name}
								if !containsInt(helpers[key], i) {
									helpers[key] = append(helpers[key], i)
									changed = true
								}
								return
							}
							if list, ok := stringLists[v.Name]; ok {
								for _, s := range list {
									add(dir, s)
								}
								return
							}
							// A local list, such as the fields left empty:
							// it is made of the package's lists in fn.
							n := 0
							ast.Inspect(fn.Body, func(node ast.Node) bool {
								if id, ok := node.(*ast.Ident); ok {
									for _, s := range stringLists[id.Name] {
										add(dir, s)
										n++
									}
								}
								return true
							})
							if n == 0 {
								t.Errorf("%s: cannot tell which fields %s holds: build it from a package-level list of literals", fset.Position(e.Pos()), v.Name)
							}
						case *ast.SelectorExpr:
							// s.URLField: its values are found where the
							// struct is filled in.
							if v.Sel.Name != "URLField" && v.Sel.Name != "Field" {
								t.Errorf("%s: cannot tell which field this error is about: use a literal", fset.Position(e.Pos()))
							}
						default:
							t.Errorf("%s: cannot tell which field this error is about: use a literal", fset.Position(e.Pos()))
						}
					}
					ast.Inspect(fn.Body, func(n ast.Node) bool {
						switch v := n.(type) {
						case *ast.CallExpr:
							key, ok := callee(v.Fun, name)
							if !ok {
								return true
							}
							for _, i := range helpers[key] {
								switch {
								case i == -1:
									for _, a := range v.Args[1:] {
										fieldExpr(a)
									}
								case i < len(v.Args):
									fieldExpr(v.Args[i])
								}
							}
						case *ast.CompositeLit:
							typ, ok := callee(v.Type, name)
							if !ok || !(typ == funcRef{"tweet", "FieldError"} || typ == funcRef{"linestream", "Stream"}) {
								return true
							}
							for _, elt := range v.Elts {
								kv, ok := elt.(*ast.KeyValueExpr)
								if !ok {
									continue
								}
								if key, _ := kv.Key.(*ast.Ident); key != nil && (key.Name == "Field" || key.Name == "URLField") {
									fieldExpr(kv.Value)
								}
							}
						}
						return true
					})
				}
			}
		}
	}
	out := map[string][]string{}
	for dir, set := range found {
		for f := range set {
			out[dir] = append(out[dir], f)
		}
	}
	return out
}

// callee names what e refers to: "pkg.Name", or "Name" in package pkg.
func callee(e ast.Expr, pkg string) (funcRef, bool) {
	switch v := e.(type) {
	case *ast.Ident:
		return funcRef{pkg, v.Name}, true
	case *ast.SelectorExpr:
		if x, ok := v.X.(*ast.Ident); ok {
			return funcRef{x.Name, v.Sel.Name}, true
		}
	}
	return funcRef{}, false
}

// paramIndex maps fn's parameter names to their positions.
func paramIndex(fn *ast.FuncDecl) map[string]int {
	m := map[string]int{}
	i := 0
	for _, field := range fn.Type.Params.List {
		if len(field.Names) == 0 {
			i++
		}
		for _, n := range field.Names {
			m[n.Name] = i
			i++
		}
	}
	return m
}

// packageStringLists returns p's package-level variables that are lists
// of string literals.
func packageStringLists(p *goPackage) map[string][]string {
	lists := map[string][]string{}
	for _, f := range p.Files {
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.VAR {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, v := range vs.Values {
					lit, ok := v.(*ast.CompositeLit)
					if !ok || i >= len(vs.Names) {
						continue
					}
					var list []string
					for _, elt := range lit.Elts {
						if b, ok := elt.(*ast.BasicLit); ok && b.Kind == token.STRING {
							s, _ := strconv.Unquote(b.Value)
							list = append(list, s)
						}
					}
					if len(list) == len(lit.Elts) && len(list) > 0 {
						lists[vs.Names[i].Name] = list
					}
				}
			}
		}
	}
	return lists
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// loggingSource logs a field error as the sources do when they reconnect.
type loggingSource struct {
	log *slog.Logger
	err error
}

func (s loggingSource) Run(context.Context, tweet.Sink) error {
	s.log.With("attempt", 1).Warn("x: reconnecting", "in", time.Second, "err", s.err, slog.Group("last", "err", s.err))
	return nil
}

// The source's own log lines name the flags too, so that the log reads
// as /healthz does.
func TestSourceLogNamesTheFlags(t *testing.T) {
	sf := newSourceFlags(newFlagSet("test"), "x")
	xFlags(sf)
	unreachable := tweet.FieldErrorf("APIURL", tweet.EUNAVAILABLE, "cannot reach the X API (connection refused): check the network and this URL")
	build := sf.build(func(common sourceCommon) (tweet.Source, error) {
		return loggingSource{log: common.Logger, err: unreachable}, nil
	})
	var out strings.Builder
	src, err := build(sourceCommon{Logger: slog.New(slog.NewTextHandler(&out, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Run(context.Background(), &recordingSink{}); err != nil {
		t.Fatal(err)
	}
	want := ` err="--x-api-url (env TWEETWIRE_X_API_URL): cannot reach the X API (connection refused): check the network and this URL"`
	if got := out.String(); strings.Count(got, want) != 1 || !strings.Contains(got, `last.err="--x-api-url (env TWEETWIRE_X_API_URL): cannot reach`) || !strings.Contains(got, "attempt=1") {
		t.Errorf("log = %s\nwant the error named, in the group too: %s", got, want)
	}
}
