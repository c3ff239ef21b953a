package explain_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/explain"
	"github.com/tapeml/tapeml/internal/core"
)

var explainTexts = []string{
	"WIN free cash NOW, claim your urgent prize",
	"Meeting tomorrow with the team: review the draft agenda",
	"your call at the meeting",
}

// IG on the legacy text models and a random convnet: completeness within
// 1%, tokens aligned with the words as written, endpoints consistent
// with the serving graph's logits.
func TestExplainCompleteness(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"textcnn", "lstm"} {
		m, err := tapeml.Load(filepath.Join(legacy, kind))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{explain.QuadratureGauss, explain.QuadratureRiemann} {
			for _, base := range []string{explain.BaselinePad, explain.BaselineZeros} {
				ex, err := explain.Texts(ctx, m, explainTexts, explain.Options{Quadrature: q, Baseline: base, Steps: 200})
				if err != nil {
					t.Fatal(err)
				}
				ids, _ := m.EncodeTexts(explainTexts)
				logits, _ := m.Forward(ctx, [][]float32{ids}, len(explainTexts))
				for i, e := range ex {
					if !e.Converged() {
						t.Errorf("%s %s %s text %d: delta %.3g of f(x)−f(b) = %.3g", kind, q, base, i, e.Delta, e.FX-e.FBaseline)
					}
					if math.Abs(e.FX-float64(logits[i])) > 1e-4 {
						t.Errorf("%s text %d: f(x) %v, serving logit %v", kind, i, e.FX, logits[i])
					}
					if len(e.Tokens) == 0 {
						t.Errorf("%s text %d: no tokens", kind, i)
					}
				}
			}
		}
		ex, err := explain.Texts(ctx, m, explainTexts[:1], explain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var words []string
		for _, tok := range ex[0].Tokens {
			words = append(words, tok.Token)
		}
		if kind == "textcnn" && ex[0].Padding != 0 {
			t.Errorf("textcnn: padding attribution %v with the padding baseline, want 0", ex[0].Padding)
		}
		if got := strings.Join(words, " "); !strings.Contains(got, "WIN") || !strings.Contains(got, "NOW") {
			t.Errorf("%s: tokens %q lost the case the text was written in", kind, got)
		}
	}
	m, err := tapeml.Load(convnetCheckpoint(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	// A random convnet's logits barely move between image and baseline
	// (|f(x) − f(b)| ≈ 0.003) across many ReLU and max-pool kinks, so the
	// quadrature needs more points than a trained model's does.
	_, imgs := pixels(2, 3)
	for _, base := range []string{explain.BaselineBlack, explain.BaselineBlur} {
		ex, err := explain.Images(ctx, m, imgs, explain.Options{Baseline: base, Steps: 1000})
		if err != nil {
			t.Fatal(err)
		}
		preds, _ := m.ClassifyImages(ctx, imgs)
		for i, e := range ex {
			if !e.Converged() {
				t.Errorf("convnet %s image %d: delta %.3g of %.3g", base, i, e.Delta, e.FX-e.FBaseline)
			}
			if e.Target != preds[i].Class || len(e.Scores) != 64 {
				t.Errorf("image %d: target %s (predicted %s), %d scores", i, e.Target, preds[i].Class, len(e.Scores))
			}
		}
	}
}

// Saliency and occlusion agree with their definitions on the legacy
// TextCNN: occlusion of a token is the drop of the logit when its
// embedding becomes the padding's, which for TextCNN equals removing the
// token and padding in its place only if positions shift — so it is
// checked against Forward with that token's id set to the padding id.
func TestExplainMethods(t *testing.T) {
	ctx := context.Background()
	m, err := tapeml.Load(filepath.Join(legacy, "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	occ, err := explain.Texts(ctx, m, explainTexts[:2], explain.Options{Method: explain.MethodOcclusion})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := m.EncodeTexts(explainTexts[:2])
	L := len(ids) / 2
	for i, e := range occ {
		row := ids[i*L : (i+1)*L]
		at := L - len(e.Tokens)
		for j, tok := range e.Tokens {
			x := append([]float32(nil), row...)
			x[at+j] = 0
			f, err := m.Forward(ctx, [][]float32{x}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if want := e.FX - float64(f[0]); math.Abs(tok.Score-want) > 1e-4 {
				t.Errorf("text %d token %d %q: occlusion %v, want %v", i, j, tok.Token, tok.Score, want)
			}
		}
	}
	sal, err := explain.Texts(ctx, m, explainTexts[:2], explain.Options{Method: explain.MethodSaliency})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range sal {
		for _, tok := range e.Tokens {
			if tok.Score < 0 {
				t.Errorf("text %d: negative saliency %v", i, tok.Score)
			}
		}
	}
	img, err := tapeml.Load(convnetCheckpoint(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	_, imgs := pixels(2, 1)
	for _, method := range []string{explain.MethodOcclusion, explain.MethodSaliency} {
		ex, err := explain.Images(ctx, img, imgs, explain.Options{Method: method, Window: 3, Stride: 2})
		if err != nil {
			t.Fatal(err)
		}
		nonzero := 0
		for _, s := range ex[0].Scores {
			if s != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("%s: all scores zero", method)
		}
	}
}

// Many goroutines explaining at once get what one gets alone (run with
// -race).
func TestExplainConcurrent(t *testing.T) {
	ctx := context.Background()
	text, err := tapeml.Load(filepath.Join(legacy, "lstm"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := tapeml.Load(convnetCheckpoint(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	opts := explain.Options{Steps: 8}
	wantText, err := explain.Texts(ctx, text, explainTexts, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, imgs := pixels(3, 5)
	wantImg, err := explain.Images(ctx, img, imgs, opts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for range 3 {
				if g%2 == 0 {
					got, err := explain.Texts(ctx, text, explainTexts, opts)
					if err != nil {
						errs <- err
						return
					}
					for i := range got {
						for j, tok := range got[i].Tokens {
							if tok.Score != wantText[i].Tokens[j].Score {
								errs <- fmt.Errorf("goroutine %d text %d token %d: %v, alone %v", g, i, j, tok.Score, wantText[i].Tokens[j].Score)
								return
							}
						}
					}
					continue
				}
				got, err := explain.Images(ctx, img, imgs, opts)
				if err != nil {
					errs <- err
					return
				}
				for i := range got {
					for k, s := range got[i].Scores {
						if s != wantImg[i].Scores[k] {
							errs <- fmt.Errorf("goroutine %d image %d pixel %d: %v, alone %v", g, i, k, s, wantImg[i].Scores[k])
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestExplainBadInput(t *testing.T) {
	ctx := context.Background()
	text, err := tapeml.Load(filepath.Join(legacy, "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	gray, err := tapeml.Load(convnetCheckpoint(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := tapeml.Load(filepath.Join(legacy, "knn"))
	if err != nil {
		t.Fatal(err)
	}
	colour := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 64 {
		colour.Set(i%8, i/8, color.RGBA{R: uint8(i * 4), G: 10, B: 200, A: 255})
	}
	_, imgs := pixels(1, 0)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"unknown target", func() error {
			_, err := explain.Texts(ctx, text, []string{"win cash"}, explain.Options{Target: "eggs"})
			return err
		}, `unknown target class "eggs"`},
		{"unknown image target", func() error {
			_, err := explain.Images(ctx, gray, imgs, explain.Options{Target: "z"})
			return err
		}, `unknown target class "z"`},
		{"all out of vocabulary", func() error {
			_, err := explain.Texts(ctx, text, []string{"win cash", "zzqx blorf"}, explain.Options{})
			return err
		}, "text 1: none of its 2 words is in the model's vocabulary"},
		{"empty text", func() error { _, err := explain.Texts(ctx, text, []string{""}, explain.Options{}); return err }, "text 0: it has no words"},
		{"colour image for a grayscale model", func() error {
			_, err := explain.Images(ctx, gray, []image.Image{imgs[0], colour}, explain.Options{})
			return err
		}, "image 1"},
		{"negative steps", func() error {
			_, err := explain.Texts(ctx, text, []string{"win"}, explain.Options{Steps: -1})
			return err
		}, "Steps is -1"},
		{"one trapezoid step", func() error {
			_, err := explain.Texts(ctx, text, []string{"win"}, explain.Options{Steps: 1, Quadrature: "riemann"})
			return err
		}, "at least 2 steps"},
		{"unknown method", func() error {
			_, err := explain.Texts(ctx, text, []string{"win"}, explain.Options{Method: "shap"})
			return err
		}, `unknown attribution method "shap"`},
		{"image baseline for text", func() error {
			_, err := explain.Texts(ctx, text, []string{"win"}, explain.Options{Baseline: "blur"})
			return err
		}, `unknown text baseline "blur"`},
		{"texts to an image model", func() error { _, err := explain.Texts(ctx, gray, []string{"a"}, explain.Options{}); return err }, "Texts needs a text model"},
		{"images to a recommender", func() error { _, err := explain.Images(ctx, rec, imgs, explain.Options{}); return err }, "Images needs an image model"},
		{"cancelled", func() error { _, err := explain.Images(cancelled, gray, imgs, explain.Options{}); return err }, context.Canceled.Error()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestSpearman(t *testing.T) {
	cases := []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{[]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		{[]float64{1, 2, 3}, []float64{1, 3, 2}, 0.5},
		{[]float64{1, 1, 2}, []float64{1, 2, 3}, math.Sqrt(3) / 2}, // ties share the mean rank
	}
	for _, c := range cases {
		if got := explain.Spearman(c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Spearman(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	for _, c := range [][2][]float64{{{1, 1}, {1, 2}}, {{1}, {1}}, {{1, 2}, {1, 2, 3}}} {
		if got := explain.Spearman(c[0], c[1]); !math.IsNaN(got) {
			t.Errorf("Spearman(%v, %v) = %v, want NaN", c[0], c[1], got)
		}
	}
}

// Randomized re-initializes exactly the top layers.
func TestRandomized(t *testing.T) {
	m, err := tapeml.Load(filepath.Join(legacy, "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(explain.Layers(m), " "); got != "embedding conv fc" {
		t.Fatalf("layers %q", got)
	}
	r, err := explain.Randomized(m, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range core.Unwrap(m).Loaded.Params.List() {
		q := core.Unwrap(r).Loaded.Params.Get(p.Name)
		same := true
		for i, v := range p.Value.Float32s() {
			if q.Value.Float32s()[i] != v {
				same = false
			}
		}
		if same != !strings.HasPrefix(p.Name, "fc.") {
			t.Errorf("%s: unchanged %v after re-initializing fc", p.Name, same)
		}
	}
	if _, err := explain.Randomized(m, 3, 5); err != nil {
		t.Errorf("re-initializing all 3 layers: %v", err)
	}
	if _, err := explain.Randomized(m, 4, 5); err == nil || !strings.Contains(err.Error(), "4 layers; the model has 3") {
		t.Errorf("error %v", err)
	}
}

// The HTML page names the model, its version, the prediction and the true
// class, has a numeric legend, lists each unknown word once with its
// count, and escapes what the text holds.
func TestTextPage(t *testing.T) {
	m, err := tapeml.Load(filepath.Join(legacy, "textcnn"))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := explain.Texts(context.Background(), m, []string{"WIN free cash xyzzy NOW xyzzy <script>alert(1)</script> plugh"}, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	c := explain.Context{Model: "textcnn", Version: "runs/spam (epoch 7)", Input: "message 3", TrueClass: "ham"}
	if err := ex[0].WriteHTML(&b, c); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	want := []string{
		fmt.Sprintf("<h1>predicted %s (p = %.3f) · true ham", ex[0].Prediction.Class, ex[0].Prediction.Prob),
		"textcnn · runs/spam (epoch 7) · message 3",
		"attribution to spam", ">0</span>", "green speaks for spam",
		"xyzzy ×2", "adaptive quadrature: ", "evaluations (budget 1500)",
	}
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if strings.Count(page, "xyzzy") != 1 || strings.Contains(page, "<script>") {
		t.Errorf("unknown words repeated or the text unescaped:\n%s", page)
	}
	largest := 0.0
	for _, tok := range ex[0].Tokens {
		largest = max(largest, math.Abs(tok.Score))
	}
	if !strings.Contains(page, fmt.Sprintf(">-%.2g</span>", largest)) {
		t.Errorf("the legend does not end at the largest |score| %.2g", largest)
	}
}
