package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/tapeml/tapeml/explain"
)

// Limits of one explain request: attribution costs Steps forward and
// backward passes per input, so both are bounded below the library's caps.
const (
	maxExplainSteps = 1000 // IG steps (the library allows 10000)
)

// maxExplainRows bounds the examples of one explain request, by input: an
// image costs more than a text.
var maxExplainRows = map[string]int{"text": 16, "images": 8, "image": 8}

type explainResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id,omitempty"`
	Explanations []any  `json:"explanations"`
}

// v2Explain attributes a text or image model's prediction to its inputs.
// It does not go through the dynamic batcher: the library runs attribution
// on its own pool.
func (s *Server) v2Explain(w http.ResponseWriter, r *http.Request) {
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
	if err := s.readJSON(r, &req); err != nil {
		s.failedBeforeHold(name, sel, err, start)
		s.writeError(w, r, err)
		return
	}
	v, err := s.man.acquire(name, s.routed(r, sel))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer v.release()
	code, body := s.v2ExplainRun(r.Context(), v, &req)
	s.met.answered(v.model, v.num, code, time.Since(start))
	s.writeJSON(w, code, body)
}

// explainOptions maps request parameters to explain.Options.
func explainOptions(p map[string]any) (explain.Options, error) {
	var o explain.Options
	for k, val := range p {
		switch k {
		case "method", "quadrature", "baseline", "target":
			str, ok := val.(string)
			if !ok {
				return o, errorf(http.StatusBadRequest, "parameter %q: want a string, got %s", k, jsonType(val))
			}
			switch k {
			case "method":
				o.Method = str
			case "quadrature":
				o.Quadrature = str
			case "baseline":
				o.Baseline = str
			default:
				o.Target = str
			}
		case "steps":
			n, err := intOf("parameter \"steps\"", val)
			if err != nil {
				return o, errorf(http.StatusBadRequest, "%v", err)
			}
			if n < 1 || n > maxExplainSteps {
				return o, errorf(http.StatusBadRequest, "parameter \"steps\": %d outside 1..%d", n, maxExplainSteps)
			}
			o.Steps = n
		default:
			return o, errorf(http.StatusBadRequest, "unknown parameter %q (want method, steps, quadrature, baseline, target)", k)
		}
	}
	return o, nil
}

func (s *Server) v2ExplainRun(ctx context.Context, v *version, req *inferRequest) (int, any) {
	sig := v.m.Signature()
	if !sig.Takes("text") && !sig.Takes("image") && !sig.Takes("images") {
		return s.errorBody(ctx, errorf(http.StatusBadRequest, "explain takes a text or image model; %q is a %s model", v.model, v.m.Family()))
	}
	opts, err := explainOptions(req.Parameters)
	if err != nil {
		return s.errorBody(ctx, err)
	}
	in, err := v2Inputs(v, req.Inputs, s.cfg.Limits.Elements)
	if err != nil {
		return s.errorBody(ctx, err)
	}
	rows := 0
	for _, t := range in {
		if most, ok := maxExplainRows[t.Name]; ok && t.Rows() > most {
			return s.errorBody(ctx, errorf(http.StatusBadRequest, "input %q: %d examples, at most %d per explain request", t.Name, t.Rows(), most))
		}
		rows = max(rows, t.Rows())
	}
	if err := s.checkCost(v, in); err != nil {
		return s.errorBody(ctx, err)
	}
	passes, err := explain.Passes(v.m, rows, opts)
	if err != nil {
		return s.errorBody(ctx, err)
	}
	if most := s.cfg.Limits.ExplainPasses; passes > most {
		return s.errorBody(ctx, overLimit("max-explain-passes", "attribution passes (inputs × (steps + 2), or × occluded parts)", passes, most))
	}
	ex, err := explain.Inputs(ctx, v.m, in, opts)
	if err != nil {
		return s.errorBody(ctx, inferError(ctx, err))
	}
	resp := explainResponse{ModelName: v.model, ModelVersion: strconv.FormatInt(v.num, 10), ID: req.ID}
	for _, e := range ex {
		item := map[string]any{"explanation": e, "relative_delta": finiteOrNil(e.RelativeDelta()), "converged": e.Converged()}
		if im, ok := e.(*explain.ImageExplanation); ok {
			// The heat map is the library's own rendering over the pixels
			// the model saw (which the explanation itself does not carry),
			// one PNG pixel per image pixel: clients scale it up.
			var heat bytes.Buffer
			img, err := im.HeatMap(1)
			if err == nil {
				err = png.Encode(&heat, img)
			}
			if err != nil {
				return s.errorBody(ctx, fmt.Errorf("encoding the heat map: %w", err))
			}
			item["heatmap"] = base64.StdEncoding.EncodeToString(heat.Bytes())
		}
		resp.Explanations = append(resp.Explanations, item)
	}
	return http.StatusOK, resp
}

// finiteOrNil keeps NaN (no delta for saliency/occlusion) out of JSON.
func finiteOrNil(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}
