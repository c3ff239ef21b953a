package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/api"
)

func TestCountJSONValues(t *testing.T) {
	for _, c := range []struct {
		json string
		want int
	}{
		{`[]`, 1},
		{`[1, 2.5e-3, -4, true, false, null]`, 7},
		{`{"a": 1, "b": "x"}`, objectWeight + 2},
		{`{"inputs":[{"name":"text","data":["a\"b:", "c\\", ":"]}]}`, 2*objectWeight + 2 + 1 + 3},
		{`"key" : "value"`, 1}, // a key is what a ':' follows
		{`[[[0,0],[0,0]]]`, 4 + 4},
		{"[\"\\u00e9\",\n1]", 3},
	} {
		if got := countJSONValues([]byte(c.json), 1<<20); got != c.want {
			t.Errorf("%s: %d values, want %d", c.json, got, c.want)
		}
	}
	// It stops once past the limit.
	if got := countJSONValues([]byte(strings.Repeat("0,", 1000)), 10); got != 11 {
		t.Errorf("past 10: counted %d, want to stop at 11", got)
	}
}

// TestPublicError: the server's own failures reach clients as a request
// id; their details (paths, internal operations) only the log.
func TestPublicError(t *testing.T) {
	var log strings.Builder
	s := &Server{log: slog.New(slog.NewTextHandler(&log, nil))}
	ctx := withRequestID(context.Background(), "abc123")
	internal := fmt.Errorf("tapeml: Infer: gorgonia: op Mul(%s): shape mismatch", "/srv/models/spam/1/model.safetensors")
	code, msg := s.publicError(ctx, internal)
	if code != 500 || strings.Contains(msg, "gorgonia") || strings.Contains(msg, "/srv") || !strings.Contains(msg, "abc123") {
		t.Errorf("internal error: %d %q", code, msg)
	}
	if !strings.Contains(log.String(), "gorgonia") || !strings.Contains(log.String(), "abc123") {
		t.Errorf("the log lacks the details: %s", log.String())
	}
	for _, c := range []struct {
		err  error
		code int
		has  string
	}{
		{api.Invalid(errors.New("input \"text\": no examples")), 400, "no examples"},
		{&api.NonFiniteError{Output: "probs", Example: 2, Value: float32(math.NaN())}, 500, "not finite (NaN) for example 2"},
		{overLimit("max-pixels", "decoded image pixels", 9, 8), 413, "(max-pixels)"},
		{errorf(503, "model %q has no version loaded", "x"), 503, "no version loaded"},
		{context.Canceled, 503, ""},
	} {
		code, msg := s.publicError(ctx, c.err)
		if code != c.code || !strings.Contains(msg, c.has) {
			t.Errorf("%v: %d %q, want %d with %q", c.err, code, msg, c.code, c.has)
		}
	}
}

func TestRelativeTo(t *testing.T) {
	dirs := []string{"/srv/models", "models"}
	for _, c := range []struct{ in, want string }{
		{"tapeml: Load: checkpoint /srv/models/spam/1/meta.json: invalid JSON", "tapeml: Load: checkpoint spam/1/meta.json: invalid JSON"},
		{"open models/x/2: permission denied", "open x/2: permission denied"},
		{"reading /etc/secret/key.pem: no", "reading …/key.pem: no"},
		{`"/home/me/data.csv": not found`, `"…/data.csv": not found`},
	} {
		if got := relativeTo(dirs, c.in); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}
