// Command conformance serves Tweetwire's own Engine.IO and Socket.IO code
// (server/socketio, the code the product runs) with the configuration the
// official protocol test suites expect, so that they can be run against
// it. Usage: conformance HOST:PORT. It serves:
//
//   - /engine.io/: bare Engine.IO, every message echoed back (text and
//     binary), for github.com/socketio/engine.io-protocol's test-suite.
//   - /socket.io/: Socket.IO, for github.com/socketio/socket.io-protocol's
//     test-suite: on connect it emits "auth" with the CONNECT's payload,
//     answers "message" with "message-back" and the same arguments,
//     acknowledges "message-with-ack" with its arguments, and serves a
//     "/custom" namespace that emits "auth" too.
//
// Both use pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000
// bytes, a connect timeout of 1 s, and accept any origin.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tweetwire/tweetwire/server/socketio"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return errors.New("usage: conformance HOST:PORT")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := socketio.Config{
		CheckOrigin:    func(string, *http.Request) bool { return true },
		PingInterval:   300 * time.Millisecond,
		PingTimeout:    200 * time.Millisecond,
		MaxPayload:     1_000_000,
		ConnectTimeout: time.Second,
		Logger:         log,
	}
	eio := socketio.NewEngine(cfg, func(c *socketio.EngineConn, data []byte, binary bool) {
		if err := c.Send(data, binary); err != nil {
			log.Debug("echo failed", "err", err)
		}
	})
	cfg.Handler = suiteHandler{log}
	sio := socketio.New(cfg)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { _ = sio.Run(ctx) }()

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eio)
	mux.Handle("/socket.io/", sio)
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// suiteHandler is what the Socket.IO test suite expects of the server.
type suiteHandler struct{ log *slog.Logger }

var _ socketio.Handler = suiteHandler{}

func (suiteHandler) Namespace(nsp string) bool { return nsp == "/" || nsp == "/custom" }

func (h suiteHandler) Connected(s *socketio.Socket) {
	// Node's server emits the payload as it parsed it: compact JSON, {}
	// when the client sent none.
	auth := json.RawMessage(`{}`)
	var b bytes.Buffer
	if len(s.Auth) > 0 && json.Compact(&b, s.Auth) == nil {
		auth = b.Bytes()
	}
	// The suite's client listens for this packet only once it has
	// handled CONNECT: a packet that reaches it in the same TCP read is
	// lost. Node's server writes it only after the CONNECT's write has
	// completed, a little later; so does this.
	time.AfterFunc(connectedDelay, func() {
		if err := s.Emit("auth", []json.RawMessage{auth}, nil); err != nil {
			h.log.Debug("emit failed", "err", err)
		}
	})
}

// connectedDelay separates the "auth" packet from the CONNECT answer.
const connectedDelay = 5 * time.Millisecond

func (h suiteHandler) Event(s *socketio.Socket, e socketio.Event) {
	if s.Namespace() != "/" {
		return // the suite's /custom only emits "auth"
	}
	var err error
	switch {
	case e.Name == "message":
		err = s.Emit("message-back", e.Args, e.Attachments)
	case e.Name == "message-with-ack" && e.Ack != nil:
		err = e.Ack(e.Args, e.Attachments)
	}
	if err != nil {
		h.log.Debug("answer failed", "err", err)
	}
}
