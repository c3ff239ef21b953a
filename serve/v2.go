package serve

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/kinds"
)

// The Open Inference Protocol v2 (KServe, Triton), REST binding:
// https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/

type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type modelMetadata struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
	// Labels and Classes are tapeml's additions: version labels, and the
	// class names a classifier's label indexes.
	Labels  map[string]int64 `json:"labels,omitempty"`
	Classes []string         `json:"classes,omitempty"`
}

// metadata describes a version's tensors; -1 marks variable dimensions.
func metadata(v *version) modelMetadata {
	md := modelMetadata{Name: v.model, Versions: []string{strconv.FormatInt(v.num, 10)}, Platform: "tapeml_" + v.m.Kind()}
	switch v.family {
	case kinds.Text, kinds.Image:
		k := int64(len(v.m.Classes()))
		if v.isText() {
			md.Inputs = []tensorMeta{{"text", "BYTES", []int64{-1}}}
		} else {
			md.Inputs = []tensorMeta{{"images", "FP32", append([]int64{-1}, v.imageShape()...)}, {"image", "BYTES", []int64{-1}}}
		}
		md.Outputs = []tensorMeta{{"probs", "FP32", []int64{-1, k}}, {"label", "INT32", []int64{-1}}, {"class", "BYTES", []int64{-1}}}
		md.Classes = v.m.Classes()
	default:
		md.Inputs = []tensorMeta{{"user", "BYTES", []int64{-1}}, {"n", "INT32", []int64{1}}, {"item", "BYTES", []int64{-1}}}
		md.Outputs = []tensorMeta{{"items", "BYTES", []int64{1, -1}}, {"scores", "FP32", []int64{-1, -1}}}
	}
	return md
}

// selectorOf reads the {v} path segment, if any.
func selectorOf(r *http.Request) (selector, error) {
	s := r.PathValue("v")
	if s == "" {
		return selector{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return selector{}, errorf(http.StatusBadRequest, "version %q is not a positive integer", s)
	}
	return selector{num: n}, nil
}

func (s *Server) v2Live(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (s *Server) v2Ready(w http.ResponseWriter, r *http.Request) {
	if !s.isReady() {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ready": false})
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

func (s *Server) v2Server(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{"name": "tapeml", "version": Version, "extensions": []string{"model_repository"}})
}

func (s *Server) v2Model(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	sel, err := selectorOf(r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	v, err := s.man.acquire(name, sel)
	if err != nil {
		s.writeError(w, err)
		return
	}
	defer v.release()
	md := metadata(v)
	snap := s.man.snap.Load()
	if ms := snap.models[name]; ms != nil {
		md.Labels = ms.labels
		if sel.num == 0 { // the model: all its versions
			md.Versions = md.Versions[:0]
			for _, n := range ms.order {
				md.Versions = append(md.Versions, strconv.FormatInt(n, 10))
			}
		}
	}
	s.writeJSON(w, http.StatusOK, md)
}

func (s *Server) v2ModelReady(w http.ResponseWriter, r *http.Request) {
	sel, err := selectorOf(r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	v, err := s.man.acquire(r.PathValue("name"), sel)
	if err != nil {
		s.writeError(w, err)
		return
	}
	v.release()
	s.writeJSON(w, http.StatusOK, map[string]any{"name": v.model, "version": strconv.FormatInt(v.num, 10), "ready": true})
}

// v2Index is Triton's repository index extension: every model version
// the server knows, with its state. The web page lists models with it.
func (s *Server) v2Index(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		State   string `json:"state"`
		Reason  string `json:"reason,omitempty"`
		Kind    string `json:"kind,omitempty"`
	}
	out := []entry{}
	snap := s.man.snap.Load()
	for _, name := range snap.names {
		ms := snap.models[name]
		for _, n := range ms.order {
			out = append(out, entry{Name: name, Version: strconv.FormatInt(n, 10), State: "READY", Kind: ms.versions[n].m.Kind()})
		}
		for n, f := range ms.failed {
			out = append(out, entry{Name: name, Version: strconv.FormatInt(n, 10), State: "UNAVAILABLE", Reason: f.err.Error()})
		}
	}
	s.writeJSON(w, http.StatusOK, out)
}

type inferRequest struct {
	ID         string         `json:"id,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Inputs     []tensorInput  `json:"inputs"`
	Outputs    []struct {
		Name string `json:"name"`
	} `json:"outputs,omitempty"`
}

type tensorOutput struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
	Data     any     `json:"data"`
}

type inferResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version"`
	ID           string         `json:"id,omitempty"`
	Outputs      []tensorOutput `json:"outputs"`
}

func (s *Server) v2Infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sel, err := selectorOf(r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	var req inferRequest
	// The body is read before the version is held, so that a slow client
	// never delays a drain.
	if err := decodeJSON(r.Body, &req); err != nil {
		s.failedBeforeHold(r.PathValue("name"), sel, err, start)
		s.writeError(w, err)
		return
	}
	v, err := s.man.acquire(r.PathValue("name"), sel)
	if err != nil {
		s.writeError(w, err)
		return
	}
	defer v.release()
	code, body := s.v2Run(r, v, &req)
	s.met.answered(v.model, v.num, code, time.Since(start))
	s.writeJSON(w, code, body)
}

func (s *Server) v2Run(r *http.Request, v *version, req *inferRequest) (int, any) {
	in, err := v2Inputs(v, req.Inputs)
	if err != nil {
		return s.errorBody(err)
	}
	want := map[string]bool{}
	for _, o := range req.Outputs {
		want[o.Name] = true
	}
	res, err := infer(r.Context(), v, in)
	if err != nil {
		return s.errorBody(err)
	}
	var outs []tensorOutput
	switch {
	case res.preds != nil:
		n := int64(len(res.preds))
		k := int64(len(v.m.Classes()))
		probs := make([]float32, 0, n*k)
		labels := make([]int, n)
		classes := make([]string, n)
		for i, p := range res.preds {
			probs = append(probs, p.Probs...)
			labels[i], classes[i] = p.Label, p.Class
		}
		outs = []tensorOutput{{"probs", "FP32", []int64{n, k}, probs}, {"label", "INT32", []int64{n}, labels}, {"class", "BYTES", []int64{n}, classes}}
	case res.ratings != nil:
		outs = []tensorOutput{{"scores", "FP32", []int64{int64(len(res.ratings))}, res.ratings}}
	default:
		items := make([]string, len(res.recs))
		scores := make([]float32, len(res.recs))
		for i, rec := range res.recs {
			items[i], scores[i] = rec.Item, rec.Score
		}
		outs = []tensorOutput{{"items", "BYTES", []int64{1, int64(len(items))}, items}, {"scores", "FP32", []int64{1, int64(len(items))}, scores}}
	}
	if len(want) > 0 {
		kept := outs[:0]
		for _, o := range outs {
			if want[o.Name] {
				kept = append(kept, o)
				delete(want, o.Name)
			}
		}
		for name := range want {
			return s.errorBody(errorf(http.StatusBadRequest, "unknown output %q", name))
		}
		outs = kept
	}
	return http.StatusOK, inferResponse{ModelName: v.model, ModelVersion: strconv.FormatInt(v.num, 10), ID: req.ID, Outputs: outs}
}

// v2Inputs decodes and validates a request's input tensors for a version.
func v2Inputs(v *version, inputs []tensorInput) (*request, error) {
	by := map[string]*tensorInput{}
	for i := range inputs {
		t := &inputs[i]
		if by[t.Name] != nil {
			return nil, errorf(http.StatusBadRequest, "input %q given twice", t.Name)
		}
		by[t.Name] = t
	}
	allowed := map[kinds.Family][]string{kinds.Text: {"text"}, kinds.Image: {"images", "image"}, kinds.Recommender: {"user", "n", "item"}}[v.family]
	for name := range by {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return nil, errorf(http.StatusBadRequest, "unknown input %q (model %q takes %v)", name, v.model, allowed)
		}
	}
	req := &request{}
	switch v.family {
	case kinds.Text:
		t := by["text"]
		if t == nil {
			return nil, errorf(http.StatusBadRequest, "missing input \"text\" (BYTES [N])")
		}
		el, err := t.elements("BYTES", -1)
		if err != nil {
			return nil, err
		}
		if req.texts, err = stringsOf(t.Name, el); err != nil {
			return nil, err
		}
		if len(req.texts) == 0 {
			return nil, errorf(http.StatusBadRequest, "input \"text\": no texts")
		}
	case kinds.Image:
		switch {
		case by["images"] != nil && by["image"] != nil:
			return nil, errorf(http.StatusBadRequest, "give either \"images\" or \"image\", not both")
		case by["images"] != nil:
			t := by["images"]
			el, err := t.elements("FP32", append([]int64{-1}, v.imageShape()...)...)
			if err != nil {
				return nil, err
			}
			if req.pixels, err = pixelsOf(t.Name, el); err != nil {
				return nil, err
			}
			req.n = int(t.Shape[0])
			if req.n == 0 {
				return nil, errorf(http.StatusBadRequest, "input \"images\": no images")
			}
		case by["image"] != nil:
			t := by["image"]
			el, err := t.elements("BYTES", -1)
			if err != nil {
				return nil, err
			}
			if len(el) == 0 {
				return nil, errorf(http.StatusBadRequest, "input \"image\": no images")
			}
			for i, e := range el {
				img, err := decodeImage(t.Name, i, e)
				if err != nil {
					return nil, err
				}
				req.images = append(req.images, img)
			}
		default:
			return nil, errorf(http.StatusBadRequest, "missing input \"images\" (FP32 %s) or \"image\" (BYTES [N], base64 PNG or JPEG)", shapeString(append([]int64{-1}, v.imageShape()...)))
		}
	default:
		u := by["user"]
		if u == nil {
			return nil, errorf(http.StatusBadRequest, "missing input \"user\" (BYTES)")
		}
		switch {
		case by["item"] != nil && by["n"] != nil:
			return nil, errorf(http.StatusBadRequest, "give \"n\" (recommend) or \"item\" (ratings), not both")
		case by["item"] != nil:
			ue, err := u.elements("BYTES", -1)
			if err != nil {
				return nil, err
			}
			ie, err := by["item"].elements("BYTES", int64(len(ue)))
			if err != nil {
				return nil, err
			}
			users, err := stringsOf("user", ue)
			if err != nil {
				return nil, err
			}
			items, err := stringsOf("item", ie)
			if err != nil {
				return nil, err
			}
			if len(users) == 0 {
				return nil, errorf(http.StatusBadRequest, "input \"user\": no pairs")
			}
			for i := range users {
				req.pairs = append(req.pairs, tapeml.UserItem{User: users[i], Item: items[i]})
			}
		case by["n"] != nil:
			ue, err := u.elements("BYTES", 1)
			if err != nil {
				return nil, err
			}
			users, err := stringsOf("user", ue)
			if err != nil {
				return nil, err
			}
			ne, err := by["n"].elements("INT32", 1)
			if err != nil {
				return nil, err
			}
			if req.topN, err = intOf("input \"n\"", ne[0]); err != nil {
				return nil, err
			}
			if req.topN < 1 || req.topN > maxTopN {
				return nil, errorf(http.StatusBadRequest, "input \"n\": %d, want 1 to %d", req.topN, maxTopN)
			}
			req.user = users[0]
		default:
			return nil, errorf(http.StatusBadRequest, "missing input \"n\" (INT32 [1], recommend) or \"item\" (BYTES [N], ratings)")
		}
	}
	return req, nil
}

// maxTopN bounds a recommendation list.
const maxTopN = 10000
