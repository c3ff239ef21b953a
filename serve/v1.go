package serve

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tapeml/tapeml/api"
)

// TensorFlow Serving's REST API, the parts its clients use most:
//
//	POST /v1/models/{name}[/versions/{v}|/labels/{label}]:predict  {"instances": [...]}
//	GET  /v1/models/{name}[/versions/{v}|/labels/{label}]          model_version_status
//	GET  /v1/models/{name}[/versions/{v}|/labels/{label}]/metadata signature and model card
//
// The ':predict' verb shares a path segment with the name, which
// ServeMux patterns cannot express, so the paths are parsed here.
func (s *Server) v1(w http.ResponseWriter, r *http.Request) {
	name, sel, verb, err := v1Path(r.URL.EscapedPath())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case verb == "" && r.Method == http.MethodGet:
		s.v1Status(w, r, name, sel)
	case verb == "predict" && r.Method == http.MethodPost:
		s.v1Predict(w, r, name, sel)
	case verb == "metadata" && r.Method == http.MethodGet:
		s.v1Metadata(w, r, name, sel)
	case verb == "" || verb == "predict" || verb == "metadata":
		w.Header().Set("Allow", map[string]string{"": "GET", "predict": "POST", "metadata": "GET"}[verb])
		s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "%s %s: method not allowed", r.Method, r.URL.Path))
	default:
		s.writeError(w, r, errorf(http.StatusNotFound, "unknown verb %q (tapeml serves :predict)", verb))
	}
}

// v1Verbs are TensorFlow Serving's verbs: a path ending in ":VERB" calls
// one; any other colon belongs to the model's name ("a:b").
var v1Verbs = []string{"predict", "classify", "regress"}

// v1Path reads /v1/models/NAME[/versions/V | /labels/L][:VERB], its
// segments percent-decoded one by one so that a label or name holding a
// '/' can be given as %2F.
func v1Path(escaped string) (name string, sel selector, verb string, err error) {
	rest := strings.TrimPrefix(escaped, "/v1/models/")
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && slices.Contains(v1Verbs, rest[i+1:]) {
		rest, verb = rest[:i], rest[i+1:]
	}
	if base, ok := strings.CutSuffix(rest, "/metadata"); ok && verb == "" {
		rest, verb = base, "metadata"
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		if parts[i], err = url.PathUnescape(p); err != nil {
			return "", sel, "", errorf(http.StatusBadRequest, "path %s: %v", escaped, err)
		}
	}
	name = parts[0]
	switch {
	case name == "":
		return "", sel, "", errorf(http.StatusNotFound, "no model named in %s", escaped)
	case len(parts) == 1:
	case len(parts) == 3 && parts[1] == "versions":
		n, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || n < 1 {
			return "", sel, "", errorf(http.StatusBadRequest, "version %q is not a positive integer", parts[2])
		}
		sel.num = n
	case len(parts) == 3 && parts[1] == "labels" && parts[2] != "":
		sel.label = parts[2]
	default:
		return "", sel, "", errorf(http.StatusNotFound, "no such endpoint %s", escaped)
	}
	return name, sel, verb, nil
}

type versionStatus struct {
	Version string `json:"version"`
	State   string `json:"state"`
	Status  struct {
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
	} `json:"status"`
}

// v1Status lists a model's versions as TensorFlow Serving does:
// AVAILABLE when served, END with the error when loading failed.
func (s *Server) v1Status(w http.ResponseWriter, r *http.Request, name string, sel selector) {
	snap := s.man.snap.Load()
	ms := snap.models[name]
	if ms == nil {
		s.writeError(w, r, errorf(http.StatusNotFound, "unknown model %q", name))
		return
	}
	var list []versionStatus
	add := func(num int64, ok bool, msg string) {
		vs := versionStatus{Version: strconv.FormatInt(num, 10), State: "AVAILABLE"}
		vs.Status.ErrorCode = "OK"
		if !ok {
			vs.State, vs.Status.ErrorCode, vs.Status.ErrorMessage = "END", "UNKNOWN", msg
		}
		list = append(list, vs)
	}
	if sel.num == 0 && sel.label == "" {
		for _, n := range ms.order {
			add(n, true, "")
		}
		for n, f := range ms.failed {
			add(n, false, f.msg)
		}
	} else {
		num := sel.num
		if sel.label != "" {
			n, ok := ms.labels[sel.label]
			if !ok {
				s.writeError(w, r, errorf(http.StatusNotFound, "model %q has no label %q", name, sel.label))
				return
			}
			num = n
		}
		switch f, failed := ms.failed[num]; {
		case ms.versions[num] != nil:
			add(num, true, "")
		case failed:
			add(num, false, f.msg)
		default:
			s.writeError(w, r, errorf(http.StatusNotFound, "model %q has no version %d", name, num))
			return
		}
	}
	if list == nil {
		list = []versionStatus{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"model_version_status": list})
}

// v1Metadata answers GET /v1/models/NAME[/versions/V|/labels/L]/metadata
// as TensorFlow Serving shapes it, the model's description being the OIP
// v2 metadata under "tapeml" (TensorFlow's signature_def has no tapeml
// meaning): its tensors, classes, model card and DP marker.
func (s *Server) v1Metadata(w http.ResponseWriter, r *http.Request, name string, sel selector) {
	v, err := s.man.acquire(name, sel)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer v.release()
	s.writeJSON(w, http.StatusOK, map[string]any{
		"model_spec": map[string]string{"name": v.model, "signature_name": "", "version": strconv.FormatInt(v.num, 10)},
		"metadata":   map[string]any{"tapeml": metadata(v)},
	})
}

func (s *Server) v1Predict(w http.ResponseWriter, r *http.Request, name string, sel selector) {
	start := time.Now()
	if err := s.gate.enter(name); err != nil {
		s.writeError(w, r, err)
		return
	}
	defer s.gate.leave(name)
	var body struct {
		SignatureName string `json:"signature_name,omitempty"`
		Instances     []any  `json:"instances"`
	}
	err := s.readJSON(r, &body)
	if n := len(body.Instances); err == nil && n > s.cfg.Limits.Instances {
		err = overLimit("max-instances", "instances", int64(n), int64(s.cfg.Limits.Instances))
	}
	if err != nil {
		s.failedBeforeHold(name, sel, err, start)
		s.writeError(w, r, err)
		return
	}
	sel = s.routed(r, sel)
	v, err := s.man.acquire(name, sel)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer v.release()
	code, out := s.v1Run(r.Context(), v, sel, body.Instances)
	s.met.answered(v.model, v.num, code, time.Since(start))
	s.writeJSON(w, code, out)
}

// v1Run answers TensorFlow Serving's row format: each instance is an
// object of named inputs, or — for a model with one input of its JSON
// type — that input's value. Instances of a model whose examples are
// independent run as one batch; others run one by one, all bounded
// together before the first runs. Each prediction holds the instance's
// row of every output.
func (s *Server) v1Run(ctx context.Context, v *version, sel selector, instances []any) (int, any) {
	if len(instances) == 0 {
		return s.errorBody(ctx, errorf(http.StatusBadRequest, "\"instances\" is missing or empty"))
	}
	reqs, err := v1Inputs(v, instances, s.cfg.Limits.Elements)
	if err == nil {
		err = s.checkCost(v, reqs...)
	}
	if err != nil {
		return s.errorBody(ctx, err)
	}
	preds := make([]any, 0, len(instances))
	for _, in := range reqs {
		out, err := infer(ctx, v, in)
		if err != nil {
			return s.errorBody(ctx, err)
		}
		s.shadow(ctx, sel, v, in, out)
		rows := 1
		if len(out) > 0 && len(in) > 0 && v.m.Signature().Batchable {
			rows = out[0].Rows()
		}
		for i := range rows {
			p := map[string]any{}
			for k := range out {
				p[out[k].Name] = row(&out[k], i)
			}
			preds = append(preds, p)
		}
	}
	return http.StatusOK, map[string]any{"predictions": preds}
}

// v1Inputs turns instances into requests: one of all instances stacked
// along a new first dimension when the model's examples are independent,
// else one per instance.
func v1Inputs(v *version, instances []any, limit int) ([][]api.Tensor, error) {
	sig := v.m.Signature()
	var names []string // the inputs every instance gives
	values := make([]map[string]any, len(instances))
	for i, inst := range instances {
		vals, err := instanceInputs(sig, i, inst)
		if err != nil {
			return nil, err
		}
		got := slices.Sorted(maps.Keys(vals))
		if names == nil {
			names = got
		} else if !slices.Equal(names, got) {
			return nil, errorf(http.StatusBadRequest, "instance %d gives inputs %q, instance 0 %q: all instances take the same form", i, got, names)
		}
		values[i] = vals
	}
	if _, err := sig.Group(names); err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	batched := sig.Batchable
	for _, name := range names {
		spec, _ := sig.Input(name)
		batched = batched && spec.Batched()
	}
	var reqs [][]api.Tensor
	if batched {
		var in []api.Tensor
		for _, name := range names {
			spec, _ := sig.Input(name)
			t, err := stackRows(spec, name, values, limit)
			if err != nil {
				return nil, err
			}
			in = append(in, t)
		}
		return [][]api.Tensor{in}, nil
	}
	for i := range instances {
		var in []api.Tensor
		for _, name := range names {
			spec, _ := sig.Input(name)
			t, err := stackRows(spec, name, values[i:i+1], limit)
			if err != nil {
				return nil, fmt.Errorf("instance %d: %w", i, err)
			}
			in = append(in, t)
		}
		reqs = append(reqs, in)
	}
	return reqs, nil
}

// instanceInputs reads one instance: an object whose keys are input names,
// or a bare value for the model's one input of its JSON type (a string
// for a BYTES input, an array for an FP32 one).
func instanceInputs(sig api.Signature, i int, inst any) (map[string]any, error) {
	if m, ok := inst.(map[string]any); ok {
		if _, b64 := m["b64"]; !b64 {
			for k := range m {
				if !sig.Takes(k) {
					return nil, errorf(http.StatusBadRequest, "instance %d: unknown input %q (the model takes %v)", i, k, sig.InputNames())
				}
			}
			return m, nil
		}
	}
	var want []string
	for _, spec := range sig.Inputs {
		if !spec.Batched() {
			continue
		}
		_, isArr := inst.([]any)
		_, isObj := inst.(map[string]any)
		_, isStr := inst.(string)
		switch {
		case spec.Datatype == api.FP32 && isArr, spec.Datatype == api.BYTES && (isStr || (isObj && spec.Binary)):
			return map[string]any{spec.Name: inst}, nil
		case spec.Datatype == api.FP32:
			want = append(want, "an array of numbers")
		case spec.Binary:
			want = append(want, "base64 (a string or {\"b64\": ...})")
		default:
			want = append(want, "a string")
		}
	}
	return nil, errorf(http.StatusBadRequest, "instance %d is %s, want %s", i, jsonType(inst), strings.Join(want, " or "))
}

// stackRows makes input name's tensor of the given instances' values, a
// row each: its shape is the spec's, with the batch dimension the number
// of instances (an unbatched input takes one instance's value as it is).
func stackRows(spec api.TensorSpec, name string, values []map[string]any, limit int) (api.Tensor, error) {
	data := make([]any, len(values))
	for i, v := range values {
		data[i] = v[name]
	}
	shape := slices.Clone(spec.Shape)
	var body any = data
	if spec.Batched() {
		shape[0] = int64(len(values))
	} else if _, isArr := data[0].([]any); isArr {
		body = data[0]
	} else { // a scalar for an input of one element: "n": 5
		body = []any{data[0]}
	}
	for k, d := range shape {
		if d < 0 { // a variable inner dimension: take it from the first value
			shape[k] = int64(extent(data[0], k-1))
		}
	}
	t := tensorInput{Name: name, Datatype: spec.Datatype, Shape: shape, Data: body}
	if spec.Batched() {
		for i, v := range data {
			if !nestedAs(v, shape[1:]) {
				return api.Tensor{}, errorf(http.StatusBadRequest, "instance %d: input %q: want %s", i, name, describe(spec))
			}
		}
	}
	return t.toTensor(spec, limit)
}

// extent is the length of v's dimension k (0: v itself), or 0.
func extent(v any, k int) int {
	for ; k > 0; k-- {
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return 0
		}
		v = a[0]
	}
	if a, ok := v.([]any); ok {
		return len(a)
	}
	return 1
}

// describe says what one instance's value of an input looks like.
func describe(spec api.TensorSpec) string {
	inner := spec.Shape[1:]
	switch {
	case len(inner) == 0 && spec.Binary:
		return "base64 (a string or {\"b64\": ...})"
	case len(inner) == 0 && spec.Datatype == api.BYTES:
		return "a string"
	case len(inner) == 0:
		return "a number"
	}
	dims := ""
	for _, d := range inner {
		dims += "[" + strconv.FormatInt(d, 10) + "]"
	}
	return "a " + dims + " array of numbers"
}

// nestedAs reports whether v is nested arrays of exactly shape (a scalar
// for an empty shape).
func nestedAs(v any, shape []int64) bool {
	if len(shape) == 0 {
		_, isArr := v.([]any)
		return !isArr
	}
	a, ok := v.([]any)
	if !ok || int64(len(a)) != shape[0] {
		return false
	}
	for _, e := range a {
		if !nestedAs(e, shape[1:]) {
			return false
		}
	}
	return true
}
