package serve

import (
	"context"
	"net/http"
	"strconv"
	"time"
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
	// Card is the version's model card's main fields (tapeml publish).
	Card *cardFields `json:"card,omitempty"`
	// DPInsecureSeededNoise marks a model trained with DP-SGD whose noise
	// can be regenerated from its checkpoint: its (ε, δ) does not hold
	// against whoever holds the checkpoint.
	DPInsecureSeededNoise bool `json:"dp_insecure_seeded_noise,omitempty"`
}

// metadata describes a version's tensors, from the model's signature; -1
// marks variable dimensions.
func metadata(v *version) modelMetadata {
	sig := v.m.Signature()
	md := modelMetadata{Name: v.model, Versions: []string{strconv.FormatInt(v.num, 10)}, Platform: "tapeml_" + v.m.Kind(), Classes: v.m.Classes(), Card: v.card,
		DPInsecureSeededNoise: v.m.Meta().InsecureDPNoise()}
	for _, t := range sig.Inputs {
		md.Inputs = append(md.Inputs, tensorMeta{t.Name, t.Datatype, t.Shape})
	}
	for _, t := range sig.Outputs {
		md.Outputs = append(md.Outputs, tensorMeta{t.Name, t.Datatype, t.Shape})
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
		s.writeError(w, r, err)
		return
	}
	v, err := s.man.acquire(name, sel)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer v.release()
	s.writeJSON(w, http.StatusOK, s.modelMetadata(v, sel))
}

// modelMetadata describes a version, or — when the request named none —
// the model with all its versions.
func (s *Server) modelMetadata(v *version, sel selector) modelMetadata {
	md := metadata(v)
	snap := s.man.snap.Load()
	if ms := snap.models[v.model]; ms != nil {
		md.Labels = ms.labels
		if sel.num == 0 && sel.label == "" {
			md.Versions = md.Versions[:0]
			for _, n := range ms.order {
				md.Versions = append(md.Versions, strconv.FormatInt(n, 10))
			}
		}
	}
	return md
}

func (s *Server) v2ModelReady(w http.ResponseWriter, r *http.Request) {
	sel, err := selectorOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.man.acquire(r.PathValue("name"), sel)
	if err != nil {
		s.writeError(w, r, err)
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
			out = append(out, entry{Name: name, Version: strconv.FormatInt(n, 10), State: "UNAVAILABLE", Reason: f.msg})
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
	name := r.PathValue("name")
	if err := s.gate.enter(name); err != nil {
		s.writeError(w, r, err)
		return
	}
	defer s.gate.leave(name)
	sel, err := selectorOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req inferRequest
	// The body is read before the version is held, so that a slow client
	// never delays a drain.
	if err := s.readJSON(r, &req); err != nil {
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
	code, body := s.v2Run(r.Context(), v, sel, &req)
	s.met.answered(v.model, v.num, code, time.Since(start))
	s.writeJSON(w, code, body)
}

func (s *Server) v2Run(ctx context.Context, v *version, sel selector, req *inferRequest) (int, any) {
	in, err := v2Inputs(v, req.Inputs, s.cfg.Limits.Elements)
	if err != nil {
		return s.errorBody(ctx, err)
	}
	var want []string
	for _, o := range req.Outputs {
		want = append(want, o.Name)
	}
	out, err := s.run(ctx, v, in)
	if err == nil {
		s.shadow(ctx, sel, v, in, out)
		out, err = selectOutputs(out, want)
	}
	if err != nil {
		return s.errorBody(ctx, err)
	}
	return http.StatusOK, inferResponse{ModelName: v.model, ModelVersion: strconv.FormatInt(v.num, 10), ID: req.ID, Outputs: v2Outputs(out)}
}
