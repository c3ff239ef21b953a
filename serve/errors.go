package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tapeml/tapeml/api"
)

// The one error mapping of both protocols: an error's HTTP status (gRPC
// maps the status to its codes), and what a client is told — its own
// mistakes in full, the server's own failures only as a request id that
// the server's log holds with the details (paths, internal operations).

// httpError is an error with the HTTP status it answers.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// statusOf is the HTTP status of an error.
func statusOf(err error) int {
	var he *httpError
	var le *LimitError
	var bad *api.InputError
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.As(err, &le):
		return statusOfLimit
	case errors.As(err, &bad):
		return http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// inferError gives a model's error its HTTP status: a request gone or
// cancelled is 503 whatever the model said.
func inferError(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		var he *httpError
		if !errors.As(err, &he) {
			return errorf(http.StatusServiceUnavailable, "request cancelled: %v", context.Cause(ctx))
		}
	}
	return err
}

// errorJSON is every error's body.
type errorJSON struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// publicError is what a client is told of err, and its status: the
// message of an error of its request (4xx, a model version unavailable, a
// non-finite output), or for the server's own failures a line that
// points to the log.
func (s *Server) publicError(ctx context.Context, err error) (int, string) {
	code := statusOf(err)
	id := requestID(ctx)
	var nf *api.NonFiniteError
	var he *httpError
	switch {
	case errors.As(err, &nf):
		s.log.Warn("non-finite model output", "id", id, "err", err)
		return code, fmt.Sprintf("the model cannot answer this input: %v", nf)
	case code == http.StatusInternalServerError && !errors.As(err, &he):
		s.log.Error("request failed", "id", id, "err", err)
		return code, fmt.Sprintf("internal error (request id %s; the server's log has the details)", id)
	case code >= 500:
		s.log.Warn("request failed", "id", id, "err", err)
	}
	return code, err.Error()
}

// errorBody is an error's status and body.
func (s *Server) errorBody(ctx context.Context, err error) (int, any) {
	code, msg := s.publicError(ctx, err)
	return code, errorJSON{Error: msg, RequestID: requestID(ctx)}
}

type requestIDKey struct{}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDOf keeps a client's X-Request-Id when it is a plain token, or
// makes one.
func requestIDOf(given string) string {
	if len(given) > 0 && len(given) <= 64 && strings.Trim(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == "" {
		return given
	}
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// absPath matches an absolute path in a message.
var absPath = regexp.MustCompile(`(^|[\s"'(=:])(/[^\s"'():,]+)`)

// relativeTo rewrites the paths of a message that clients see (a
// version's load failure) relative to the repository, and keeps only the
// last element of any other absolute path: clients learn which file of
// the repository is wrong, not where the server keeps it.
func relativeTo(dirs []string, msg string) string {
	for _, d := range dirs {
		if d != "" && d != "/" {
			msg = strings.ReplaceAll(msg, strings.TrimSuffix(d, "/")+"/", "")
		}
	}
	return absPath.ReplaceAllStringFunc(msg, func(m string) string {
		i := strings.IndexByte(m, '/')
		return m[:i] + "…/" + filepath.Base(m[i:])
	})
}
