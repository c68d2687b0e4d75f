package x_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tweetwire/tweetwire/server/source/reconnect/streamtest"
	"github.com/tweetwire/tweetwire/server/source/x"
	"github.com/tweetwire/tweetwire/server/source/x/xtest"
	"github.com/tweetwire/tweetwire/server/tweet"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// Run must end with its context.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// token is recognisable so that a test can look for it anywhere it must
// not be.
const token = "AAAAAAAAAAAAAAAAAAAAAXBEARER-SECRET-never-logged-7hQ2"

// sink records what a source hands it.
type sink struct {
	mu     sync.Mutex
	events []tweet.Event
	states []tweet.State
	errs   []error
}

func (s *sink) Emit(ctx context.Context, ev tweet.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	return nil
}

func (s *sink) SetState(st tweet.State, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states = append(s.states, st)
	s.errs = append(s.errs, err)
}

func (s *sink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ev := range s.events {
		prefix := ""
		if ev.Kind == tweet.KindDelete {
			prefix = "-"
		}
		out = append(out, prefix+ev.ID)
	}
	return out
}

func (s *sink) state() (tweet.State, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.states) == 0 {
		return "", ""
	}
	msg := ""
	if err := s.errs[len(s.errs)-1]; err != nil {
		msg = err.Error()
	}
	return s.states[len(s.states)-1], msg
}

// sawReconnecting reports whether the source reported reconnecting with
// an error containing want.
func (s *sink) sawReconnecting(want string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, st := range s.states {
		if st == tweet.StateReconnecting && strings.Contains(s.errs[i].Error(), want) {
			return true
		}
	}
	return false
}

// backoff records which waits were asked for and makes each 1 ms.
type backoff struct {
	mu    sync.Mutex
	calls []string
}

func (b *backoff) record(c string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, c)
}
func (b *backoff) Network() time.Duration { b.record("network"); return time.Millisecond }
func (b *backoff) HTTP(status int) time.Duration {
	b.record(fmt.Sprint("http ", status))
	return time.Millisecond
}
func (b *backoff) Reset() { b.record("reset") }

// waits lists the waits asked for, without the resets.
func (b *backoff) waits() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, c := range b.calls {
		if c != "reset" {
			out = append(out, c)
		}
	}
	return strings.Join(out, ",")
}

func (b *backoff) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.calls, ",")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// run is a Stream running against a fake X.
type run struct {
	srv     *xtest.Server
	sink    *sink
	backoff *backoff
	logs    *lockedBuffer
	cancel  context.CancelFunc
	done    chan error
}

// start runs a Stream; prepare, when set, sets the fake up before Run.
func start(t *testing.T, prepare func(*xtest.Server), mod func(*x.Config)) *run {
	t.Helper()
	r := &run{srv: xtest.NewServer(token), sink: &sink{}, backoff: &backoff{}, logs: &lockedBuffer{}, done: make(chan error, 1)}
	if prepare != nil {
		prepare(r.srv)
	}
	cfg := x.Config{
		Track:        []string{"#GoConf", "go conf"},
		BearerToken:  token,
		APIURL:       r.srv.URL,
		StallTimeout: 2 * time.Second,
		Backoff:      r.backoff,
	}
	if mod != nil {
		mod(&cfg)
	}
	log := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := x.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- s.Run(ctx, r.sink) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5 s of cancel")
		}
		r.srv.Close()
	})
	return r
}

func (r *run) open(t *testing.T) *streamtest.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := r.srv.Open(ctx)
	if err != nil {
		t.Fatalf("no connection: %v\nlog:\n%s", err, r.logs)
	}
	return c
}

func (r *run) accept(t *testing.T) *streamtest.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := r.srv.Accept(ctx)
	if err != nil {
		t.Fatalf("no connection: %v\nlog:\n%s", err, r.logs)
	}
	return c
}

// wait returns Run's result.
func (r *run) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Run did not stop; log:\n%s", r.logs)
		return nil
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func post(id, text string, rules ...string) string {
	return xtest.Post{ID: id, Text: text, Username: "marta_codes", Name: "Marta", Hashtags: []string{"GoConf"}, RuleIDs: rules}.Line()
}

func TestSyncsItsOwnRulesThenStreams(t *testing.T) {
	t.Parallel()
	var kept, foreign, foreignSame, stale xtest.Rule
	r := start(t, func(s *xtest.Server) {
		stale = s.AddRule("#OldConf", "tweetwire")
		kept = s.AddRule("#GoConf", "tweetwire")
		foreign = s.AddRule("golang", "another-tool")
		foreignSame = s.AddRule("go conf", "another-tool")
	}, func(c *x.Config) { c.Track = []string{"#GoConf", "go conf", "#GoConf", "#new"} })
	c := r.open(t)

	var rules []string
	for _, rl := range r.srv.Rules() {
		rules = append(rules, rl.Value+"|"+rl.Tag)
	}
	sort.Strings(rules)
	if want := []string{"#GoConf|tweetwire", "#new|tweetwire", "go conf|another-tool", "golang|another-tool"}; !reflect.DeepEqual(rules, want) {
		t.Errorf("rules after sync = %v, want %v (stale one of ours deleted, others' untouched)", rules, want)
	}
	var added string
	for _, rl := range r.srv.Rules() {
		if rl.Value == "#new" {
			added = rl.ID
		}
		if rl.Value == "#GoConf" && rl.ID != kept.ID {
			t.Errorf("#GoConf was re-created (id %s, was %s)", rl.ID, kept.ID)
		}
	}
	_ = stale

	q := c.Request.URL.Query()
	for param, want := range map[string]string{
		"expansions":   "author_id",
		"tweet.fields": "created_at,entities,lang,referenced_tweets,note_tweet",
		"user.fields":  "username,name,profile_image_url",
	} {
		if !strings.Contains(q.Get(param), want) {
			t.Errorf("%s = %q, want it to hold %q", param, q.Get(param), want)
		}
	}
	if got := c.Request.Header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q", got)
	}
	waitFor(t, "the running state", func() bool { st, _ := r.sink.state(); return st == tweet.StateRunning })
	must(t, c.Send(
		post("1", "ours", kept.ID),
		"",
		post("2", "another tool's rule only", foreign.ID),
		post("3", "a term another tool also follows", foreignSame.ID),
		post("4", "both", foreign.ID, added),
		post("5", "no matching_rules at all"),
		`{"data":{"id":"6","text":"cut`,
		`{"data":{"author_id":"404","created_at":"2026-11-25T18:12:00.000Z","id":"7","text":"author suspended"},"errors":[{"title":"Not Found Error","detail":"Could not find user"}]}`,
		`{"data":{"id":"8","text":"`+strings.Repeat("a", 1<<20)+`"}}`,
		xtest.Delete("1"),
		post("9", "&lt;same&gt; connection", added),
	))
	want := []string{"x:1", "x:3", "x:4", "x:5", "-x:1", "x:9"}
	waitFor(t, "every event", func() bool { return len(r.sink.ids()) >= len(want) })
	if got := r.sink.ids(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events = %v, want %v", got, want)
	}
	r.sink.mu.Lock()
	last := r.sink.events[len(r.sink.events)-1].Tweet
	r.sink.mu.Unlock()
	if last.Text != "<same> connection" || last.URL != "https://x.com/marta_codes/status/9" || last.Source != "x" {
		t.Errorf("last post = %+v", last)
	}
	if n := r.srv.Requests(); n != 1 {
		t.Errorf("%d stream requests: a bad message cost the connection", n)
	}
	logs := r.logs.String()
	for _, w := range []string{"skipping a malformed message", "expansions=author_id", "longer than 1 MiB", "another tool's stream rule"} {
		if !strings.Contains(logs, w) {
			t.Errorf("log lacks %q:\n%s", w, logs)
		}
	}
}

func TestReconnectsAfterEveryKindOfDrop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		end      func(t *testing.T, c *streamtest.Conn)
		wantWait string
		wantErr  string
	}{
		{"server closes the stream", func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Close())
		}, "network", "X closed the stream"},
		{"operational disconnect", func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Send(xtest.OperationalDisconnect))
			<-c.Gone() // the client hangs up by itself
		}, "network", "operational reasons"},
		{"connection aborted mid-stream", func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			must(t, c.Write(`{"data":`))
			must(t, c.Drop())
		}, "network", "broke off"},
		{"stall: silence after the headers", func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Open("application/json"))
			<-c.Gone()
		}, "network", "not even a keep-alive"},
		{"service unavailable", func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Reject(503, "application/json", `{"title":"Service Unavailable","detail":"try later"}`))
		}, "http 503", "HTTP 503 Service Unavailable: Service Unavailable: try later"},
		{"too many connections", func(t *testing.T, c *streamtest.Conn) {
			must(t, c.Reject(429, "application/json", xtest.TooManyConnections))
		}, "http 429", "maximum allowed connection limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, nil, func(c *x.Config) { c.StallTimeout = 300 * time.Millisecond })
			tt.end(t, r.accept(t))
			c := r.open(t)
			must(t, c.Send(post("7", "back")))
			waitFor(t, "the post after reconnecting", func() bool { return len(r.sink.ids()) == 1 })
			if st, _ := r.sink.state(); st != tweet.StateRunning {
				t.Errorf("state after reconnecting = %s", st)
			}
			if waits := r.backoff.waits(); waits != tt.wantWait {
				t.Errorf("backoff waits %q, want exactly %q", waits, tt.wantWait)
			}
			if !r.sink.sawReconnecting(tt.wantErr) {
				t.Errorf("no reconnecting state saying %q; log:\n%s", tt.wantErr, r.logs)
			}
			if n := r.srv.RuleRequests(); n != 2 {
				t.Errorf("%d rules requests, want 2 (list, add): rules are synced once, not per connection", n)
			}
		})
	}
	t.Run("rules endpoint unavailable", func(t *testing.T) {
		t.Parallel()
		r := start(t, func(s *xtest.Server) { s.FailRules(503, `{"title":"Service Unavailable"}`) }, nil)
		waitFor(t, "a retry", func() bool { return r.srv.RuleRequests() >= 2 })
		r.srv.FailRules(0, "")
		c := r.open(t)
		must(t, c.Send(post("7", "back")))
		waitFor(t, "the post", func() bool { return len(r.sink.ids()) == 1 })
		if !strings.HasPrefix(r.backoff.waits(), "http 503,http 503") || strings.Contains(r.backoff.waits(), "network") || !r.sink.sawReconnecting("stream rules request") {
			t.Errorf("backoff %q; states %v %v", r.backoff, r.sink.states, r.sink.errs)
		}
	})
}

func TestKeepAlivesKeepAQuietStreamOpen(t *testing.T) {
	t.Parallel()
	r := start(t, nil, func(c *x.Config) { c.StallTimeout = 300 * time.Millisecond })
	c := r.open(t)
	for range 12 {
		must(t, c.KeepAlive())
		time.Sleep(100 * time.Millisecond)
	}
	if n := r.srv.Requests(); n != 1 {
		t.Fatalf("%d requests: a stream with keep-alives was dropped", n)
	}
	select {
	case <-c.Gone():
	case <-time.After(5 * time.Second):
		t.Fatal("a silent stream was not dropped")
	}
	r.open(t)
	if got := r.backoff.String(); got != "reset,network" {
		t.Errorf("backoff calls %q, want a reset on data and one network wait", got)
	}
}

func TestStopsOnWhatRetryingCannotFix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(*xtest.Server)
		mod     func(*x.Config)
		stream  func(*streamtest.Conn) error // how the stream answers, if reached
		wantErr []string
	}{
		{"wrong token", nil, func(c *x.Config) { c.BearerToken = "revoked" }, nil, []string{"HTTP 401", "X_BEARER_TOKEN"}},
		{"no filtered stream at this access level", func(s *xtest.Server) { s.FailRules(403, xtest.ClientForbidden) }, nil, nil,
			[]string{"HTTP 403", "Client Forbidden", "Pro or Enterprise", "--source bluesky"}},
		{"stream forbidden", nil, nil, func(c *streamtest.Conn) error { return c.Reject(403, "application/json", xtest.ClientForbidden) }, []string{"HTTP 403", "Pro or Enterprise"}},
		{"stream refuses a parameter", nil, nil, func(c *streamtest.Conn) error {
			return c.Reject(400, "application/json", `{"title":"Invalid Request","detail":"One or more parameters to your request was invalid."}`)
		}, []string{"HTTP 400", "--track"}},
		{"rule refused", func(s *xtest.Server) {
			s.RefuseRules(func(v string) string {
				if v == "go conf" {
					return "Reference to invalid operator 'conf'"
				}
				return ""
			})
		}, nil, nil, []string{`"go conf"`, "invalid operator", "change or remove that term"}},
		{"wrong API URL", func(s *xtest.Server) { s.FailRules(404, `{"title":"Not Found Error"}`) }, nil, nil, []string{"HTTP 404", "--x-api-url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, tt.prepare, tt.mod)
			if tt.stream != nil {
				must(t, tt.stream(r.accept(t)))
			}
			err := r.wait(t)
			if err == nil || tweet.ErrorCode(err) != tweet.EINVALID {
				t.Fatalf("Run = %v, want an EINVALID error", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			if st, msg := r.sink.state(); st != tweet.StateFailed || msg != err.Error() {
				t.Errorf("state = %s %q, want failed with the error", st, msg)
			}
			if n := r.srv.Requests(); n > 1 {
				t.Errorf("%d stream requests: retried after a fatal answer", n)
			}
		})
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	good := x.Config{Track: []string{"go"}, BearerToken: "t"}
	tests := []struct {
		name string
		mod  func(*x.Config)
		want string
	}{
		{"no token", func(c *x.Config) { c.BearerToken = "" }, "X_BEARER_TOKEN"},
		{"no track", func(c *x.Config) { c.Track = nil }, "needs --track"},
		{"empty term", func(c *x.Config) { c.Track = []string{"go", " "} }, "empty term"},
		{"URL not http", func(c *x.Config) { c.APIURL = "api.x.com" }, "--x-api-url"},
		{"URL with a password", func(c *x.Config) { c.APIURL = "https://u:hunter2@proxy.example" }, "password"},
		{"negative stall timeout", func(c *x.Config) { c.StallTimeout = -time.Second }, "--x-stall-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			_, err := x.New(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tweet.ErrorCode(err) != tweet.EINVALID {
				t.Fatalf("New = %v, want an EINVALID error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

// The token reaches the Authorization header and nothing else, whatever
// goes wrong, even when a proxy echoes it in an error body.
func TestTokenAppearsInNoLogStateOrError(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, r *run, err error) {
		t.Helper()
		r.sink.mu.Lock()
		texts := []string{r.logs.String()}
		for _, e := range r.sink.errs {
			if e != nil {
				texts = append(texts, e.Error())
			}
		}
		r.sink.mu.Unlock()
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		}
		for _, text := range texts {
			if strings.Contains(text, token) || strings.Contains(text, token[20:]) {
				t.Errorf("the token appears in %q", text)
			}
		}
	}
	t.Run("refused, with the token echoed", func(t *testing.T) {
		t.Parallel()
		r := start(t, func(s *xtest.Server) {
			s.FailRules(403, `{"title":"Forbidden","detail":"token `+token+` has no access"}`)
		}, nil)
		check(t, r, r.wait(t))
	})
	t.Run("unreachable, malformed, stalled, disconnected", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		dead := "http://" + ln.Addr().String()
		ln.Close()
		r := start(t, nil, func(c *x.Config) { c.APIURL = dead })
		waitFor(t, "a failed connection", func() bool { st, _ := r.sink.state(); return st == tweet.StateReconnecting })
		check(t, r, nil)

		r = start(t, nil, func(c *x.Config) { c.StallTimeout = 200 * time.Millisecond })
		c := r.open(t)
		must(t, c.Send("{bad", `{"errors":[{"title":"x","detail":"`+token+`"}]}`, xtest.OperationalDisconnect))
		c = r.open(t)
		<-c.Gone()
		waitFor(t, "a stall", func() bool { return r.sink.sawReconnecting("keep-alive") })
		check(t, r, nil)
	})
}

// Cancelling the context ends Run promptly from every state and leaves no
// goroutine behind.
func TestShutdownLeavesNoGoroutine(t *testing.T) {
	// Not parallel: goleak looks at every goroutine in the process.
	tests := []struct {
		name  string
		setup func(t *testing.T, r *run)
	}{
		{"while streaming", func(t *testing.T, r *run) {
			c := r.open(t)
			must(t, c.Send(post("1", "hi")))
			waitFor(t, "the post", func() bool { return len(r.sink.ids()) == 1 })
		}},
		{"while waiting for the response", func(t *testing.T, r *run) { r.accept(t) }},
		{"while waiting to reconnect", func(t *testing.T, r *run) {
			must(t, r.accept(t).Reject(503, "", ""))
			waitFor(t, "the reconnecting state", func() bool { st, _ := r.sink.state(); return st == tweet.StateReconnecting })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			r := start(t, nil, func(c *x.Config) { c.Backoff = slowBackoff{} })
			tt.setup(t, r)
			began := time.Now()
			r.cancel()
			if err := r.wait(t); err != nil {
				t.Errorf("Run = %v after cancel, want nil", err)
			}
			if d := time.Since(began); d > time.Second {
				t.Errorf("Run took %v to stop", d)
			}
			r.srv.Close()
		})
	}
}

// slowBackoff waits as long as X's rules would after an HTTP error.
type slowBackoff struct{}

func (slowBackoff) Network() time.Duration { return 250 * time.Millisecond }
func (slowBackoff) HTTP(int) time.Duration { return 5 * time.Second }
func (slowBackoff) Reset()                 {}
