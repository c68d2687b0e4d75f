// Package twittertest is a fake stream.twitter.com for tests. It speaks
// the wire format of the v1.1 filter stream (POST statuses/filter.json
// answered by a chunked response of "\r\n"-delimited JSON messages, with
// blank keep-alive lines) and checks OAuth 1.0a signatures the way Twitter
// did, while the test decides, connection by connection, what the stream
// says.
package twittertest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/tweetwire/tweetwire/server/source/streamtest"
)

// FilterPath is the path of the filter stream.
const FilterPath = "/1.1/statuses/filter.json"

// SignedURL is the URL a client signs: the real endpoint's. anaconda signs
// it whatever host the request is finally sent to, as a client of a
// forwarding proxy must.
const SignedURL = "https://stream.twitter.com" + FilterPath

// Credentials are the four OAuth 1.0a user-context values.
type Credentials struct {
	ConsumerKey, ConsumerSecret, AccessToken, AccessSecret string
}

// Server is a fake filter stream on loopback.
type Server struct {
	// URL is the base URL to give the client, without a path.
	URL string

	creds    Credentials
	requests atomic.Int64
	hs       *httptest.Server
	ep       *streamtest.Endpoint
}

// NewServer starts a server that accepts requests signed with creds and
// answers any other with 401, as Twitter did.
func NewServer(creds Credentials) *Server {
	s := &Server{creds: creds, ep: streamtest.NewEndpoint()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+FilterPath, func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if err := s.verify(r); err != "" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `OAuth realm="Firehose"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":32,"message":"Could not authenticate you."}]}`))
			return
		}
		s.ep.ServeHTTP(w, r)
	})
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

// Requests is how many requests reached the filter stream, including
// those refused for their signature.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Accept waits for the next correctly signed connection. The test then
// answers it: Reject with a status, or Open and Send messages.
func (s *Server) Accept(ctx context.Context) (*streamtest.Conn, error) { return s.ep.Accept(ctx) }

// Open accepts the next connection and opens its stream, the way Twitter
// answered: 200 with a JSON content type.
func (s *Server) Open(ctx context.Context) (*streamtest.Conn, error) {
	return s.ep.Open(ctx, "application/json")
}

// verify checks r's OAuth 1.0a HMAC-SHA1 signature (RFC 5849, section
// 3.4) against SignedURL and returns what is wrong, or "".
func (s *Server) verify(r *http.Request) string {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "OAuth ")
	if !ok {
		return "no OAuth Authorization header"
	}
	oauth := map[string]string{}
	for _, kv := range strings.Split(auth, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return "malformed Authorization header"
		}
		uv, err := url.PathUnescape(strings.Trim(v, `"`))
		if err != nil {
			return "malformed Authorization header"
		}
		oauth[k] = uv
	}
	if oauth["oauth_consumer_key"] != s.creds.ConsumerKey || oauth["oauth_token"] != s.creds.AccessToken {
		return "unknown consumer key or token"
	}
	if oauth["oauth_signature_method"] != "HMAC-SHA1" {
		return "signature method is not HMAC-SHA1"
	}
	if err := r.ParseForm(); err != nil {
		return "malformed form"
	}
	var params []string
	for k, v := range oauth {
		if k != "oauth_signature" && k != "realm" {
			params = append(params, enc(k)+"="+enc(v))
		}
	}
	for k, vs := range r.Form {
		for _, v := range vs {
			params = append(params, enc(k)+"="+enc(v))
		}
	}
	sort.Strings(params)
	base := r.Method + "&" + enc(SignedURL) + "&" + enc(strings.Join(params, "&"))
	mac := hmac.New(sha1.New, []byte(enc(s.creds.ConsumerSecret)+"&"+enc(s.creds.AccessSecret)))
	mac.Write([]byte(base))
	if !hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(oauth["oauth_signature"])) {
		return "bad signature"
	}
	return ""
}

// enc is RFC 3986 percent-encoding, which OAuth 1.0a requires: everything
// but ALPHA, DIGIT, "-", ".", "_" and "~" is escaped.
func enc(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hexByte(c)))
		}
	}
	return b.String()
}

func hexByte(c byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[c>>4], digits[c&15]})
}
