package serve

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/kinds"
)

// TensorFlow Serving's REST API, the parts its clients use most:
//
//	POST /v1/models/{name}[/versions/{v}|/labels/{label}]:predict  {"instances": [...]}
//	GET  /v1/models/{name}[/versions/{v}|/labels/{label}]          model_version_status
//
// The ':predict' verb shares a path segment with the name, which
// ServeMux patterns cannot express, so the paths are parsed here.
func (s *Server) v1(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/v1/models/")
	verb := ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest, verb = rest[:i], rest[i+1:]
	}
	parts := strings.Split(rest, "/")
	name := parts[0]
	var sel selector
	switch {
	case name == "":
		s.writeError(w, errorf(http.StatusNotFound, "no model named in %s", r.URL.Path))
		return
	case len(parts) == 1:
	case len(parts) == 3 && parts[1] == "versions":
		n, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || n < 1 {
			s.writeError(w, errorf(http.StatusBadRequest, "version %q is not a positive integer", parts[2]))
			return
		}
		sel.num = n
	case len(parts) == 3 && parts[1] == "labels" && parts[2] != "":
		sel.label = parts[2]
	default:
		s.writeError(w, errorf(http.StatusNotFound, "no such endpoint %s", r.URL.Path))
		return
	}
	switch {
	case verb == "" && r.Method == http.MethodGet:
		s.v1Status(w, name, sel)
	case verb == "predict" && r.Method == http.MethodPost:
		s.v1Predict(w, r, name, sel)
	case verb == "" || verb == "predict":
		w.Header().Set("Allow", map[string]string{"": "GET", "predict": "POST"}[verb])
		s.writeError(w, errorf(http.StatusMethodNotAllowed, "%s %s: method not allowed", r.Method, r.URL.Path))
	default:
		s.writeError(w, errorf(http.StatusNotFound, "unknown verb %q (tapeml serves :predict)", verb))
	}
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
func (s *Server) v1Status(w http.ResponseWriter, name string, sel selector) {
	snap := s.man.snap.Load()
	ms := snap.models[name]
	if ms == nil {
		s.writeError(w, errorf(http.StatusNotFound, "unknown model %q", name))
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
			add(n, false, f.err.Error())
		}
	} else {
		num := sel.num
		if sel.label != "" {
			n, ok := ms.labels[sel.label]
			if !ok {
				s.writeError(w, errorf(http.StatusNotFound, "model %q has no label %q", name, sel.label))
				return
			}
			num = n
		}
		switch f, failed := ms.failed[num]; {
		case ms.versions[num] != nil:
			add(num, true, "")
		case failed:
			add(num, false, f.err.Error())
		default:
			s.writeError(w, errorf(http.StatusNotFound, "model %q has no version %d", name, num))
			return
		}
	}
	if list == nil {
		list = []versionStatus{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"model_version_status": list})
}

func (s *Server) v1Predict(w http.ResponseWriter, r *http.Request, name string, sel selector) {
	start := time.Now()
	var body struct {
		SignatureName string `json:"signature_name,omitempty"`
		Instances     []any  `json:"instances"`
	}
	if err := decodeJSON(r.Body, &body); err != nil {
		s.failedBeforeHold(name, sel, err, start)
		s.writeError(w, err)
		return
	}
	v, err := s.man.acquire(name, sel)
	if err != nil {
		s.writeError(w, err)
		return
	}
	defer v.release()
	code, out := s.v1Run(r, v, body.Instances)
	s.met.answered(v.model, v.num, code, time.Since(start))
	s.writeJSON(w, code, out)
}

func (s *Server) v1Run(r *http.Request, v *version, instances []any) (int, any) {
	if len(instances) == 0 {
		return s.errorBody(errorf(http.StatusBadRequest, "\"instances\" is missing or empty"))
	}
	type classified struct {
		Class string    `json:"class"`
		Label int       `json:"label"`
		Probs []float32 `json:"probs"`
	}
	switch v.family {
	case kinds.Text, kinds.Image:
		req, err := v1Classify(v, instances)
		if err != nil {
			return s.errorBody(err)
		}
		res, err := infer(r.Context(), v, req)
		if err != nil {
			return s.errorBody(err)
		}
		preds := make([]classified, len(res.preds))
		for i, p := range res.preds {
			preds[i] = classified{p.Class, p.Label, p.Probs}
		}
		return http.StatusOK, map[string]any{"predictions": preds}
	}
	// Recommenders: {"user": u, "n": k} → items and scores,
	// {"user": u, "item": i} → the predicted rating.
	preds := make([]any, len(instances))
	for i, inst := range instances {
		m, ok := inst.(map[string]any)
		user, uok := m["user"].(string)
		if !ok || !uok {
			return s.errorBody(errorf(http.StatusBadRequest, "instance %d: want {\"user\": \"...\", \"n\": k} or {\"user\": \"...\", \"item\": \"...\"}", i))
		}
		req := &request{user: user}
		switch item, hasItem := m["item"]; {
		case hasItem:
			it, ok := item.(string)
			if !ok {
				return s.errorBody(errorf(http.StatusBadRequest, "instance %d: \"item\" is %s, want a string", i, jsonType(item)))
			}
			req.pairs = []tapeml.UserItem{{User: user, Item: it}}
		default:
			n, err := intOf("instance "+strconv.Itoa(i)+" \"n\"", m["n"])
			if err != nil {
				return s.errorBody(err)
			}
			if n < 1 || n > maxTopN {
				return s.errorBody(errorf(http.StatusBadRequest, "instance %d: \"n\" is %d, want 1 to %d", i, n, maxTopN))
			}
			req.topN = n
		}
		res, err := infer(r.Context(), v, req)
		if err != nil {
			return s.errorBody(err)
		}
		if res.ratings != nil {
			preds[i] = map[string]float32{"score": res.ratings[0]}
			continue
		}
		items := make([]string, len(res.recs))
		scores := make([]float32, len(res.recs))
		for k, rec := range res.recs {
			items[k], scores[k] = rec.Item, rec.Score
		}
		preds[i] = map[string]any{"items": items, "scores": scores}
	}
	return http.StatusOK, map[string]any{"predictions": preds}
}

// v1Classify reads classifier instances: strings (or {"text": s}) for
// text models; {"b64": png-or-jpeg} or raw pixel arrays [C][H][W] for
// image models, all of one form.
func v1Classify(v *version, instances []any) (*request, error) {
	req := &request{}
	if v.isText() {
		for i, inst := range instances {
			if m, ok := inst.(map[string]any); ok {
				inst = m["text"]
			}
			s, ok := inst.(string)
			if !ok {
				return nil, errorf(http.StatusBadRequest, "instance %d is %s, want a string", i, jsonType(inst))
			}
			req.texts = append(req.texts, s)
		}
		return req, nil
	}
	shape := v.imageShape()
	size := int(shape[0] * shape[1] * shape[2])
	for i, inst := range instances {
		m, isObj := inst.(map[string]any)
		if isObj {
			if img, ok := m["image"]; ok {
				inst = img
			}
		}
		if _, isArr := inst.([]any); isArr {
			if req.images != nil {
				return nil, errorf(http.StatusBadRequest, "instance %d: mixes pixel arrays and encoded images", i)
			}
			t := tensorInput{Name: "instance " + strconv.Itoa(i), Datatype: "FP32", Shape: shape, Data: inst}
			el, err := t.elements("FP32", shape...)
			if err != nil {
				return nil, err
			}
			if !nestedAs(inst, shape) {
				return nil, errorf(http.StatusBadRequest, "instance %d: want a [%d][%d][%d] array of pixel values", i, shape[0], shape[1], shape[2])
			}
			px, err := pixelsOf(t.Name, el)
			if err != nil {
				return nil, err
			}
			if req.pixels == nil {
				req.pixels = make([]float32, 0, size*len(instances))
			}
			req.pixels = append(req.pixels, px...)
			req.n++
			continue
		}
		if req.pixels != nil {
			return nil, errorf(http.StatusBadRequest, "instance %d: mixes pixel arrays and encoded images", i)
		}
		img, err := decodeImage("instances", i, inst)
		if err != nil {
			return nil, err
		}
		req.images = append(req.images, img)
	}
	return req, nil
}

// nestedAs reports whether v is nested arrays of exactly shape.
func nestedAs(v any, shape []int64) bool {
	if len(shape) == 0 {
		_, ok := v.(json.Number)
		return ok
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
