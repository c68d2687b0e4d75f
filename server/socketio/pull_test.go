package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tweetwire/tweetwire/server/hub"
	"github.com/tweetwire/tweetwire/server/tweet/tweettest"
)

// worldPosts are n posts as the services send them (emoji, CJK,
// right-to-left, markup), as hub messages with their index as id.
func worldPosts(t *testing.T, n int) []*hub.Message {
	t.Helper()
	var out []*hub.Message
	for i, p := range tweettest.Posts(n, 16) {
		p.ID = fmt.Sprint(i)
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &hub.Message{Kind: hub.KindTweet, ID: p.ID, Data: data})
	}
	return out
}

// postIDs reads the ids of the tweet events among Socket.IO packets.
func postIDs(t *testing.T, pkts [][]byte) []string {
	t.Helper()
	var ids []string
	for _, b := range pkts {
		body, ok := strings.CutPrefix(string(b), `2["tweet",`)
		if !ok {
			continue
		}
		var p struct{ ID string }
		if err := json.Unmarshal([]byte(strings.TrimSuffix(body, "]")), &p); err != nil {
			t.Fatalf("event %q: %v", b, err)
		}
		ids = append(ids, p.ID)
	}
	return ids
}

// Posts published all the while a client polls, probes a WebSocket and
// upgrades to it reach it each once and in order: the polls take them
// from the hub's queue, and at the upgrade whatever the polls were to
// take goes to the writers (conn.pull, Server.upgraded).
func TestPollsTakeEveryPostInOrderAcrossTheUpgrade(t *testing.T) {
	for _, eio := range []string{"3&b64=1", "4"} {
		t.Run("EIO="+eio, func(t *testing.T) {
			srv, h := testServer(t, Config{PingInterval: time.Minute, PingTimeout: time.Minute})
			posts := worldPosts(t, 400)
			_, _, body := get(t, srv.URL+"/socket.io/?EIO="+eio+"&transport=polling")
			var open struct{ SID string }
			if err := json.Unmarshal([]byte(body[strings.Index(body, "{"):]), &open); err != nil {
				t.Fatalf("handshake %q: %v", body, err)
			}
			sid := srv.URL + "/socket.io/?EIO=" + eio + "&transport=polling&sid=" + open.SID
			decode := decodePayloadV4
			if eio != "4" {
				decode = decodePayloadV3Text
			} else if code, _ := post(t, sid, "text/plain;charset=UTF-8", "40"); code != 200 {
				t.Fatalf("CONNECT: %d", code)
			}
			var got [][]byte
			poll := func() {
				t.Helper()
				code, _, body := get(t, sid)
				pkts, err := decode([]byte(body))
				if code != 200 || err != nil {
					t.Fatalf("poll: %d %q: %v", code, body, err)
				}
				for _, p := range pkts {
					got = append(got, p.data)
				}
			}
			for !strings.Contains(fmt.Sprintf("%s", got), `2["backlog",`) {
				poll()
			}

			// Publish throughout, a post a millisecond.
			published := make(chan struct{})
			go func() {
				defer close(published)
				for _, m := range posts {
					if err := h.Publish(context.Background(), m); err != nil {
						t.Error(err)
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			for len(postIDs(t, got)) < 100 {
				poll()
			}
			ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(strings.Replace(sid, "http", "ws", 1), "polling", "websocket", 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
				t.Fatal(err)
			}
			if _, b, err := ws.ReadMessage(); err != nil || string(b) != "3probe" {
				t.Fatalf("probe answered %q, %v", b, err)
			}
			// The poll engine.io-client still has out ends (with NOOP,
			// or with posts taken before the probe) before it upgrades.
			poll()
			if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
				t.Fatal(err)
			}
			for len(postIDs(t, got)) < len(posts) {
				_, b, err := ws.ReadMessage()
				if err != nil {
					t.Fatalf("after %d posts: %v", len(postIDs(t, got)), err)
				}
				if b[0] == '4' {
					got = append(got, b[1:])
				}
			}
			<-published
			ids := postIDs(t, got)
			for i, id := range ids {
				if id != fmt.Sprint(i) {
					t.Fatalf("post %d is %s: posts out of order or twice (%v)", i, id, ids[max(0, i-3):min(len(ids), i+3)])
				}
			}
		})
	}
}

// A client that stops polling stops taking posts: its hub queue fills and
// it is dropped as slow, rather than posts piling up in the server.
func TestAClientThatStopsPollingIsDroppedAsSlow(t *testing.T) {
	srv, h := testServer(t, Config{Hub: hub.New(hub.Config{Backlog: 5, QueueSize: 16}), PingInterval: time.Minute, PingTimeout: time.Minute})
	_, _, body := get(t, srv.URL+"/socket.io/?EIO=4&transport=polling")
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		t.Fatalf("handshake %q: %v", body, err)
	}
	sid := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + open.SID
	if code, _ := post(t, sid, "text/plain;charset=UTF-8", "40"); code != 200 {
		t.Fatalf("CONNECT: %d", code)
	}
	pollUntil(t, sid, `42["backlog",`)
	for _, m := range worldPosts(t, 40) {
		if err := h.Publish(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	// The 17th post found the queue full: the client is gone, and its
	// polls end with the session's CLOSE, after at most the 16 posts its
	// queue held, or the session is gone by the next poll.
	deadline := time.Now().Add(5 * time.Second)
	for h.Clients() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.Clients() != 0 {
		t.Fatalf("the hub still has %d clients", h.Clients())
	}
	var posts [][]byte
	for range 3 {
		code, _, body := get(t, sid)
		if code == 400 && strings.Contains(body, "Session ID unknown") {
			return // closed and gone before this poll came
		}
		pkts, err := decodePayloadV4([]byte(body))
		if code != 200 || err != nil || len(pkts) == 0 {
			t.Fatalf("poll after the drop: %d %q: %v", code, body, err)
		}
		for _, p := range pkts {
			posts = append(posts, p.data)
		}
		if pkts[len(pkts)-1].typ == eioClose {
			if n := len(postIDs(t, posts)); n > 16 {
				t.Errorf("%d posts after the queue of 16 overflowed", n)
			}
			return
		}
	}
	t.Fatalf("three polls after the drop and no CLOSE: %d posts", len(postIDs(t, posts)))
}
