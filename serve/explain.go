package serve

import (
	"bytes"
	"encoding/base64"
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
	sel, err := selectorOf(r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	var req inferRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		s.failedBeforeHold(r.PathValue("name"), sel, err, start)
		s.writeError(w, err)
		return
	}
	v, err := s.man.acquire(r.PathValue("name"), s.routed(r, sel))
	if err != nil {
		s.writeError(w, err)
		return
	}
	defer v.release()
	code, body := s.v2ExplainRun(r, v, &req)
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

func (s *Server) v2ExplainRun(r *http.Request, v *version, req *inferRequest) (int, any) {
	sig := v.m.Signature()
	if !sig.Takes("text") && !sig.Takes("image") && !sig.Takes("images") {
		return s.errorBody(errorf(http.StatusBadRequest, "explain takes a text or image model; %q is a %s model", v.model, v.m.Family()))
	}
	opts, err := explainOptions(req.Parameters)
	if err != nil {
		return s.errorBody(err)
	}
	in, err := v2Inputs(v, req.Inputs)
	if err != nil {
		return s.errorBody(err)
	}
	for _, t := range in {
		if most, ok := maxExplainRows[t.Name]; ok && t.Rows() > most {
			return s.errorBody(errorf(http.StatusBadRequest, "input %q: %d examples, at most %d per explain request", t.Name, t.Rows(), most))
		}
	}
	ex, err := explain.Inputs(r.Context(), v.m, in, opts)
	if err != nil {
		return s.errorBody(inferError(r.Context(), err))
	}
	resp := explainResponse{ModelName: v.model, ModelVersion: strconv.FormatInt(v.num, 10), ID: req.ID}
	for _, e := range ex {
		item := map[string]any{"explanation": e, "relative_delta": finiteOrNil(e.RelativeDelta()), "converged": e.Converged()}
		if im, ok := e.(*explain.ImageExplanation); ok {
			// The heat map is the library's own rendering over the pixels
			// the model saw (which the explanation itself does not carry),
			// one PNG pixel per image pixel: clients scale it up.
			var heat bytes.Buffer
			if err := png.Encode(&heat, im.HeatMap(1)); err != nil {
				return s.errorBody(errorf(http.StatusInternalServerError, "encoding the heat map: %v", err))
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
