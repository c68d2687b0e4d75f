package socketio

import (
	"encoding/json"
	"fmt"
)

// Handler serves namespaces and client events, for programs other than
// the product (the conformance server). Its methods run on the
// connection's reader: they must not block for long.
type Handler interface {
	// Namespace reports whether clients may join nsp ("/", "/custom").
	Namespace(nsp string) bool
	// Connected is called once the client has been told it joined.
	Connected(s *Socket)
	// Event is called for each event the client emits.
	Event(s *Socket, e Event)
}

// Event is an event a client emitted.
type Event struct {
	Name string
	// Args are the arguments after the name, as the client encoded them;
	// binary ones are placeholders {"_placeholder":true,"num":N} for
	// Attachments[N].
	Args        []json.RawMessage
	Attachments [][]byte
	// Ack, when the client asked for one, answers with args (and their
	// attachments, referred to by placeholders as in Args).
	Ack func(args []json.RawMessage, attachments [][]byte) error
}

// Socket is a client's membership of one namespace.
type Socket struct {
	c   *conn
	nsp string
	id  string
	// Auth is the CONNECT packet's payload (Socket.IO 5), nil if none.
	Auth json.RawMessage
}

// ID is the socket's id, sent to Socket.IO 5 clients as {"sid": ...}.
func (s *Socket) ID() string { return s.id }

// Namespace is the namespace the socket joined.
func (s *Socket) Namespace() string { return s.nsp }

// Emit sends an event with arguments encoded as in Event.Args.
func (s *Socket) Emit(name string, args []json.RawMessage, attachments [][]byte) error {
	n, err := json.Marshal(name)
	if err != nil {
		return fmt.Errorf("emit %q: %w", name, err)
	}
	return s.write(sioEvent, -1, n, args, attachments)
}

// write sends an EVENT (name set) or ACK, BINARY_ when there are
// attachments, followed by the attachments as binary packets.
func (s *Socket) write(typ byte, id int64, name json.RawMessage, args []json.RawMessage, att [][]byte) error {
	if len(att) > 0 {
		typ += sioBinaryEvent - sioEvent // EVENT→BINARY_EVENT, ACK→BINARY_ACK
	}
	b := appendPacketHeader(nil, typ, len(att), s.nsp, id)
	b = append(b, '[')
	if name != nil {
		b = append(b, name...)
	}
	for i, a := range args {
		if i > 0 || name != nil {
			b = append(b, ',')
		}
		b = append(b, a...)
	}
	b = append(b, ']')
	pkts := make([]packet, 0, 1+len(att))
	pkts = append(pkts, packet{typ: eioMessage, data: b})
	for _, a := range att {
		pkts = append(pkts, packet{typ: eioMessage, data: a, binary: true})
	}
	return s.c.sess.send(pkts...)
}
