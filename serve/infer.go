package serve

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/tapeml/tapeml/api"
)

// Both protocols turn a request into the model's raw inputs (api.Tensor,
// as its Signature describes them) and its outputs back into their JSON;
// what the inputs mean is the model's business (Model.Infer).

// infer runs one request's inputs on a held version: through the version's
// batcher when the model's examples are independent, directly otherwise.
// An output that is NaN or infinite is an error, never an answer.
func infer(ctx context.Context, v *version, in []api.Tensor) ([]api.Tensor, error) {
	var out []api.Tensor
	var err error
	if v.batch != nil {
		out, err = v.batch.do(ctx, in)
	} else {
		out, err = v.m.Infer(ctx, in)
	}
	if err != nil {
		return nil, inferError(ctx, err)
	}
	for i := range out {
		if t := &out[i]; t.Datatype == api.FP32 {
			if err := api.CheckFinite(t.Name, t.FP32, t.Len()/max(t.Rows(), 1), 0); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// run answers one inference's inputs: bounded by the limits, then
// inferred.
func (s *Server) run(ctx context.Context, v *version, in []api.Tensor) ([]api.Tensor, error) {
	if err := s.checkCost(v, in); err != nil {
		return nil, err
	}
	return infer(ctx, v, in)
}

// v2Inputs decodes a request's input tensors for a version, each as the
// model's signature describes it.
func v2Inputs(v *version, inputs []tensorInput, limit int) ([]api.Tensor, error) {
	sig := v.m.Signature()
	seen := map[string]bool{}
	out := make([]api.Tensor, 0, len(inputs))
	for i := range inputs {
		t := &inputs[i]
		if seen[t.Name] {
			return nil, errorf(http.StatusBadRequest, "input %q given twice", t.Name)
		}
		seen[t.Name] = true
		spec, ok := sig.Input(t.Name)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "unknown input %q (model %q takes %v)", t.Name, v.model, sig.InputNames())
		}
		x, err := t.toTensor(spec, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	names := make([]string, len(out))
	for i, t := range out {
		names[i] = t.Name
	}
	if _, err := sig.Group(names); err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	return out, nil
}

// toTensor reads a request input as spec says: its datatype and shape,
// then its elements (BYTES as strings, or base64 files when spec.Binary;
// FP32 as finite numbers; INT32 as 32-bit integers).
func (t *tensorInput) toTensor(spec api.TensorSpec, limit int) (api.Tensor, error) {
	el, err := t.elements(spec, limit)
	if err != nil {
		return api.Tensor{}, err
	}
	x := api.Tensor{Name: t.Name, Datatype: spec.Datatype, Shape: slices.Clone(t.Shape)}
	return x, fill(&x, spec, el)
}

// fill converts a tensor's JSON elements into x's values.
func fill(x *api.Tensor, spec api.TensorSpec, el []any) error {
	switch spec.Datatype {
	case api.BYTES:
		x.Bytes = make([][]byte, len(el))
		for i, e := range el {
			if spec.Binary {
				b, err := base64Of(x.Name, i, e)
				if err != nil {
					return err
				}
				x.Bytes[i] = b
				continue
			}
			s, ok := e.(string)
			if !ok {
				return errorf(http.StatusBadRequest, "input %q: element %d is %s, want a string", x.Name, i, jsonType(e))
			}
			x.Bytes[i] = []byte(s)
		}
	case api.FP32:
		x.FP32 = make([]float32, len(el))
		for i, e := range el {
			n, ok := e.(json.Number)
			if !ok {
				return errorf(http.StatusBadRequest, "input %q: element %d is %s, want a number", x.Name, i, jsonType(e))
			}
			f, err := n.Float64()
			if err != nil || f != f || f > 3.4e38 || f < -3.4e38 {
				return errorf(http.StatusBadRequest, "input %q: element %d is %s, want a finite 32-bit number", x.Name, i, n)
			}
			x.FP32[i] = float32(f)
		}
	case api.INT32:
		x.INT32 = make([]int32, len(el))
		for i, e := range el {
			n, err := intOf("input \""+x.Name+"\" element "+strconv.Itoa(i), e)
			if err != nil {
				return err
			}
			x.INT32[i] = int32(n)
		}
	default:
		return errorf(http.StatusInternalServerError, "input %q: the model declares datatype %s, which this server does not read", x.Name, spec.Datatype)
	}
	return nil
}

// base64Of decodes a file given as base64 — a string or TensorFlow
// Serving's {"b64": "..."}.
func base64Of(name string, i int, e any) ([]byte, error) {
	s, ok := e.(string)
	if m, isObj := e.(map[string]any); isObj {
		s, ok = m["b64"].(string)
	}
	if !ok {
		return nil, errorf(http.StatusBadRequest, "input %q: element %d is %s, want base64 (a string or {\"b64\": ...})", name, i, jsonType(e))
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return nil, errorf(http.StatusBadRequest, "input %q: element %d: not base64: %v", name, i, err)
		}
	}
	return raw, nil
}

// selectOutputs keeps the outputs a request asked for (all when it named
// none).
func selectOutputs(out []api.Tensor, want []string) ([]api.Tensor, error) {
	if len(want) == 0 {
		return out, nil
	}
	for _, name := range want {
		if !slices.ContainsFunc(out, func(t api.Tensor) bool { return t.Name == name }) {
			return nil, errorf(http.StatusBadRequest, "unknown output %q", name)
		}
	}
	return slices.DeleteFunc(slices.Clone(out), func(t api.Tensor) bool { return !slices.Contains(want, t.Name) }), nil
}

// v2Outputs encodes a model's outputs.
func v2Outputs(out []api.Tensor) []tensorOutput {
	outs := make([]tensorOutput, len(out))
	for i := range out {
		t := &out[i]
		outs[i] = tensorOutput{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape, Data: jsonData(t)}
	}
	return outs
}

// jsonData is a tensor's elements as JSON encodes them, flat.
func jsonData(t *api.Tensor) any {
	switch t.Datatype {
	case api.BYTES:
		s := make([]string, len(t.Bytes))
		for i, b := range t.Bytes {
			s[i] = string(b)
		}
		return s
	case api.FP32:
		return t.FP32
	}
	return t.INT32
}

// row is row i of a tensor, as v1 answers one instance: a scalar for a
// tensor of rank 1, a list otherwise (nested by the remaining shape).
func row(t *api.Tensor, i int) any {
	if len(t.Shape) <= 1 {
		switch t.Datatype {
		case api.BYTES:
			return string(t.Bytes[i])
		case api.FP32:
			return t.FP32[i]
		}
		return t.INT32[i]
	}
	width := t.Len() / t.Rows()
	from, to := i*width, (i+1)*width
	switch t.Datatype {
	case api.BYTES:
		s := make([]string, width)
		for k, b := range t.Bytes[from:to] {
			s[k] = string(b)
		}
		return s
	case api.FP32:
		return t.FP32[from:to]
	}
	return t.INT32[from:to]
}
