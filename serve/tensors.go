package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	_ "image/jpeg" // the image input takes PNG and JPEG
	_ "image/png"
	"io"
	"math"
	"net/http"
	"strings"
)

// decodeJSON reads exactly one JSON value from a request body that the
// server already bounded (http.MaxBytesReader). Numbers keep their text
// so that integers and floats are checked, not rounded.
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

// elements checks the input's datatype and shape (rank dims, each
// matching want where want is not −1) and returns its elements.
func (t *tensorInput) elements(datatype string, want ...int64) ([]any, error) {
	if t.Datatype != datatype {
		return nil, errorf(http.StatusBadRequest, "input %q: datatype %q, want %s", t.Name, t.Datatype, datatype)
	}
	if len(t.Shape) != len(want) {
		return nil, errorf(http.StatusBadRequest, "input %q: shape %v, want %s", t.Name, t.Shape, shapeString(want))
	}
	size := int64(1)
	for i, d := range t.Shape {
		if d < 0 || (want[i] >= 0 && d != want[i]) {
			return nil, errorf(http.StatusBadRequest, "input %q: shape %v, want %s", t.Name, t.Shape, shapeString(want))
		}
		size *= d
		if size > math.MaxInt32 {
			return nil, errorf(http.StatusBadRequest, "input %q: shape %v is too large", t.Name, t.Shape)
		}
	}
	if t.Data == nil {
		return nil, errorf(http.StatusBadRequest, "input %q: no data", t.Name)
	}
	el := flatten(t.Data, nil)
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
