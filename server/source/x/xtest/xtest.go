// Package xtest is a fake X API v2 filtered stream for tests. It keeps
// stream rules the way X does (GET and POST /2/tweets/search/stream/rules,
// with ids, tags, duplicate and invalid rules), checks the bearer token,
// and serves GET /2/tweets/search/stream in X's wire format (a chunked
// response of "\r\n"-delimited JSON messages, with blank keep-alive
// lines), while the test decides, connection by connection, what the
// stream says.
package xtest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tweetwire/tweetwire/server/source/streamtest"
)

const (
	// StreamPath and RulesPath are the endpoints served.
	StreamPath = "/2/tweets/search/stream"
	RulesPath  = StreamPath + "/rules"

	// OperationalDisconnect is the message X sends before closing a
	// stream for its own reasons.
	OperationalDisconnect = `{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"This stream has been disconnected upstream for operational reasons.","type":"https://api.x.com/2/problems/operational-disconnect"}]}`
	// TooManyConnections is X's answer, with status 429, to a second
	// connection of an app allowed one.
	TooManyConnections = `{"title":"ConnectionException","detail":"This stream is currently at the maximum allowed connection limit.","connection_issue":"TooManyConnections","type":"https://api.x.com/2/problems/streaming-connection"}`
	// ClientForbidden is X's answer, with status 403, to an app whose
	// access level has no filtered stream.
	ClientForbidden = `{"client_id":"1","detail":"When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.","registration_url":"https://developer.x.com/en/portal/projects-and-apps","title":"Client Forbidden","required_enrollment":"Appropriate Level of API Access","reason":"client-not-enrolled","type":"https://api.x.com/2/problems/client-forbidden"}`

	unauthorized = `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`
)

// Rule is a stream rule.
type Rule struct {
	ID    string `json:"id"`
	Value string `json:"value"`
	Tag   string `json:"tag,omitempty"`
}

// Server is a fake X API on loopback.
type Server struct {
	// URL is the base URL to give the client, without a path.
	URL string

	token    string
	hs       *httptest.Server
	ep       *streamtest.Endpoint
	requests atomic.Int64

	mu           sync.Mutex
	rules        []Rule
	nextID       int
	invalid      func(value string) string
	rulesStatus  int
	rulesBody    string
	ruleRequests int
}

// NewServer starts a server that accepts the bearer token and answers
// anything else with 401, as X does.
func NewServer(token string) *Server {
	s := &Server{token: token, ep: streamtest.NewEndpoint(), nextID: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+StreamPath, func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if !s.authorized(w, r) {
			return
		}
		s.ep.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET "+RulesPath, s.listRules)
	mux.HandleFunc("POST "+RulesPath, s.changeRules)
	s.hs = httptest.NewServer(mux)
	s.URL = s.hs.URL
	return s
}

// Close ends every stream and stops the server.
func (s *Server) Close() {
	s.ep.Close()
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// Requests is how many stream requests arrived, including refused ones.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// RuleRequests is how many rules requests arrived.
func (s *Server) RuleRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ruleRequests
}

// Accept waits for the next authorised stream connection. The test then
// answers it: Reject with a status, or Open and Send messages.
func (s *Server) Accept(ctx context.Context) (*streamtest.Conn, error) { return s.ep.Accept(ctx) }

// Open accepts the next stream connection and opens it as X does.
func (s *Server) Open(ctx context.Context) (*streamtest.Conn, error) {
	return s.ep.Open(ctx, "application/json; charset=utf-8")
}

// Rules returns the rules, oldest first.
func (s *Server) Rules() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rule(nil), s.rules...)
}

// AddRule adds a rule as another tool would, and returns it.
func (s *Server) AddRule(value, tag string) Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(value, tag)
}

func (s *Server) addLocked(value, tag string) Rule {
	s.nextID++
	r := Rule{ID: strconv.Itoa(s.nextID), Value: value, Tag: tag}
	s.rules = append(s.rules, r)
	return r
}

// RefuseRules makes the server refuse every rule value for which why
// returns a reason, as X refuses a rule it cannot parse.
func (s *Server) RefuseRules(why func(value string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalid = why
}

// FailRules makes every rules request answer status with body, until
// called with status 0.
func (s *Server) FailRules(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rulesStatus, s.rulesBody = status, body
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") == "Bearer "+s.token {
		return true
	}
	writeJSON(w, http.StatusUnauthorized, unauthorized)
	return false
}

// failing answers a rules request that FailRules set up to fail.
func (s *Server) failing(w http.ResponseWriter) bool {
	s.mu.Lock()
	s.ruleRequests++
	status, body := s.rulesStatus, s.rulesBody
	s.mu.Unlock()
	if status == 0 {
		return false
	}
	writeJSON(w, status, body)
	return true
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || s.failing(w) {
		return
	}
	rules := s.Rules()
	out := map[string]any{"meta": map[string]any{"sent": sent(), "result_count": len(rules)}}
	if len(rules) > 0 {
		out["data"] = rules
	}
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, string(b))
}

func (s *Server) changeRules(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || s.failing(w) {
		return
	}
	var req struct {
		Add []struct {
			Value string `json:"value"`
			Tag   string `json:"tag"`
		} `json:"add"`
		Delete *struct {
			IDs []string `json:"ids"`
		} `json:"delete"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || (req.Add == nil) == (req.Delete == nil) {
		writeJSON(w, http.StatusBadRequest, `{"errors":[{"message":"Request must have either add or delete"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.x.com/2/problems/invalid-request"}`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	var errs []map[string]any
	if req.Delete != nil {
		deleted := 0
		for _, id := range req.Delete.IDs {
			for i, r := range s.rules {
				if r.ID == id {
					s.rules = append(s.rules[:i], s.rules[i+1:]...)
					deleted++
					break
				}
			}
		}
		out["meta"] = map[string]any{"sent": sent(), "summary": map[string]any{"deleted": deleted, "not_deleted": len(req.Delete.IDs) - deleted}}
	} else {
		var created []Rule
		invalid := 0
	next:
		for _, a := range req.Add {
			if s.invalid != nil {
				if why := s.invalid(a.Value); why != "" {
					invalid++
					errs = append(errs, map[string]any{"value": a.Value, "details": []string{why}, "title": "UnprocessableEntity", "type": "https://api.x.com/2/problems/invalid-rules"})
					continue
				}
			}
			for _, r := range s.rules {
				if r.Value == a.Value {
					errs = append(errs, map[string]any{"value": a.Value, "id": r.ID, "title": "DuplicateRule", "type": "https://api.x.com/2/problems/duplicate-rules"})
					continue next
				}
			}
			created = append(created, s.addLocked(a.Value, a.Tag))
		}
		if len(created) > 0 {
			out["data"] = created
		}
		out["meta"] = map[string]any{"sent": sent(), "summary": map[string]any{"created": len(created), "not_created": len(req.Add) - len(created), "valid": len(req.Add) - invalid, "invalid": invalid}}
	}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, string(b))
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func sent() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// Post is a post as the fake sends it, with its author included.
type Post struct {
	ID, Text string
	// Username and Name are the author's.
	Username, Name string
	Hashtags       []string
	// Note, when set, makes this a long post: Text is cut and the full
	// text is note_tweet.text, whose hashtags are Hashtags.
	Note string
	// CreatedAt is 2026-11-25T18:00:00Z when zero.
	CreatedAt time.Time
	// Lang is "en" when empty.
	Lang string
	// RuleIDs are the rules the post matched.
	RuleIDs []string
	// Retweets, when set, makes this a repost of that post, which is
	// included with its author.
	Retweets *Post
}

// Line returns the stream message for p.
func (p Post) Line() string {
	data := p.data()
	users := []map[string]any{p.user()}
	includes := map[string]any{"users": users}
	if o := p.Retweets; o != nil {
		data["referenced_tweets"] = []map[string]any{{"type": "retweeted", "id": o.ID}}
		includes["tweets"] = []map[string]any{o.data()}
		includes["users"] = append(users, o.user())
	}
	msg := map[string]any{"data": data, "includes": includes}
	if len(p.RuleIDs) > 0 {
		var rules []map[string]any
		for _, id := range p.RuleIDs {
			rules = append(rules, map[string]any{"id": id, "tag": "tweetwire"})
		}
		msg["matching_rules"] = rules
	}
	b, _ := json.Marshal(msg)
	return string(b)
}

func (p Post) data() map[string]any {
	created := p.CreatedAt
	if created.IsZero() {
		created = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	}
	lang := p.Lang
	if lang == "" {
		lang = "en"
	}
	var tags []map[string]any
	for _, h := range p.Hashtags {
		tags = append(tags, map[string]any{"start": 0, "end": len(h) + 1, "tag": h})
	}
	ents := map[string]any{"hashtags": tags}
	d := map[string]any{
		"id": p.ID, "text": p.Text, "author_id": p.authorID(), "lang": lang,
		"created_at":             created.UTC().Format("2006-01-02T15:04:05.000Z"),
		"edit_history_tweet_ids": []string{p.ID},
	}
	if p.Note != "" {
		d["note_tweet"] = map[string]any{"text": p.Note, "entities": ents}
	} else if tags != nil {
		d["entities"] = ents
	}
	return d
}

func (p Post) user() map[string]any {
	return map[string]any{
		"id": p.authorID(), "username": p.Username, "name": p.Name,
		"profile_image_url": "https://pbs.twimg.com/profile_images/1/" + p.Username + "_normal.jpg",
	}
}

// authorID is a stable numeric id for the username.
func (p Post) authorID() string {
	h := fnv.New64a()
	h.Write([]byte(p.Username))
	return fmt.Sprint(h.Sum64() >> 1)
}

// Delete returns the v2 compliance event for a deleted post.
func Delete(id string) string {
	return fmt.Sprintf(`{"data":{"delete":{"tweet":{"id":%q,"author_id":"1"},"event_at":"2026-11-25T18:05:00.000Z"}}}`, id)
}
