// Package app is the Tweetwire server as one value: New opens its parts in
// order (listener, database, write path, hub, cluster, pipeline, Socket.IO,
// HTTP), Run runs them, and Close stops them in the opposite direction of
// the data: the source first, then the clients, then the write path, then
// the database, under one deadline. The command in server/cmd/tweetwire,
// the end-to-end tests and the benchmarks' servers all build this one
// value, so they cannot drift apart.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tweetwire/tweetwire/server/benchmode"
	"github.com/tweetwire/tweetwire/server/cluster"
	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/ingest"
	"github.com/tweetwire/tweetwire/server/metrics"
	"github.com/tweetwire/tweetwire/server/moderation"
	"github.com/tweetwire/tweetwire/server/redis"
	"github.com/tweetwire/tweetwire/server/socketio"
	"github.com/tweetwire/tweetwire/server/tweet"
	"github.com/tweetwire/tweetwire/server/web"
)

// Config is what the server is told. Zero values mean the default where one
// is given.
type Config struct {
	// Addr is the address to listen on (":8124" when empty); Listener,
	// when set, is used instead (tests pass one on 127.0.0.1:0).
	Addr     string
	Listener net.Listener

	// Source is where posts come from; SourceName is its --source name,
	// under which its position is kept.
	Source     tweet.Source
	SourceName string
	// Event names the occasion posts are stored under; Track is its
	// terms. EventEnd, when set, ends it and stops the source then.
	Event    string
	Track    []string
	EventEnd time.Time

	// Backlog is how many recent posts a new client receives: 0 is the
	// default (50), negative none.
	Backlog int
	// ClientQueue is how many messages wait per client before it is
	// dropped as too slow (default 1024).
	ClientQueue int
	// AllowedOrigins are browser origins allowed besides the page's own
	// and the bundled extension (canonical, as web.ParseOrigin gives).
	AllowedOrigins []string
	// NoFirefoxExtension refuses the Firefox add-on's origins
	// (moz-extension://<uuid>), which are allowed by default: see
	// web.OriginPolicy.
	NoFirefoxExtension bool

	// DataDir holds the spool, saved source positions and, without
	// MongoURI, the embedded store.
	DataDir  string
	MongoURI string
	// AdminToken is the bearer token POST /api/event/end requires. Empty,
	// the server makes one on its first start and keeps it in
	// <DataDir>/admin-token (mode 0600), or in Redis for the cluster.
	AdminToken string
	// PublicNames are the host names, besides IP addresses and
	// localhost, that the server answers to (the DNS-rebinding guard).
	PublicNames []string

	// RedisURL, when set, shares the wall with the other nodes on that
	// Redis: NodeID names this one, LeaseTTL is how long a dead node
	// keeps the source (default 5 s).
	RedisURL string
	NodeID   string
	LeaseTTL time.Duration

	// MaxConnections caps the connections open at once (0:
	// DefaultMaxConnections, from the file limit).
	MaxConnections int
	// IdleTimeout closes a keep-alive connection that sends no request
	// for this long (default 60 s).
	IdleTimeout time.Duration
	// MaxPendingSessions and MaxPendingPerAddress cap the Socket.IO
	// handshakes not yet come back to (see socketio.Config; 0: its
	// defaults).
	MaxPendingSessions   int
	MaxPendingPerAddress int

	// Bench serves the benchmark endpoints (never on a public server).
	Bench bool

	// SocketIO builds the Socket.IO server; nil builds server/socketio's.
	// The benchmarks put another library behind the same seam.
	SocketIO func(socketio.Config) SocketServer
	// Wrap, when set, wraps the server's routes (the benchmarks add
	// /debug/pprof/).
	Wrap func(http.Handler) http.Handler

	Logger *slog.Logger

	// seedFrom, when set, wraps the store that start-up loads from:
	// tests slow it down to see the server answer while it loads.
	seedFrom func(tweet.Store) tweet.Store
}

// SocketServer is what the application needs of a Socket.IO server.
type SocketServer interface {
	http.Handler
	// Run accepts connections until ctx is done, then closes them.
	Run(ctx context.Context) error
	// Clients counts the connected clients by transport.
	Clients() map[string]int
}

// SeedPosts is how many stored posts are loaded at start-up for backlog,
// since and duplicate detection, and how many a Redis broker keeps for a
// node that joins.
const SeedPosts = 1000

// errEventEnded stops the source when the event ends.
var errEventEnded = errors.New("the event has ended")

// App is a running Tweetwire server.
type App struct {
	cfg   Config
	log   *slog.Logger
	event tweet.Event

	ln       net.Listener
	db       *Database
	metrics  *metrics.Metrics
	write    *writePath
	hub      *hub.Hub
	broker   cluster.Broker
	runner   cluster.Runner
	rdb      *goredis.Client // with RedisURL
	mod      *moderation.Service
	notifier *redis.Notifier // with RedisURL
	pipeline *ingest.Pipeline
	sio      SocketServer
	srv      *http.Server
	// gate is srv's handler: see startGate. handler is what it opens on
	// when Run starts.
	gate     *startGate
	handler  http.Handler
	endTimer *time.Timer

	// Each part runs under a context of its own, so that Close can stop
	// them one after the other. The source's also ends with the event,
	// while the wall goes on serving.
	srcCtx       context.Context
	stopSource   context.CancelCauseFunc
	clientsCtx   context.Context
	stopClients  context.CancelFunc
	writerCtx    context.Context
	stopWriter   context.CancelFunc
	source       sync.WaitGroup
	clients      sync.WaitGroup
	writer       sync.WaitGroup
	failed       chan error
	startOnce    sync.Once
	closeOnce    sync.Once
	closeErr     error
	closeOnError []func()
}

// New opens every part of the server in order. On an error it closes what
// it opened and says what to fix.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	if cfg.Source == nil {
		return nil, errors.New("app: no source: Config.Source is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8124"
	}
	if cfg.Backlog == 0 {
		cfg.Backlog = 50
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections()
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	a := &App{cfg: cfg, log: cfg.Logger, failed: make(chan error, 2)}
	defer func() {
		if err != nil {
			for i := len(a.closeOnError) - 1; i >= 0; i-- {
				a.closeOnError[i]()
			}
		}
	}()
	onError := func(f func()) { a.closeOnError = append(a.closeOnError, f) }
	log := a.log

	a.ln = cfg.Listener
	if a.ln == nil {
		if a.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("cannot listen on %s: %w: pick a free port with --addr", cfg.Addr, err)
		}
	}
	onError(func() { _ = a.ln.Close() })

	// Serve at once, before the database opens and the stored posts
	// load (which takes a while on a large store): /healthz and the page
	// answer from the start, the rest once Run starts (see startGate).
	a.ln = newLimitListener(a.ln, cfg.MaxConnections, log)
	a.gate = newStartGate(web.HostPolicy(cfg.PublicNames), cfg.Event)
	a.srv = &http.Server{
		Handler:           a.gate,
		ReadHeaderTimeout: 10 * time.Second,
		// A request, body included, is read within this. A long poll
		// waits while writing its answer, which this does not bound (and
		// net/http does not cancel a request whose read deadline passes
		// once it was read: TestTimeouts checks that), and a WebSocket
		// clears its deadlines when it takes the connection.
		ReadTimeout: 30 * time.Second,
		// A keep-alive connection that sends nothing is closed, so idle
		// connections do not pile up to the cap.
		IdleTimeout: cfg.IdleTimeout,
	}
	a.clients.Go(func() {
		if err := a.srv.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
			a.failed <- fmt.Errorf("http server: %w", err)
		}
	})
	onError(func() {
		_ = a.srv.Close()
		a.clients.Wait()
	})

	if a.db, err = OpenDatabase(ctx, cfg.MongoURI, cfg.DataDir, log); err != nil {
		return nil, err
	}
	onError(func() { a.closeDatabase(context.Background()) })
	if a.event, err = a.db.StartEvent(ctx, cfg.Event, cfg.Track, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("cannot record the event %q: %w", cfg.Event, err)
	}

	// Metrics first: the write path counts what it stores from the start
	// (a spool drained now); the readings are watched once their parts
	// exist.
	a.metrics = metrics.New()
	if a.write, err = openWritePath(ctx, cfg.DataDir, storedCounter{Writer: a.db, m: a.metrics}, log); err != nil {
		return nil, err
	}
	onError(func() { _ = a.write.queue.Close() })

	backlog := cfg.Backlog
	if backlog < 0 {
		backlog = -1 // the hub reads 0 as "default"
	}
	a.hub = hub.New(hub.Config{Backlog: backlog, QueueSize: cfg.ClientQueue})
	if err := a.joinCluster(); err != nil {
		return nil, err
	}
	onError(a.closeCluster)
	token, where, err := resolveAdminToken(ctx, cfg.AdminToken, cfg.DataDir, a.rdb, "tweetwire:admin-token:"+a.event.Name)
	if err != nil {
		return nil, err
	}
	if where != "" {
		// The token goes in the URL's fragment, which browsers send
		// neither to the server nor in Referer. Logged once, here.
		log.Info("moderation console: open this URL to sign in; state changes (moderation, ending the event) need this token as Authorization: Bearer <token>",
			"url", signInURL(a.ln.Addr(), token), "token_in", where)
	}

	modCfg := moderation.Config{
		Store:  a.db,
		Posts:  a.db,
		Event:  a.event.Name,
		Broker: a.broker,
		Logger: log.With("component", "moderation"),
	}
	if a.rdb != nil {
		a.notifier = redis.NewNotifier(a.rdb, "tweetwire:moderation:"+a.event.Name, cfg.NodeID, log.With("component", "redis", "node", cfg.NodeID))
		modCfg.Changed = a.notifier.Notify
	}
	a.mod = moderation.New(modCfg)
	a.pipeline = ingest.New(a.broker, ingest.Config{
		Store:    a.write.writer,
		Event:    a.event.Name,
		OnPost:   func(t *tweet.Tweet) { a.metrics.Ingested(t.Source) },
		Moderate: a.mod.Decide,
		OnState:  a.publishStatus,
		Logger:   log.With("component", "ingest"),
	})
	// Listen to the other nodes before reading the store, so that a post
	// published or a moderation change made in between is not missed.
	subCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := a.broker.Subscribe(subCtx); err != nil {
		log.Error("redis unreachable at start-up; serving this node's clients until it is back", "err", err)
	}
	if a.notifier != nil {
		if err := a.notifier.Subscribe(subCtx); err != nil {
			log.Error("redis unreachable at start-up; moderation changes on other nodes reach this one at its periodic reload", "err", err)
		}
	}
	cancel()
	// Moderation first: the backlog must not hold a hidden post.
	if err := a.mod.Load(ctx); err != nil {
		return nil, fmt.Errorf("cannot read the moderation state from the store: %w", err)
	}
	if err := a.seed(ctx); err != nil {
		return nil, err
	}
	cluster.Replay(ctx, a.broker, a.hub, a.pipeline.Remember, log.With("component", "cluster"))
	if len(a.mod.Pins()) > 0 {
		// After the replay, which may hold older pins: new clients get
		// the current ones after their backlog.
		_ = a.hub.Publish(ctx, a.mod.PinsMessage())
	}

	a.srcCtx, a.stopSource = context.WithCancelCause(context.Background())
	a.clientsCtx, a.stopClients = context.WithCancel(context.Background())
	a.writerCtx, a.stopWriter = context.WithCancel(context.Background())
	if !cfg.EventEnd.IsZero() {
		a.endTimer = time.AfterFunc(time.Until(cfg.EventEnd), func() {
			log.Info("the event ends now (--event-end)", "event", a.event.Name)
			a.endEvent(cfg.EventEnd)
		})
	}

	sioConfig := socketio.Config{
		Hub:         a.hub,
		CheckOrigin: web.OriginPolicy(cfg.AllowedOrigins, cfg.NoFirefoxExtension),
		OnWrite: func(msg *hub.Message) {
			if msg.Kind == hub.KindTweet {
				a.metrics.FanOut(msg.Ingested)
			}
		},
		MaxPending:           cfg.MaxPendingSessions,
		MaxPendingPerAddress: cfg.MaxPendingPerAddress,
		Logger:               log.With("component", "socketio"),
	}
	if cfg.SocketIO != nil {
		a.sio = cfg.SocketIO(sioConfig)
	} else {
		a.sio = socketio.New(sioConfig)
	}
	a.metrics.Watch(metrics.Sources{
		Clients:     a.sio.Clients,
		Dropped:     a.hub.Dropped,
		SpoolDepth:  func() int { return a.write.writer.Health().Spooled },
		Lost:        func() uint64 { return a.write.writer.Health().Lost },
		Reconnects:  func() uint64 { return a.pipeline.Health().Reconnects },
		LeaseHolder: a.runner.Lease.Holding,
		Pending:     a.pendingSessions,
		// The statistics a post short until `tweetwire stats --recount`.
		CounterFailures: a.db.CounterFailures,
	})
	var handler http.Handler = web.Handler(web.Config{
		SocketIO: a.sio,
		Logger:   log,
		Metrics:  a.metrics.Handler(),
		Bench:    a.benchHandler(),
		API: &web.APIConfig{
			Store:      moderation.Filtered{Store: a.db, Moderation: a.mod},
			Event:      a.event.Name,
			AdminToken: token,
			Moderation: a.mod,
			OnEnd:      func(tweet.Event) { a.stopSource(errEventEnded) },
			Logger:     log.With("component", "api"),
		},
		Health: func() web.HealthReport { return a.Health() },
		Host:   web.HostPolicy(cfg.PublicNames),
	})
	if cfg.Wrap != nil {
		handler = cfg.Wrap(handler)
	}
	a.handler = handler
	a.gate.loaded.Store(true)
	return a, nil
}

// seed loads the stored posts the hub and the pipeline start from, and
// says so on /healthz meanwhile, with their number once counted.
func (a *App) seed(ctx context.Context) error {
	var db tweet.Store = moderation.Filtered{Store: a.db, Moderation: a.mod}
	if a.cfg.seedFrom != nil {
		db = a.cfg.seedFrom(db)
	}
	a.gate.say("loading the stored posts of %q", a.event.Name)
	// Counted aside: a count is quick with an index, but a store without
	// one would scan, and loading must not wait for that.
	countCtx, stopCount := context.WithCancel(ctx)
	var counting sync.WaitGroup
	defer func() { stopCount(); counting.Wait() }()
	counting.Go(func() {
		if n, err := a.db.Count(countCtx, a.event.Name); err == nil {
			a.gate.say("loading the newest of %d stored posts of %q", n, a.event.Name)
		}
	})
	if err := ingest.Seed(ctx, db, a.event.Name, SeedPosts, a.hub, a.pipeline); err != nil {
		return fmt.Errorf("cannot read the store: %w", err)
	}
	return nil
}

// signInURL is the console's address with the token in its fragment.
func signInURL(addr net.Addr, token string) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		host, port = addr.String(), ""
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	hostport := host
	if port != "" {
		hostport = net.JoinHostPort(host, port)
	}
	return "http://" + hostport + "/admin#token=" + url.QueryEscape(token)
}

// joinCluster makes this node a cluster of one, or a member of the one on
// cfg.RedisURL.
func (a *App) joinCluster() error {
	cfg := a.cfg
	if cfg.RedisURL == "" {
		a.broker = cluster.MemoryBroker{Hub: a.hub}
		a.runner = cluster.Runner{Lease: cluster.Alone{}, Positions: cluster.NewFilePositions(cfg.DataDir, a.event.Name, cfg.SourceName), Logger: a.log}
		return nil
	}
	opts, err := goredis.ParseURL(cfg.RedisURL)
	if err != nil {
		// The URL may hold a password: do not repeat it.
		return fmt.Errorf("--redis-url is not a valid Redis URL: write it like redis://[:password@]host:6379/0")
	}
	a.rdb = goredis.NewClient(opts)
	log := a.log.With("component", "redis", "node", cfg.NodeID)
	a.broker = redis.NewBroker(a.rdb, "tweetwire:posts:"+a.event.Name, SeedPosts, a.hub, log)
	a.runner = cluster.Runner{
		Lease:     redis.NewLease(a.rdb, "tweetwire:lease:"+a.event.Name, cfg.NodeID, cfg.LeaseTTL, log),
		Positions: redis.NewPositions(a.rdb, "tweetwire:position:"+a.event.Name),
		Logger:    log,
	}
	return nil
}

var (
	_ cluster.Broker    = (*redis.Broker)(nil)
	_ cluster.Lease     = (*redis.Lease)(nil)
	_ cluster.Positions = redis.Positions{}
)

func (a *App) closeCluster() {
	if a.rdb != nil {
		_ = a.rdb.Close()
	}
}

func (a *App) benchHandler() http.Handler {
	if !a.cfg.Bench {
		return nil
	}
	a.log.Warn("benchmark mode: anyone who reaches this server can make it publish posts")
	return benchmode.Handler(benchmode.Config{
		Broker:  a.broker,
		Context: a.clientsCtx,
		Clients: func() int {
			n := 0
			for _, c := range a.sio.Clients() {
				n += c
			}
			return n
		},
	})
}

// pendingSessions counts the handshakes not yet come back to, where the
// Socket.IO server keeps that count (server/socketio does; the benchmarks'
// other library does not).
func (a *App) pendingSessions() int {
	if p, ok := a.sio.(interface{ Pending() int }); ok {
		return p.Pending()
	}
	return 0
}

// Addr is the address the server listens on.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// Run serves until ctx is done (it then returns nil; Close stops the
// parts) or the server cannot go on (it returns why).
func (a *App) Run(ctx context.Context) error {
	a.startOnce.Do(a.start)
	select {
	case <-ctx.Done():
		return nil
	case err := <-a.failed:
		return err
	}
}

func (a *App) start() {
	log := a.log
	log.Info("listening", "addr", a.ln.Addr().String(), "source", a.cfg.SourceName, "event", a.event.Name, "store", a.db.Kind)
	a.writer.Go(func() { a.write.writer.Run(a.writerCtx) })
	a.clients.Go(func() {
		if err := a.sio.Run(a.clientsCtx); err != nil {
			a.failed <- fmt.Errorf("socket.io server stopped: %w", err)
		}
	})
	a.clients.Go(func() { _ = a.broker.Run(a.clientsCtx) })
	if a.notifier != nil {
		a.clients.Go(func() {
			a.notifier.Run(a.clientsCtx, func(ctx context.Context) {
				loadCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if err := a.mod.Load(loadCtx); err != nil && ctx.Err() == nil {
					log.Error("cannot read the moderation state another node changed; trying again at the next change or in 30 s", "err", err)
				}
			})
		})
	}
	// The parts run: requests may reach them.
	a.gate.openWith(a.handler)
	a.source.Go(func() {
		a.pipeline.SetState(tweet.StateStarting, nil)
		a.runner.Run(a.srcCtx, a.cfg.Source, a.pipeline, func(ctx context.Context) {
			err := a.cfg.Source.Run(ctx, a.pipeline)
			switch {
			case errors.Is(context.Cause(a.srcCtx), errEventEnded):
				a.pipeline.SetState(tweet.StateFinished, errEventEnded)
			case err != nil && ctx.Err() == nil:
				// The page keeps serving what it has; /healthz says
				// why the stream stopped.
				a.pipeline.SetState(tweet.StateFailed, err)
				log.Error("source stopped", "err", err)
			}
		})
	})
}

// endEvent records the end of the event and stops the source.
func (a *App) endEvent(at time.Time) {
	if _, err := a.db.EndEvent(context.Background(), a.event.Name, at); err != nil {
		a.log.Error("cannot record the end of the event", "event", a.event.Name, "err", err)
	}
	a.stopSource(errEventEnded)
}

// closeTimeout bounds each step of Close that waits on the network or the
// disk when the caller's context has no deadline.
const closeTimeout = 5 * time.Second

// Close stops the server: the source first, so that nothing new comes in;
// then the clients and the HTTP server; then the write path, which writes
// back to the database what it can within the deadline; then the
// database. The event goes on: see endEvent. Every post the source emitted is then in the database or in
// the spool. ctx bounds the whole; Close may be called once Run returned,
// or instead of Run.
func (a *App) Close(ctx context.Context) error {
	a.closeOnce.Do(func() {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 4*closeTimeout)
			defer cancel()
		}
		if a.endTimer != nil {
			a.endTimer.Stop()
		}
		a.stopSource(nil)
		a.source.Wait()

		// Socket.IO first: hijacked WebSockets outlive Shutdown.
		a.stopClients()
		// Requests waiting for Run, which will not come, are answered.
		a.gate.openWith(stopping)
		shutdownCtx, cancel := context.WithTimeout(ctx, closeTimeout)
		err := a.srv.Shutdown(shutdownCtx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			// A request still running (a long poll whose session is
			// gone, a slow upload): cut it. Its client reconnects, to
			// this server's successor.
			a.log.Warn("requests still running at shutdown were cut", "waited", closeTimeout)
			err = a.srv.Close()
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		_ = a.ln.Close() // when Run never served on it
		a.clients.Wait()

		a.stopWriter()
		a.writer.Wait()
		drainCtx, cancel := context.WithTimeout(ctx, closeTimeout)
		_ = a.write.writer.Drain(drainCtx)
		cancel()
		_ = a.write.queue.Close()
		// Stopping a server does not end the event: other nodes may
		// still follow it, and a restart goes on with it. Only
		// POST /api/event/end, EventEnd and `tweetwire end` end it.

		a.closeCluster()
		a.closeDatabase(ctx)
		a.log.Info("stopped")
		a.closeErr = err
	})
	return a.closeErr
}

// closeDatabase closes the database within ctx's deadline, or 10 s.
func (a *App) closeDatabase(ctx context.Context) {
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if d, ok := ctx.Deadline(); ok {
		closeCtx, cancel = context.WithDeadline(closeCtx, d)
		defer cancel()
	}
	_ = a.db.Close(closeCtx)
}
