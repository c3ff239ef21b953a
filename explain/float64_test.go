package explain

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/tapeml/tapeml"
	_ "github.com/tapeml/tapeml/models/all"
)

// Panels refined in float64 make one explanation with those refined in
// float32. With every panel in float64 (float64Below above the first
// round's panels), or every halved one (above their halves), the
// attributions of the legacy BiLSTM and TextCNN still add up to f(x) −
// f(baseline) − delta, converge, agree with the all-float32 rule and a
// fine fixed rule, and the float64 evaluations are counted among the
// evaluations. Concurrent calls take turns at the model's one twin.
func TestFloat64Panels(t *testing.T) {
	ctx := context.Background()
	texts := []string{
		"WIN free cash NOW, claim your urgent prize",
		"Meeting tomorrow with the team: review the draft agenda",
	}
	for _, c := range []struct {
		kind  string
		below float64
		all   bool // every evaluation in float64
	}{{"lstm", 1, true}, {"textcnn", 1, true}, {"textcnn", 0.2, false}} {
		m, err := tapeml.Load("../testdata/legacy/" + c.kind)
		if err != nil {
			t.Fatal(err)
		}
		// A goal as tight as float32 allows, so that the rule halves.
		o := Options{Tolerance: 1e-6}
		f32, err := Texts(ctx, m, texts, o)
		if err != nil {
			t.Fatal(err)
		}
		fine, err := Texts(ctx, m, texts, Options{Steps: 2000})
		if err != nil {
			t.Fatal(err)
		}
		saved := float64Below
		float64Below = c.below
		mixed, err := Texts(ctx, m, texts, o)
		if err == nil && !c.all {
			// Calls at once share the model's one twin in turn, and agree.
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					again, err := Texts(ctx, m, texts[:1], o)
					if err != nil || !slices.Equal(again[0].Tokens, mixed[0].Tokens) || again[0].Delta != mixed[0].Delta {
						t.Errorf("%s: a concurrent call gave another explanation (%v)", c.kind, err)
					}
				})
			}
			wg.Wait()
		}
		float64Below = saved
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range mixed {
			t.Logf("%s, float64 below %g, text %d: relative delta %.3g after %d evaluations, %d in float64; float32 alone %.3g after %d",
				c.kind, c.below, i, e.RelativeDelta(), e.Evaluations, e.Evaluations64, f32[i].RelativeDelta(), f32[i].Evaluations)
			if f32[i].Evaluations64 != 0 {
				t.Errorf("%s text %d: %d float64 evaluations at the default width", c.kind, i, f32[i].Evaluations64)
			}
			if e.Evaluations64 == 0 || (e.Evaluations64 == e.Evaluations) != c.all || e.Evaluations > DefaultMaxSteps {
				t.Errorf("%s text %d: %d of %d evaluations in float64", c.kind, i, e.Evaluations64, e.Evaluations)
			}
			sum := 0.0
			for _, tok := range e.Tokens {
				sum += tok.Score
			}
			scale := math.Abs(e.FX - e.FBaseline)
			if d := sum - (e.FX - e.FBaseline) - e.Delta; math.Abs(d) > 1e-5*(1+scale) {
				t.Errorf("%s text %d: Σ scores %.8g − (f(x) − f(b)) %.8g differs from delta %.3g by %.3g", c.kind, i, sum, e.FX-e.FBaseline, e.Delta, d)
			}
			if e.RelativeDelta() > 1e-4 || math.Abs(e.FX-f32[i].FX) > 1e-5*(1+math.Abs(e.FX)) || math.Abs(e.FBaseline-f32[i].FBaseline) > 1e-5*(1+math.Abs(e.FBaseline)) {
				t.Errorf("%s text %d: relative delta %.3g; f(x) %.7g, float32 %.7g; f(b) %.7g, float32 %.7g", c.kind, i, e.RelativeDelta(), e.FX, f32[i].FX, e.FBaseline, f32[i].FBaseline)
			}
			for j, tok := range e.Tokens {
				for _, other := range []float64{f32[i].Tokens[j].Score, fine[i].Tokens[j].Score} {
					if d := math.Abs(tok.Score - other); d > 0.002*scale+1e-4 {
						t.Errorf("%s text %d token %q: %.6f with float64 panels, %.6f in float32", c.kind, i, tok.Token, tok.Score, other)
					}
				}
			}
		}
	}
}
