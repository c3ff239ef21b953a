package serve

import (
	"fmt"
	"net/http"

	"github.com/tapeml/tapeml/api"
)

// Limits bound the work of one request, checked before any of it starts
// — before a JSON body is decoded into values, before an image is
// decoded, before a batch runs — so that a small request cannot ask for
// gigabytes or minutes. A request over a limit is answered 413 with an
// error naming it. Zero fields take the defaults.
type Limits struct {
	// Instances bounds the examples of a request: texts, images, pairs,
	// v1 instances (default 1024).
	Instances int
	// Elements bounds the values of a request: those of a JSON body
	// (numbers, strings, arrays; an object counts as 8), counted before it
	// is decoded, and the elements of its tensors (default 1,048,576:
	// seven 3×224×224 images as pixel arrays).
	Elements int
	// TextBytes bounds the bytes of a request's texts together (default
	// 4 MiB).
	TextBytes int64
	// Pixels bounds the pixels a request's image files decode to,
	// counting the buffers they are resized into (default 33,554,432: two
	// 4096×4096 images).
	Pixels int64
	// Outputs bounds the values of an answer beyond one row per example:
	// a recommender's n × instances items and scores (default 1,048,576).
	Outputs int64
	// ExplainPasses bounds an explanation's attribution passes: inputs ×
	// (IG steps + 2), or × the parts occlusion hides (default 2048: 16
	// texts at 100 steps).
	ExplainPasses int64
}

// DefaultLimits are the limits of `tapeml serve`.
var DefaultLimits = Limits{
	Instances:     1024,
	Elements:      1 << 20,
	TextBytes:     4 << 20,
	Pixels:        1 << 25,
	Outputs:       1 << 20,
	ExplainPasses: 2048,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Instances == 0 {
		l.Instances = d.Instances
	}
	if l.Elements == 0 {
		l.Elements = d.Elements
	}
	if l.TextBytes == 0 {
		l.TextBytes = d.TextBytes
	}
	if l.Pixels == 0 {
		l.Pixels = d.Pixels
	}
	if l.Outputs == 0 {
		l.Outputs = d.Outputs
	}
	if l.ExplainPasses == 0 {
		l.ExplainPasses = d.ExplainPasses
	}
	return l
}

func (l Limits) validate() error {
	if l.Instances < 1 || l.Elements < 1 || l.TextBytes < 1 || l.Pixels < 1 || l.Outputs < 1 || l.ExplainPasses < 1 {
		return fmt.Errorf("serve: limits %+v: want positive values", l)
	}
	return nil
}

// LimitError is a request over one of the Limits: 413.
type LimitError struct {
	Limit string // the limit's name, as `tapeml serve` spells its flag: "max-instances"
	What  string // what was counted: "instances"
	Got   int64  // the count (a lower bound when counting stopped at the limit)
	Max   int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("request has %d %s, over the server's limit of %d (%s)", e.Got, e.What, e.Max, e.Limit)
}

func overLimit(limit, what string, got, max int64) error {
	return &LimitError{Limit: limit, What: what, Got: got, Max: max}
}

// objectWeight is what one JSON object counts for against the Elements
// limit: decoded, a map costs about as much as eight other values.
const objectWeight = 8

// countJSONValues counts the values of a JSON document — strings,
// numbers, booleans, nulls and arrays one each, objects objectWeight
// each, object keys nothing — stopping once past max, so that a body is
// measured before it is decoded into values (the byte "0" becomes a
// value of tens of bytes, the bytes "{}" a map of hundreds). It does not
// validate: the decoder that follows does.
func countJSONValues(b []byte, max int) int {
	n := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			i = j
			// A key is followed by ':'.
			k := i + 1
			for k < len(b) && (b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\r') {
				k++
			}
			if k < len(b) && b[k] == ':' {
				continue
			}
			n++
		case c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n':
			for i+1 < len(b) && isTokenByte(b[i+1]) {
				i++
			}
			n++
		case c == '[':
			n++
		case c == '{':
			n += objectWeight
		default:
			continue
		}
		if n > max {
			return n
		}
	}
	return n
}

func isTokenByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '+' || c == '-'
}

// cost is what a request's inputs will take, summed over the inferences
// it makes.
type cost struct {
	rows, elements, textBytes int64
	api.Cost
}

// add counts one inference's inputs: the rows of its batched inputs, its
// elements, the bytes of its texts, and what the model says it will cost.
func (c *cost) add(v *version, in []api.Tensor) error {
	sig := v.m.Signature()
	rows := int64(0)
	for i := range in {
		t := &in[i]
		spec, _ := sig.Input(t.Name)
		if spec.Batched() {
			rows = max(rows, int64(t.Rows()))
		}
		c.elements += int64(t.Len())
		if t.Datatype == api.BYTES && !spec.Binary {
			for _, b := range t.Bytes {
				c.textBytes += int64(len(b))
			}
		}
	}
	c.rows += max(rows, 1)
	mc, err := v.m.Cost(in)
	if err != nil {
		return err
	}
	c.Pixels += mc.Pixels
	c.Outputs += mc.Outputs
	return nil
}

// check compares a request's cost with the limits.
func (c *cost) check(l Limits) error {
	switch {
	case c.rows > int64(l.Instances):
		return overLimit("max-instances", "instances", c.rows, int64(l.Instances))
	case c.elements > int64(l.Elements):
		return overLimit("max-elements", "input values", c.elements, int64(l.Elements))
	case c.textBytes > l.TextBytes:
		return overLimit("max-text-bytes", "bytes of text", c.textBytes, l.TextBytes)
	case c.Pixels > l.Pixels:
		return overLimit("max-pixels", "decoded image pixels", c.Pixels, l.Pixels)
	case c.Outputs > l.Outputs:
		return overLimit("max-outputs", "output values", c.Outputs, l.Outputs)
	}
	return nil
}

// checkCost bounds a request of one or more inferences before any runs.
func (s *Server) checkCost(v *version, reqs ...[]api.Tensor) error {
	var c cost
	for _, in := range reqs {
		if err := c.add(v, in); err != nil {
			return err
		}
		if err := c.check(s.cfg.Limits); err != nil {
			return err
		}
	}
	return nil
}

// statusOfLimit is the HTTP status of every LimitError.
const statusOfLimit = http.StatusRequestEntityTooLarge
