// Command wsref is the practical limit that the fan-out benchmark holds
// Tweetwire against: a plain gorilla/websocket server with nothing of
// Socket.IO but what the load generator needs, writing each post as one
// PreparedMessage (framed once, the same bytes to every client), with a
// bounded queue and one writer goroutine per connection.
//
//	wsref [--addr 127.0.0.1:8126] [--queue 1024] [--pprof]
//
// It speaks just enough Engine.IO v3 over WebSocket (no long polling): the
// open packet, the Socket.IO connect `40`, a pong `3` for every ping `2`,
// and posts as `42["tweet",{...}]`. It offers the same bench endpoints as
// Tweetwire's --bench mode and the Node.js reference server:
//
//	POST /bench/publish?count=C&rate=R   publish C posts at R per second (0: at once)
//	GET  /bench/stats                    {clients, published, rss}
//
// Loopback benchmarks only: it accepts any Origin and anyone may publish.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetwire/tweetwire/server/benchmode"
)

// The heartbeat advertised in the open packet. Engine.IO v3 clients ping;
// a connection silent for pingInterval+pingTimeout is dead.
const (
	pingInterval = 25 * time.Second
	pingTimeout  = 60 * time.Second
	writeTimeout = 10 * time.Second
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8126", "address to listen on (keep it on loopback)")
	queue := flag.Int("queue", 1024, "frames each client's queue holds before it is dropped as slow")
	withPprof := flag.Bool("pprof", false, "serve net/http/pprof at /debug/pprof/")
	flag.Parse()
	if *queue < 1 {
		log.Fatalf("wsref: --queue %d: give at least 1", *queue)
	}
	// Raise the open-file limit: every client is a socket.
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("wsref: %v", err)
	}
	s := newServer(ctx, *queue)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", s)
	mux.HandleFunc("POST /bench/publish", s.publish)
	mux.HandleFunc("GET /bench/stats", s.stats)
	if *withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		s.closeAll()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(os.Stderr, "wsref: listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("wsref: %v", err)
	}
}

type server struct {
	ctx       context.Context
	queueSize int
	upgrader  websocket.Upgrader
	pong      *websocket.PreparedMessage

	mu      sync.RWMutex
	clients map[*client]struct{}

	published atomic.Int64
}

// client is one connection: the HTTP handler's goroutine reads from it,
// a goroutine of its own writes to it.
type client struct {
	ws    *websocket.Conn
	queue chan *websocket.PreparedMessage
	done  chan struct{}
	once  sync.Once
}

func (c *client) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

func newServer(ctx context.Context, queueSize int) *server {
	pong, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte{'3'})
	if err != nil {
		panic(err) // a constant frame: cannot fail
	}
	return &server{
		ctx:       ctx,
		queueSize: queueSize,
		upgrader: websocket.Upgrader{
			// 0 keeps net/http's buffered reader from the hijack;
			// writes take a pooled buffer only for the open packet.
			ReadBufferSize:  0,
			WriteBufferPool: &sync.Pool{},
			CheckOrigin:     func(*http.Request) bool { return true },
		},
		pong:    pong,
		clients: make(map[*client]struct{}),
	}
}

// ServeHTTP accepts an Engine.IO v3 WebSocket connection and reads from it
// until it closes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("transport") != "websocket" || q.Get("EIO") != "3" {
		http.Error(w, "wsref serves Engine.IO v3 over WebSocket only: connect with ?EIO=3&transport=websocket", http.StatusBadRequest)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	open, _ := json.Marshal(map[string]any{
		"sid": sid(), "upgrades": []string{},
		"pingInterval": pingInterval.Milliseconds(), "pingTimeout": pingTimeout.Milliseconds(),
	})
	_ = ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if ws.WriteMessage(websocket.TextMessage, append([]byte{'0'}, open...)) != nil ||
		ws.WriteMessage(websocket.TextMessage, []byte("40")) != nil {
		_ = ws.Close()
		return
	}
	c := &client{ws: ws, queue: make(chan *websocket.PreparedMessage, s.queueSize), done: make(chan struct{})}
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
		c.close()
	}()
	go s.write(c)
	for {
		_ = ws.SetReadDeadline(time.Now().Add(pingInterval + pingTimeout))
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case len(data) > 0 && data[0] == '2': // ping: answer through the writer
			select {
			case c.queue <- s.pong:
			default:
				return
			}
		case len(data) > 0 && data[0] == '1': // close
			return
		}
	}
}

func (s *server) write(c *client) {
	for {
		select {
		case pm := <-c.queue:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.ws.WritePreparedMessage(pm); err != nil {
				c.close()
				return
			}
		case <-c.done:
			return
		}
	}
}

// broadcast queues pm for every client; a client whose queue is full is
// dropped as slow, so no client waits for another.
func (s *server) broadcast(pm *websocket.PreparedMessage) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for c := range s.clients {
		select {
		case c.queue <- pm:
		default:
			go c.close()
		}
	}
}

func (s *server) closeAll() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for c := range s.clients {
		go c.close()
	}
}

func (s *server) publish(w http.ResponseWriter, r *http.Request) {
	count, rate, err := benchmode.ParsePublish(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	go benchmode.Schedule(s.ctx, count, rate, func() error {
		s.broadcast(s.post())
		return nil
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"count": count, "rate": rate})
}

// post is the next bench post as one prepared frame: Tweetwire's bench
// posts, byte for byte, so the frames are the same size.
func (s *server) post() *websocket.PreparedMessage {
	data := benchmode.PostJSON(s.published.Add(1)-1, time.Now())
	frame := make([]byte, 0, len(data)+12)
	frame = append(frame, `42["tweet",`...)
	frame = append(frame, data...)
	frame = append(frame, ']')
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
	if err != nil {
		panic(err) // only compression can fail, and it is off
	}
	return pm
}

func (s *server) stats(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	n := len(s.clients)
	s.mu.RUnlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"clients": n, "published": s.published.Load(), "rss": benchmode.RSS()})
}

func sid() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
