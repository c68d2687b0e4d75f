package socketio

import "net/http"

// EngineConn is a bare Engine.IO session, for NewEngine's callers.
type EngineConn struct{ s *session }

// Send writes one MESSAGE packet to the client.
func (c *EngineConn) Send(data []byte, binary bool) error {
	return c.s.send(packet{typ: eioMessage, data: data, binary: binary})
}

// NewEngine serves bare Engine.IO, without Socket.IO on top: onMessage is
// called with each MESSAGE a client sends, from the session's reader.
// cfg's Hub, Handler and OnWrite are not used. The product has no use for
// it; the conformance server runs the Engine.IO test suite against it,
// which tests the very engine the product's Server runs on.
func NewEngine(cfg Config, onMessage func(c *EngineConn, data []byte, binary bool)) http.Handler {
	cfg.Handler = nil
	s := New(cfg) // for its defaults and its origin check
	s.engine = newEngine(s.engine.cfg, bareHandler(onMessage))
	return s
}

// bareHandler adapts a message callback to the engine.
type bareHandler func(c *EngineConn, data []byte, binary bool)

func (h bareHandler) open(s *session) { s.data = &EngineConn{s} }

func (h bareHandler) message(s *session, p packet) { h(s.data.(*EngineConn), p.data, p.binary) }

// The bare engine's messages go through the session's queue only.
func (h bareHandler) pull(_ *session, dst []packet) []packet { return dst }
func (h bareHandler) upgraded(*session)                      {}

func (h bareHandler) closed(*session, string) {}
