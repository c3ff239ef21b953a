package quantize

import (
	"fmt"
	"math"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/kinds"
)

// MinAgreement is the top-1 agreement with the float32 model below which
// Int8 warns (an AgreementWarning).
const MinAgreement = 0.995

// Agreement compares the int8 model's answers with the float32 model's on
// the same test inputs. Quantization is judged by whether it changes the
// decisions, not by how far the logits move.
type Agreement struct {
	// Compared is the number of test inputs whose answers were compared,
	// Same of them got the same top-1 class from both models; both 0 when
	// the model answers with no class (NotApplicable says why).
	Compared, Same int
	// MaxProbDiff is the largest |float32 − int8| class probability over
	// the compared inputs.
	MaxProbDiff float64
	// NotApplicable says why a model has no top-1 answer to compare (a
	// model of ratings), or is "".
	NotApplicable string
}

// Fraction is Same / Compared (0 when nothing was compared).
func (a Agreement) Fraction() float64 {
	if a.Compared == 0 {
		return 0
	}
	return float64(a.Same) / float64(a.Compared)
}

// agreement compares the top-1 answers of the float32 outputs f and the
// int8 outputs q of n inputs, as codec reads them: a classifier's
// predicted class (for a text model, its answer to a text with no known
// word too: kinds.InputClassifier).
func agreement(codec kinds.Codec, inputs [][]float32, f, q []float32, n int) Agreement {
	cl, ok := codec.(kinds.Classifier)
	if !ok {
		return Agreement{NotApplicable: "the model answers with no class; the change of its test metric is the measure"}
	}
	predict := cl.Predictions
	if ic, ok := codec.(kinds.InputClassifier); ok {
		predict = func(logits []float32, n int) []api.Prediction { return ic.PredictionsFor(inputs, logits, n) }
	}
	pf, pq := predict(f, n), predict(q, n)
	a := Agreement{Compared: len(pf)}
	for i := range pf {
		if pf[i].Label == pq[i].Label {
			a.Same++
		}
		for c := range min(len(pf[i].Probs), len(pq[i].Probs)) {
			a.MaxProbDiff = max(a.MaxProbDiff, math.Abs(float64(pf[i].Probs[c]-pq[i].Probs[c])))
		}
	}
	return a
}

// A Warning is something Int8 measured, or could not measure, that
// whoever serves the int8 model should hear: the model is written all the
// same. Named says it with the library's settings ("rounds") named by
// name, as the NamedError of package train does for errors.
type Warning interface {
	String() string
	Named(name func(key string) string) string
}

// SlowerWarning: the int8 model's batch-32 throughput is below its float32
// model's, in the same interleaved rounds.
type SlowerWarning struct {
	Float32, Int8 float64 // examples per second at batch 32 (medians)
}

// Ratio is the int8 throughput over the float32 one.
func (w *SlowerWarning) Ratio() float64 { return w.Int8 / w.Float32 }

func (w *SlowerWarning) String() string { return w.Named(identity) }

func (w *SlowerWarning) Named(func(string) string) string {
	return fmt.Sprintf("the int8 model is slower than its float32 model at batch 32: %.2f× (%.1f vs %.1f examples/s); serve the float32 model where speed matters", w.Ratio(), w.Int8, w.Float32)
}

// AgreementWarning: the int8 model's top-1 answers agree with the float32
// model's on fewer than Min of the test inputs.
type AgreementWarning struct {
	Agreement Agreement
	Min       float64
}

func (w *AgreementWarning) String() string { return w.Named(identity) }

func (w *AgreementWarning) Named(func(string) string) string {
	a := w.Agreement
	return fmt.Sprintf("the int8 model's top-1 answers agree with the float32 model's on %d of %d test inputs (%.2f%%), below %.1f%%", a.Same, a.Compared, 100*a.Fraction(), 100*w.Min)
}

// SpeedUncheckedWarning: the batch-32 speeds were not measured, so nothing
// shows that the int8 model is not slower than its float32 model.
type SpeedUncheckedWarning struct {
	// Rounds is the number of timing rounds asked for (0: skipped);
	// Examples the test inputs, when fewer than a batch of 32.
	Rounds, Examples int
}

func (w *SpeedUncheckedWarning) String() string { return w.Named(identity) }

func (w *SpeedUncheckedWarning) Named(name func(string) string) string {
	why := fmt.Sprintf("%s %d", name("rounds"), w.Rounds)
	if w.Rounds > 0 {
		why = fmt.Sprintf("the test split has %d examples, fewer than one batch of 32", w.Examples)
	}
	return fmt.Sprintf("speed not checked (%s): the int8 model may be slower than its float32 model at batch 32", why)
}

func identity(key string) string { return key }

// NoFasterLayerWarning: the model has layers with int8 kernels, but none
// made it faster at batch 32, so every one was kept in float32: the int8
// checkpoint computes as its float32 model does (only its embedding
// tables, if any, are stored in int8).
type NoFasterLayerWarning struct {
	Layers int     // layers timed
	Best   float64 // the largest gain of one layer (Layer.Gain)
	Margin float64 // the gain a layer needed
}

func (w *NoFasterLayerWarning) String() string { return w.Named(identity) }

func (w *NoFasterLayerWarning) Named(func(string) string) string {
	return fmt.Sprintf("no layer is faster in int8 at batch 32 (best of %d: %+.1f%%, needed > %.1f%%): every layer is kept in float32, and the model computes as its float32 model does", w.Layers, 100*w.Best, 100*w.Margin)
}

// warnings is what rep's measurements call for: speed not checked, the
// int8 model slower at batch 32, or no layer kept in int8 for speed, and
// top-1 agreement below MinAgreement. A model with no layer in int8 runs
// the float32 model's kernels, so its speed ratio is noise and not
// reported as slower.
func warnings(rep *Report, examples int) []Warning {
	var ws []Warning
	b, a := rep.Before.Throughput32, rep.After.Throughput32
	int8Layers := 0
	best := math.Inf(-1)
	for _, l := range rep.Layers {
		if l.Kept {
			int8Layers++
		}
		best = max(best, l.Gain)
	}
	switch {
	case len(rep.Layers) == 0:
	case int8Layers == 0:
		ws = append(ws, &NoFasterLayerWarning{Layers: len(rep.Layers), Best: best, Margin: rep.Margin})
	case rep.Rounds < 1 || !(b > 0) || !(a > 0):
		ws = append(ws, &SpeedUncheckedWarning{Rounds: rep.Rounds, Examples: examples})
	case a < b:
		ws = append(ws, &SlowerWarning{Float32: b, Int8: a})
	}
	if ag := rep.Agreement; ag.Compared > 0 && ag.Fraction() < MinAgreement {
		ws = append(ws, &AgreementWarning{Agreement: ag, Min: MinAgreement})
	}
	return ws
}
