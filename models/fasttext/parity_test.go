package fasttext

import (
	"encoding/json"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/paritytest"
)

// runGolden checks the model of the golden at path in dtype against
// PyTorch's results (after tamper, if any) and returns the comparer's
// findings. The goldens are written by tools/pytorch/text_golden.py with
// PyTorch 1.13: regenerate them with /usr/bin/python3 tools/pytorch/text_golden.py.
func runGolden(t *testing.T, path string, dtype tensor.Dtype, tol float64, tamper func(*graph.Params)) *paritytest.Comparer {
	t.Helper()
	g := paritytest.LoadText(t, path)
	var cfg Config
	if err := json.Unmarshal(g.Config, &cfg); err != nil {
		t.Fatalf("%s: config: %v", path, err)
	}
	model, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmp := &paritytest.Comparer{Tol: tol}
	paritytest.RunText(t, g, model.Build, model.Loss, dtype, cmp, tamper)
	return cmp
}

// TestParityWithPyTorch loads the weights of PyTorch's FastText module into
// the tapeml model and checks the logits, the mean loss and every gradient
// element against PyTorch's, in float64 and float32: a binary model with
// BCEWithLogitsLoss(weight) and a 4-class one with CrossEntropyLoss, on
// rows padded before, after, inside and all through (the bigrams that
// touch padding are left out, as the module does).
func TestParityWithPyTorch(t *testing.T) {
	for _, g := range []struct{ path, what string }{
		{"testdata/parity.json", "binary, weighted"},
		{"testdata/classes_parity.json", "4 classes"},
	} {
		for _, c := range []struct {
			dtype tensor.Dtype
			tol   float64
		}{{tensor.Float64, 1e-9}, {tensor.Float32, 1e-4}} {
			t.Run(g.what+"/"+c.dtype.String(), func(t *testing.T) {
				cmp := runGolden(t, g.path, c.dtype, c.tol, nil)
				for _, err := range cmp.Errs {
					t.Error(err)
				}
				t.Logf("worst error %.3g (%s)", cmp.Worst, cmp.WorstWhat)
			})
		}
	}
}

// TestParityDetectsAWrongBigramRow: one bigram row's weight off by one part
// in 10⁷ is caught, so the hashed rows are checked, not just the words'.
func TestParityDetectsAWrongBigramRow(t *testing.T) {
	cmp := runGolden(t, "testdata/parity.json", tensor.Float64, 1e-9, func(ps *graph.Params) {
		w := ps.Get("embedding.weight").Value.Float64s()
		for i := 40 * 6; i < len(w); i++ { // the first nonzero bigram weight
			if w[i] != 0 {
				w[i] *= 1 + 1e-7
				break
			}
		}
	})
	if len(cmp.Errs) == 0 {
		t.Fatal("a perturbed bigram row still matched PyTorch")
	}
	t.Logf("as expected: %v", cmp.Errs[0])
}
