package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/internal/safeio"
)

// readJSON reads a request body — already bounded by MaxBody — and
// decodes exactly one JSON value from it, after counting its values
// against the Elements limit: decoded, each value costs tens of bytes
// more than its text, so a body is measured before it is decoded. Numbers
// keep their text so that integers and floats are checked, not rounded.
func (s *Server) readJSON(r *http.Request, v any) error {
	body, err := safeio.ReadAll(r.Body, r.ContentLength, -1)
	if err != nil {
		return bodyError(err)
	}
	if n := countJSONValues(body, s.cfg.Limits.Elements); n > s.cfg.Limits.Elements {
		return overLimit("max-elements", "JSON values", int64(n), int64(s.cfg.Limits.Elements))
	}
	return decodeJSON(bytes.NewReader(body), v)
}

// decodeJSON decodes exactly one JSON value from r.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return bodyError(err)
		}
		return errorf(http.StatusBadRequest, "malformed JSON body: more than one value")
	}
	return nil
}

// bodyError turns a body read or decode error into its HTTP answer: 413
// past the limit, 400 otherwise.
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", tooLarge.Limit)
	}
	if errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "malformed JSON body: empty")
	}
	return errorf(http.StatusBadRequest, "malformed JSON body: %v", err)
}

// flatten lists a tensor's elements: the protocol allows the data both
// flat and nested by shape.
func flatten(v any, out []any) []any {
	if a, ok := v.([]any); ok {
		for _, e := range a {
			out = flatten(e, out)
		}
		return out
	}
	return append(out, v)
}

// tensorInput is a request input of the Open Inference Protocol.
type tensorInput struct {
	Name       string         `json:"name"`
	Shape      []int64        `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       any            `json:"data"`
}

// checkShape checks an input's datatype and shape against its spec (rank
// dims, each matching the spec's where it is not −1), and its size
// against the Elements limit, and returns its size.
func checkShape(name, datatype string, shape []int64, spec api.TensorSpec, limit int) (int64, error) {
	if datatype != spec.Datatype {
		return 0, errorf(http.StatusBadRequest, "input %q: datatype %q, want %s", name, datatype, spec.Datatype)
	}
	want := spec.Shape
	if len(shape) != len(want) {
		return 0, errorf(http.StatusBadRequest, "input %q: shape %v, want %s", name, shape, shapeString(want))
	}
	size := int64(1)
	for i, d := range shape {
		if d < 0 || (want[i] >= 0 && d != want[i]) {
			return 0, errorf(http.StatusBadRequest, "input %q: shape %v, want %s", name, shape, shapeString(want))
		}
		if d > int64(limit) || size*d > int64(limit) {
			return 0, overLimit("max-elements", fmt.Sprintf("input values in %q (shape %v)", name, shape), max(d, size*d), int64(limit))
		}
		size *= d
	}
	return size, nil
}

// elements checks the input (checkShape) and returns its elements: data
// flat, or nested exactly as the shape.
func (t *tensorInput) elements(spec api.TensorSpec, limit int) ([]any, error) {
	size, err := checkShape(t.Name, t.Datatype, t.Shape, spec, limit)
	if err != nil {
		return nil, err
	}
	data, ok := t.Data.([]any)
	if !ok {
		if t.Data == nil {
			return nil, errorf(http.StatusBadRequest, "input %q: no data", t.Name)
		}
		return nil, errorf(http.StatusBadRequest, "input %q: data is %s, want an array", t.Name, jsonType(t.Data))
	}
	nested := slices.ContainsFunc(data, func(e any) bool { _, isArr := e.([]any); return isArr })
	if nested && !nestedAs(data, t.Shape) {
		return nil, errorf(http.StatusBadRequest, "input %q: data nested otherwise than shape %v (give it flat, or nested as the shape)", t.Name, t.Shape)
	}
	el := data
	if nested {
		el = flatten(data, make([]any, 0, size))
	}
	if int64(len(el)) != size {
		return nil, errorf(http.StatusBadRequest, "input %q: %d elements for shape %v", t.Name, len(el), t.Shape)
	}
	return el, nil
}

func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "N"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func intOf(name string, e any) (int, error) {
	n, ok := e.(json.Number)
	if !ok {
		return 0, errorf(http.StatusBadRequest, "%s is %s, want an integer", name, jsonType(e))
	}
	i, err := n.Int64()
	if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
		return 0, errorf(http.StatusBadRequest, "%s is %s, want a 32-bit integer", name, n)
	}
	return int(i), nil
}

func jsonType(e any) string {
	switch e.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	}
	return "an array"
}
