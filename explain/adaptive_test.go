package explain_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/explain"
)

// The adaptive rule meets completeness within its budget, counts its
// evaluations, stops at the budget, and agrees with a fine fixed rule.
func TestAdaptive(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"textcnn", "lstm"} {
		m, err := tapeml.Load(filepath.Join(legacy, kind))
		if err != nil {
			t.Fatal(err)
		}
		ex, err := explain.Texts(ctx, m, explainTexts, explain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fine, err := explain.Texts(ctx, m, explainTexts, explain.Options{Steps: 2000})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range ex {
			if !e.Converged() || e.Evaluations < 21 || e.Evaluations > explain.DefaultMaxSteps || e.MaxSteps != explain.DefaultMaxSteps {
				t.Errorf("%s text %d: relative delta %.3g after %d evaluations of %d", kind, i, e.RelativeDelta(), e.Evaluations, e.MaxSteps)
			}
			scale := math.Abs(e.FX - e.FBaseline)
			for j, tok := range e.Tokens {
				if d := math.Abs(tok.Score - fine[i].Tokens[j].Score); d > 0.02*scale+1e-4 {
					t.Errorf("%s text %d token %q: adaptive %.5f, 2000 Gauss–Legendre points %.5f", kind, i, tok.Token, tok.Score, fine[i].Tokens[j].Score)
				}
			}
		}
		least, err := explain.Texts(ctx, m, explainTexts[:1], explain.Options{MaxSteps: 21})
		if err != nil {
			t.Fatal(err)
		}
		if least[0].Evaluations != 21 {
			t.Errorf("%s: %d evaluations within a budget of 21", kind, least[0].Evaluations)
		}
	}
	// The random convnet needs 1000 fixed points (TestExplainCompleteness);
	// the adaptive rule converges on fewer.
	m, err := tapeml.Load(convnetCheckpoint(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	_, imgs := pixels(2, 3)
	ex, err := explain.Images(ctx, m, imgs, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range ex {
		if !e.Converged() || e.Evaluations >= 1000 {
			t.Errorf("convnet image %d: relative delta %.3g after %d evaluations", i, e.RelativeDelta(), e.Evaluations)
		}
	}
	for _, bad := range []explain.Options{{MaxSteps: 20}, {MaxSteps: 21, Steps: 50}, {Tolerance: 1}, {Quadrature: explain.QuadratureGauss, MaxSteps: 100}} {
		if _, err := explain.Images(ctx, m, imgs, bad); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

// SmoothGrad averages IG over seeded noisy copies: repeatable with its
// seed, different with another, different from plain IG, its delta that
// of the mean map, its evaluations summed; text models refuse it.
func TestSmoothGrad(t *testing.T) {
	ctx := context.Background()
	m, err := tapeml.Load(convnetCheckpoint(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	_, imgs := pixels(1, 5)
	run := func(o explain.Options) explain.ImageExplanation {
		t.Helper()
		ex, err := explain.Images(ctx, m, imgs, o)
		if err != nil {
			t.Fatal(err)
		}
		return ex[0]
	}
	// 16 fixed points: a random convnet keeps the adaptive rule busy.
	plain := run(explain.Options{Steps: 16})
	a, b := run(explain.Options{Steps: 16, SmoothGrad: 6}), run(explain.Options{Steps: 16, SmoothGrad: 6})
	other := run(explain.Options{Steps: 16, SmoothGrad: 6, Seed: 2})
	if !slices.Equal(a.Scores, b.Scores) {
		t.Error("the same seed gave different maps")
	}
	if slices.Equal(a.Scores, other.Scores) || slices.Equal(a.Scores, plain.Scores) {
		t.Error("another seed, or no noise, gave the same map")
	}
	sum := 0.0
	for _, s := range a.Scores {
		sum += s
	}
	if a.SmoothGrad != 6 || a.Evaluations != 6*18 || math.Abs(sum-(a.FX-a.FBaseline)-a.Delta) > 1e-4*(1+math.Abs(a.FX)) {
		t.Errorf("smoothgrad %d, %d evaluations; Σ scores %.6g, f(x) %.6g, f(b) %.6g, delta %.3g", a.SmoothGrad, a.Evaluations, sum, a.FX, a.FBaseline, a.Delta)
	}
	text, err := tapeml.Load(filepath.Join(legacy, "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := explain.Texts(ctx, text, explainTexts, explain.Options{SmoothGrad: 4}); err == nil {
		t.Error("SmoothGrad on a text model: want an error")
	}
}
