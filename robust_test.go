package tapeml_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/explain"
)

// Library calls that panicked or exhausted memory return errors (issue
// 28, point 10): a nil context, a count of 1+2^60 examples (makeslice), a
// heat map of scale 100000 (a fatal out-of-memory), a pad id outside the
// vocabulary (accepted at load, then every request failed inside
// Gorgonia).
func TestLibraryErrorsInsteadOfPanics(t *testing.T) {
	ctx := context.Background()
	text, gray, rec := threeKinds(t)
	raw, imgs := pixels(1, 0)
	const huge = 1 + 1<<60 // 784·huge wraps around to 784 in int
	var nilCtx context.Context
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"ClassifyPixels with n = 1+2^60", func() error { _, err := gray.ClassifyPixels(ctx, raw, huge); return err }, "64 values for 1152921504606846977 images"},
		{"Forward with n = 1+2^60", func() error { _, err := gray.Forward(ctx, [][]float32{raw}, huge); return err }, "expected 1152921504606846977 examples of 64"},
		{"Forward with n = 2^58 on 64 values", func() error { _, err := gray.Forward(ctx, [][]float32{raw}, 1<<58); return err }, "expected 288230376151711744 examples"},
		{"nil context, ClassifyTexts", func() error { _, err := text.ClassifyTexts(nilCtx, []string{"a"}); return err }, "ClassifyTexts: nil context"},
		{"nil context, ClassifyImages", func() error { _, err := gray.ClassifyImages(nilCtx, imgs); return err }, "nil context"},
		{"nil context, ClassifyPixels", func() error { _, err := gray.ClassifyPixels(nilCtx, raw, 1); return err }, "nil context"},
		{"nil context, Forward", func() error { _, err := gray.Forward(nilCtx, [][]float32{raw}, 1); return err }, "nil context"},
		{"nil context, Infer", func() error {
			_, err := text.Infer(nilCtx, []api.Tensor{api.Strings("text", []string{"a"})})
			return err
		}, "nil context"},
		{"nil context, Warmup", func() error { return text.Warmup(nilCtx) }, "nil context"},
		{"nil context, Evaluate", func() error { _, err := text.Evaluate(nilCtx, nil); return err }, "nil context"},
		{"nil context, EvaluateRunData", func() error { _, err := text.EvaluateRunData(nilCtx, tapeml.EvalOptions{}); return err }, "nil context"},
		{"nil context, TestSample", func() error { _, _, err := text.TestSample(nilCtx, 1); return err }, "nil context"},
		{"nil context, Recommend", func() error { _, err := rec.Recommend(nilCtx, "1", 3); return err }, "nil context"},
		{"nil context, PredictRatings", func() error {
			_, err := rec.PredictRatings(nilCtx, []tapeml.UserItem{{User: "1", Item: "2"}})
			return err
		}, "nil context"},
		{"nil context, SimilarItems", func() error { _, err := rec.SimilarItems(nilCtx, "1", 3); return err }, "nil context"},
		{"nil context, SimilarUsers", func() error { _, err := rec.SimilarUsers(nilCtx, "1", 3); return err }, "nil context"},
		{"nil context, explain.Texts", func() error { _, err := explain.Texts(nilCtx, text, []string{"a"}, explain.Options{}); return err }, "explain: Texts: nil context"},
		{"nil context, explain.Images", func() error { _, err := explain.Images(nilCtx, gray, imgs, explain.Options{}); return err }, "nil context"},
		{"nil context, explain.Recommendation", func() error { _, err := explain.Recommendation(nilCtx, rec, "1", "2"); return err }, "nil context"},
		{"explain.Pixels with n = 1+2^60", func() error { _, err := explain.Pixels(ctx, gray, raw, huge, explain.Options{}); return err }, "64 values for 1152921504606846977 images"},
		{"heat map of scale 100000", func() error {
			ex, err := explain.Images(ctx, gray, imgs, explain.Options{Method: explain.MethodSaliency})
			if err != nil {
				return err
			}
			_, err = ex[0].HeatMap(100000)
			return err
		}, "heat map scale 100000: want 1 to 512 for a 8×8 image"},
		{"heat map of scale 0", func() error {
			ex, err := explain.Images(ctx, gray, imgs, explain.Options{Method: explain.MethodSaliency})
			if err != nil {
				return err
			}
			_, err = ex[0].HeatMap(0)
			return err
		}, "heat map scale 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	ex, err := explain.Images(ctx, gray, imgs, explain.Options{Method: explain.MethodSaliency})
	if err != nil {
		t.Fatal(err)
	}
	if img, err := ex[0].HeatMap(512); err != nil || img.Bounds().Dx()*img.Bounds().Dy() > explain.MaxHeatMapPixels {
		t.Fatalf("the largest heat map: %v", err)
	}
}

// A pad id outside the embedding is refused when the checkpoint is
// opened, naming the field, instead of every request failing.
func TestPadOutsideVocabularyRefusedAtLoad(t *testing.T) {
	c, err := checkpoint.Load(filepath.Join(legacy, "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pad := range []int{60, 1000, -1} { // num_words is 60
		var pre map[string]any
		if err := json.Unmarshal(c.Meta.Preprocessing, &pre); err != nil {
			t.Fatal(err)
		}
		pre["pad"].(map[string]any)["Value"] = pad
		cc := *c
		if cc.Meta.Preprocessing, err = json.Marshal(pre); err != nil {
			t.Fatal(err)
		}
		cc.Dir = ""
		dir := filepath.Join(t.TempDir(), "pad")
		if err := checkpoint.Save(dir, &cc); err != nil {
			t.Fatal(err)
		}
		_, err := tapeml.Load(dir)
		if err == nil || !strings.Contains(err.Error(), "pad value") || !strings.Contains(err.Error(), "num_words 60") {
			t.Errorf("pad %d: %v, want an error naming the pad value", pad, err)
		}
	}
}
