package textcnn

import (
	"encoding/json"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/testutil/paritytest"
)

// The golden is written by tools/pytorch/textcnn_golden.py with PyTorch 1.13:
// regenerate it with /usr/bin/python3 tools/pytorch/textcnn_golden.py.
const parityGolden = "testdata/parity.json"

// runParity checks the model of the golden in dtype against PyTorch's
// results (after tamper, if any) and returns the comparer's findings.
func runParity(t *testing.T, dtype tensor.Dtype, tol, floor float64, tamper func(*graph.Params)) *paritytest.Comparer {
	t.Helper()
	return runGolden(t, parityGolden, dtype, tol, floor, tamper)
}

// runGolden is runParity with the golden at path.
func runGolden(t *testing.T, path string, dtype tensor.Dtype, tol, floor float64, tamper func(*graph.Params)) *paritytest.Comparer {
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
	cmp := &paritytest.Comparer{Tol: tol, Floor: floor}
	paritytest.RunText(t, g, model.Build, model.Loss, dtype, cmp, tamper)
	return cmp
}

// TestParityWithPyTorch loads PyTorch's weights into the tapeml model and
// checks the logits (of the training and the inference machine), the mean
// loss and the gradient of every parameter against PyTorch's, element by
// element: in float64, where only summation order differs, and in float32.
// Floor 0: PyTorch's exact zeros (unused ids' gradient rows) must stay zero.
func TestParityWithPyTorch(t *testing.T) {
	for _, c := range []struct {
		dtype tensor.Dtype
		tol   float64 // per element, relative to max(|PyTorch's|, floor)
		floor float64
	}{
		{tensor.Float64, 1e-9, 0},
		{tensor.Float32, 1e-4, 0},
	} {
		t.Run(c.dtype.String(), func(t *testing.T) {
			cmp := runParity(t, c.dtype, c.tol, c.floor, nil)
			for _, err := range cmp.Errs {
				t.Error(err)
			}
			t.Logf("worst error %.3g (%s)", cmp.Worst, cmp.WorstWhat)
		})
	}
}

// TestParityDetectsAWrongWeight shows the comparison is sharp enough to
// catch a slip far smaller than any layer bug: one conv weight off by one
// part in 10⁷.
func TestParityDetectsAWrongWeight(t *testing.T) {
	cmp := runParity(t, tensor.Float64, 1e-9, 0, func(ps *graph.Params) {
		ps.Get("conv.weight").Value.Float64s()[0] *= 1 + 1e-7
	})
	if len(cmp.Errs) == 0 {
		t.Fatal("a perturbed conv.weight still matched PyTorch")
	}
	t.Logf("as expected: %v", cmp.Errs[0])
}

// The goldens of tools/pytorch/text_golden.py (regenerate them with
// /usr/bin/python3 tools/pytorch/text_golden.py): the newer heads and
// architectures, on a batch padded every way a row can be, including a row
// of padding only, with the same tolerances as TestParityWithPyTorch.
func TestTextGoldenParityWithPyTorch(t *testing.T) {
	for _, g := range []struct{ path, what string }{
		{"testdata/kim_parity.json", "Kim TextCNN, 3 classes with CrossEntropyLoss(weight)"},
		{"testdata/kim_binary_parity.json", "Kim TextCNN, binary"},
		{"testdata/kim_norm_parity.json", "Kim TextCNN, LayerNorm, binary with class weights"},
	} {
		for _, c := range []struct {
			dtype tensor.Dtype
			tol   float64
		}{{tensor.Float64, 1e-9}, {tensor.Float32, 1e-4}} {
			t.Run(g.what+"/"+c.dtype.String(), func(t *testing.T) {
				cmp := runGolden(t, g.path, c.dtype, c.tol, 0, nil)
				for _, err := range cmp.Errs {
					t.Error(err)
				}
				t.Logf("worst error %.3g (%s)", cmp.Worst, cmp.WorstWhat)
			})
		}
	}
}
