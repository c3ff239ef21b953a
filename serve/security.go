package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// What keeps a server on a network — or on a laptop whose user opens web
// pages — from being driven by others: bearer tokens, an origin policy,
// JSON bodies only, and loopback servers answering loopback names only.

// tokens are the accepted bearer tokens, as SHA-256 sums: comparing sums
// of equal length in constant time tells nothing of a token's length or
// its first differing byte.
type tokens struct{ sums [][sha256.Size]byte }

func newTokens(list []string) *tokens {
	t := &tokens{}
	for _, s := range list {
		t.sums = append(t.sums, sha256.Sum256([]byte(s)))
	}
	return t
}

func (t *tokens) enabled() bool { return len(t.sums) > 0 }

// valid compares a token with every accepted one, all of them every time.
func (t *tokens) valid(token string) bool {
	sum := sha256.Sum256([]byte(token))
	ok := 0
	for i := range t.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], t.sums[i][:])
	}
	return ok == 1
}

// bearer is the token of an "Authorization: Bearer TOKEN" header, or "".
func bearer(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// pagePath reports whether a path is the web page, its files or the API
// description: public documents, not the API.
func pagePath(path string) bool {
	return path == "/" || strings.HasPrefix(path, "/static/") || path == "/openapi.json"
}

// openPath reports whether a path is served without a token: the page and
// its files, the API description, and health and metrics if asked.
func (s *Server) openPath(path string) bool {
	switch {
	case pagePath(path):
		return true
	case path == "/v2/health/live" || path == "/v2/health/ready" || path == "/metrics":
		return s.cfg.OpenHealth
	}
	return false
}

// validOrigin reports whether o is an origin: scheme://host[:port].
func validOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" && u.RawQuery == "" && u.User == nil
}

// originAllowed reports whether a browser request from origin may call
// the API: the server's own origin, or one of CORSOrigins.
func (s *Server) originAllowed(r *http.Request, origin string) (same, allowed bool) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if strings.EqualFold(origin, scheme+"://"+r.Host) {
		return true, true
	}
	return false, slices.Contains(s.cfg.CORSOrigins, "*") || slices.Contains(s.cfg.CORSOrigins, origin)
}

// loopbackHost reports whether a Host header names this machine's
// loopback interface. A server listening on loopback answers only such
// names: a page whose own name is re-pointed at 127.0.0.1 (DNS
// rebinding) is then refused although its requests look same-origin.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard enforces the host, origin, token and content-type rules before
// any handler runs.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if ta, ok := la.(*net.TCPAddr); ok && ta.IP.IsLoopback() && !loopbackHost(r.Host) {
				s.writeError(w, r, errorf(http.StatusForbidden, "host %q: a server on a loopback address answers loopback names only", r.Host))
				return
			}
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			same, allowed := s.originAllowed(r, origin)
			if !allowed {
				s.writeError(w, r, errorf(http.StatusForbidden, "origin %q is not allowed to call this server (cors-origin)", origin))
				return
			}
			if !same {
				h := w.Header()
				h.Set("Access-Control-Allow-Origin", origin)
				h.Add("Vary", "Origin")
				h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
				if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
					h.Set("Access-Control-Allow-Methods", "GET, POST")
					h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
					h.Set("Access-Control-Max-Age", "600")
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
		} else if r.Header.Get("Sec-Fetch-Site") == "cross-site" && !pagePath(r.URL.Path) && !slices.Contains(s.cfg.CORSOrigins, "*") {
			// A cross-site request to the API that carries no Origin (an
			// image, a script): nothing of the API is for it. A link to
			// the page is fine.
			s.writeError(w, r, errorf(http.StatusForbidden, "cross-site requests are not allowed (cors-origin)"))
			return
		}
		if s.auth.enabled() && !s.openPath(r.URL.Path) && !s.auth.valid(bearer(r.Header.Get("Authorization"))) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tapeml"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, "missing or invalid bearer token"))
			return
		}
		if r.Method == http.MethodPost && r.ContentLength != 0 {
			// Browsers send text/plain, forms and no type at all
			// cross-site without asking first; JSON they do not.
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				s.writeError(w, r, errorf(http.StatusUnsupportedMediaType, "Content-Type %q: a request body must be application/json", r.Header.Get("Content-Type")))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
