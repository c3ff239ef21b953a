package quantize

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/kinds"
)

// The warnings follow from the measured figures alone: fake timings and
// agreements, no clock.
func TestWarnings(t *testing.T) {
	agree := func(same, n int) Agreement { return Agreement{Compared: n, Same: same} }
	for _, c := range []struct {
		name     string
		rounds   int
		f32, i8  float64 // batch-32 examples/s
		ag       Agreement
		examples int
		want     []string // the warnings' texts, in order, by a part of each
		layers   []Layer  // nil: one layer, kept in int8
	}{
		{"faster, agreeing", 5, 1000, 1800, agree(1000, 1000), 1000, nil, nil},
		{"as fast", 5, 1000, 1000, agree(200, 200), 200, nil, nil},
		{"slower", 5, 1000, 720, agree(200, 200), 200, []string{"slower than its float32 model at batch 32: 0.72× (720.0 vs 1000.0 examples/s)"}, nil},
		{"rounds 0", 0, 0, 0, agree(200, 200), 200, []string{"speed not checked (rounds 0)"}, nil},
		{"test split under a batch", 5, 0, 0, agree(20, 20), 20, []string{"speed not checked (the test split has 20 examples, fewer than one batch of 32)"}, nil},
		{"agreement at the bar", 5, 1000, 1200, agree(995, 1000), 1000, nil, nil},
		{"agreement below the bar", 5, 1000, 1200, agree(994, 1000), 1000, []string{"agree with the float32 model's on 994 of 1000 test inputs (99.40%), below 99.5%"}, nil},
		{"slower and disagreeing", 5, 1000, 900, agree(190, 200), 200, []string{"0.90×", "190 of 200"}, nil},
		{"rounds 0 and disagreeing", 0, 0, 0, agree(190, 200), 200, []string{"speed not checked", "190 of 200"}, nil},
		{"no classes", 5, 1000, 1200, Agreement{NotApplicable: "ratings"}, 10000, nil, nil},
		// A model without int8 kernels (MF) runs the same code twice: its
		// ratio is noise, not slowness.
		{"no int8 layer", 5, 1000, 940, Agreement{NotApplicable: "ratings"}, 10000, nil, []Layer{}},
		{"no int8 layer, rounds 0", 0, 0, 0, Agreement{NotApplicable: "ratings"}, 10000, nil, []Layer{}},
		// None faster: one line says so, and no slower warning on noise.
		{"none faster", 5, 1000, 980, agree(200, 200), 200, []string{"no layer is faster in int8 at batch 32 (best of 2: +1.5%, needed > 3.0%)"},
			[]Layer{{Name: "conv", Gain: -0.2}, {Name: "fc", Gain: 0.015}}},
		{"some kept, still slower", 5, 1000, 980, agree(200, 200), 200, []string{"0.98×"},
			[]Layer{{Name: "conv", Gain: -0.2}, {Name: "fc", Gain: 0.05, Kept: true}}},
		{"some kept, faster", 5, 1000, 1300, agree(200, 200), 200, nil,
			[]Layer{{Name: "conv", Gain: -0.2}, {Name: "fc", Gain: 0.3, Kept: true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := &Report{Rounds: c.rounds, Agreement: c.ag, Layers: c.layers, Margin: MinGain}
			if c.layers == nil {
				rep.Layers = []Layer{{Name: "fc", Kept: true}}
			}
			rep.Before.Throughput32, rep.After.Throughput32 = c.f32, c.i8
			ws := warnings(rep, c.examples)
			if len(ws) != len(c.want) {
				t.Fatalf("%d warnings %v, want %d", len(ws), ws, len(c.want))
			}
			for i, w := range ws {
				if !strings.Contains(w.String(), c.want[i]) {
					t.Errorf("warning %d: %q, want it to contain %q", i, w.String(), c.want[i])
				}
				if strings.Contains(w.String(), "--") || strings.Contains(w.String(), "\n") {
					t.Errorf("warning %q names a flag or spans lines", w.String())
				}
			}
		})
	}
	// The caller names the setting.
	w := &SpeedUncheckedWarning{Rounds: 0, Examples: 200}
	if got := w.Named(func(k string) string { return "--" + k }); !strings.Contains(got, "(--rounds 0)") {
		t.Errorf("Named: %q", got)
	}
	if s := (&SlowerWarning{Float32: 1000, Int8: 720}).Ratio(); math.Abs(s-0.72) > 1e-12 {
		t.Errorf("Ratio = %v", s)
	}
}

// fakeClassifier reads rows of len(classes) logits; with noEvidence, an
// input row whose first value is 0 is answered with class 0 whatever the
// logits (as a text model answers a text with no known word).
type fakeClassifier struct {
	classes    []string
	noEvidence bool
}

func (f *fakeClassifier) Signature() api.Signature { return api.Signature{} }
func (f *fakeClassifier) Infer(context.Context, kinds.Net, []api.Tensor) ([]api.Tensor, error) {
	return nil, nil
}
func (f *fakeClassifier) Info() kinds.Info { return kinds.Info{Classes: f.classes} }
func (f *fakeClassifier) Predictions(logits []float32, n int) []api.Prediction {
	return kinds.SoftmaxPredictions(logits, n, f.classes)
}
func (f *fakeClassifier) Target(string, api.Prediction) ([]float32, string, float64, error) {
	return nil, "", 0, nil
}

type fakeInputClassifier struct{ fakeClassifier }

func (f *fakeInputClassifier) PredictionsFor(inputs [][]float32, logits []float32, n int) []api.Prediction {
	ps := f.Predictions(logits, n)
	for i := range ps {
		if inputs[0][i] == 0 {
			ps[i] = api.Prediction{Label: 0, Class: f.classes[0], Prob: 0.5, Probs: []float32{0.5, 0.25, 0.25}, NoEvidence: true}
		}
	}
	return ps
}

func TestAgreement(t *testing.T) {
	classes := []string{"a", "b", "c"}
	// Four inputs: the int8 logits change the argmax of the third only.
	f := []float32{3, 1, 0, 0, 2, 1, 1, 1.2, 1.1, -1, -2, 5}
	q := []float32{3, 1.1, 0, 0, 2, 1, 1, 1.1, 1.2, -1, -2, 5}
	inputs := [][]float32{{7, 7, 7, 7}}
	ag := agreement(&fakeClassifier{classes: classes}, inputs, f, q, 4)
	if ag.Compared != 4 || ag.Same != 3 || ag.Fraction() != 0.75 || ag.NotApplicable != "" {
		t.Fatalf("agreement %+v, want 3 of 4", ag)
	}
	if !(ag.MaxProbDiff > 0.01 && ag.MaxProbDiff < 0.1) {
		t.Errorf("max |Δ prob| %v", ag.MaxProbDiff)
	}
	// The third input has no evidence: both models answer class 0.
	ag = agreement(&fakeInputClassifier{fakeClassifier{classes: classes}}, [][]float32{{7, 7, 0, 7}}, f, q, 4)
	if ag.Compared != 4 || ag.Same != 4 {
		t.Fatalf("agreement with PredictionsFor %+v, want 4 of 4", ag)
	}
	// A codec that is not a Classifier has no top-1.
	type notClassifier struct{ kinds.Codec }
	ag = agreement(notClassifier{}, inputs, f, q, 4)
	if ag.Compared != 0 || ag.NotApplicable == "" {
		t.Fatalf("agreement of a model of ratings %+v", ag)
	}
}
