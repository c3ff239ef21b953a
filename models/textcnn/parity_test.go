package textcnn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
)

// The golden is written by tools/pytorch/textcnn_golden.py with PyTorch:
// regenerate it with /usr/bin/python3 tools/pytorch/textcnn_golden.py.
const parityGolden = "testdata/parity.json"

// parityTensor is one tensor of the golden, flattened row-major.
type parityTensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// parityRun is PyTorch's forward and backward pass in one precision.
type parityRun struct {
	Logits parityTensor   `json:"logits"`
	Loss   float64        `json:"loss"`
	Grads  []parityTensor `json:"grads"` // state_dict order
}

type parityFile struct {
	Config  Config         `json:"config"`
	IDs     [][]int        `json:"ids"`
	Labels  []float64      `json:"labels"`
	Params  []parityTensor `json:"params"` // float64, state_dict order
	Float64 parityRun      `json:"float64"`
	Float32 parityRun      `json:"float32"`
}

func loadParity(t *testing.T) *parityFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(parityGolden))
	if err != nil {
		t.Fatal(err)
	}
	var g parityFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", parityGolden, err)
	}
	if len(g.IDs) == 0 || len(g.IDs) != len(g.Labels) || len(g.Params) == 0 {
		t.Fatalf("%s: %d id rows, %d labels, %d params: regenerate it", parityGolden, len(g.IDs), len(g.Labels), len(g.Params))
	}
	return &g
}

// TestParityWithPyTorch loads PyTorch's weights into the tapeml model and
// checks the logits (of the training and the inference machine), the mean
// loss and the gradient of every parameter against PyTorch's, element by
// element: in float64, where only summation order differs, and in float32.
func TestParityWithPyTorch(t *testing.T) {
	g := loadParity(t)
	for _, c := range []struct {
		dtype tensor.Dtype
		tol   float64 // relative, per element
	}{
		{tensor.Float64, 1e-9},
		{tensor.Float32, 1e-4},
	} {
		t.Run(c.dtype.String(), func(t *testing.T) {
			for _, err := range runParity(t, g, c.dtype, c.tol, nil) {
				t.Error(err)
			}
		})
	}
}

// TestParityDetectsAWrongWeight shows the comparison is sharp enough to
// catch a slip far smaller than any layer bug: one conv weight off by one
// part in 10⁷.
func TestParityDetectsAWrongWeight(t *testing.T) {
	g := loadParity(t)
	errs := runParity(t, g, tensor.Float64, 1e-9, func(ps *graph.Params) {
		ps.Get("conv.weight").Value.Float64s()[0] *= 1 + 1e-7
	})
	if len(errs) == 0 {
		t.Fatal("a perturbed conv.weight still matched PyTorch")
	}
	t.Logf("as expected: %v", errs[0])
}

// runParity builds the model of the golden in dtype with PyTorch's weights
// (then applies tamper, if any), runs one training step and one inference
// pass on the golden batch, and returns every disagreement with PyTorch.
func runParity(t *testing.T, g *parityFile, dtype tensor.Dtype, tol float64, tamper func(*graph.Params)) []error {
	t.Helper()
	want := &g.Float64
	if dtype == tensor.Float32 {
		want = &g.Float32
	}
	model, err := New(g.Config)
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(dtype, 1)
	prog := graph.NewProgram(model.Build, params, &graph.Noise{})
	if err := prog.Materialize(); err != nil {
		t.Fatal(err)
	}
	loadParityParams(t, params, g.Params)
	if tamper != nil {
		tamper(params)
	}
	n := len(g.IDs)
	ids, labels := parityBatch(g, dtype)

	m, err := prog.Machine(n, graph.Train)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run([]*tensor.Dense{ids}, labels); err != nil {
		t.Fatal(err)
	}
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	note(compare("logits", m.Output(), want.Logits, tol))
	note(compare("loss", tensor.New(tensor.FromScalar(m.Loss())), parityTensor{Shape: []int{}, Data: []float64{want.Loss}}, tol))
	grads := m.Gradients()
	if len(grads) != len(want.Grads) {
		t.Fatalf("%d gradients, PyTorch has %d", len(grads), len(want.Grads))
	}
	for i, gr := range grads {
		if gr.Param.Name != want.Grads[i].Name {
			t.Fatalf("gradient %d is of %q, PyTorch's of %q", i, gr.Param.Name, want.Grads[i].Name)
		}
		note(compare("gradient of "+gr.Param.Name, gr.Grad, want.Grads[i], tol))
	}

	// The model has no dropout, so inference gives the training logits.
	ev, err := prog.Machine(n, graph.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Run([]*tensor.Dense{ids}, labels); err != nil {
		t.Fatal(err)
	}
	note(compare("inference logits", ev.Output(), want.Logits, tol))
	return errs
}

// loadParityParams copies PyTorch's weights into the store by name, after
// checking that the store holds the same names and shapes in the same order.
func loadParityParams(t *testing.T, params *graph.Params, want []parityTensor) {
	t.Helper()
	list := params.List()
	if len(list) != len(want) {
		t.Fatalf("%d parameters, PyTorch's state_dict has %d", len(list), len(want))
	}
	for i, p := range list {
		w := want[i]
		if p.Name != w.Name || !slices.Equal(p.Shape(), w.Shape) {
			t.Fatalf("parameter %d is %s %v, PyTorch's is %s %v", i, p.Name, p.Shape(), w.Name, w.Shape)
		}
		if len(w.Data) != p.Value.Shape().TotalSize() {
			t.Fatalf("%s: the golden has %d values for shape %v", w.Name, len(w.Data), w.Shape)
		}
		switch d := p.Value.Data().(type) {
		case []float64:
			copy(d, w.Data)
		case []float32:
			for j, v := range w.Data {
				d[j] = float32(v) // round to nearest, as torch's .float()
			}
		}
	}
}

// parityBatch returns the golden ids [N, MaxLen] and labels [N] as tensors of dt.
func parityBatch(g *parityFile, dt tensor.Dtype) (ids, labels *tensor.Dense) {
	var flat []float64
	for _, row := range g.IDs {
		for _, id := range row {
			flat = append(flat, float64(id))
		}
	}
	return denseOf(dt, flat, len(g.IDs), len(g.IDs[0])), denseOf(dt, g.Labels, len(g.Labels))
}

func denseOf(dt tensor.Dtype, vals []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(slices.Clone(vals)))
	}
	v32 := make([]float32, len(vals))
	for i, v := range vals {
		v32[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v32))
}

// compare checks got against PyTorch's want element by element: each must
// be within tol·|want| (so PyTorch's exact zeros, such as the gradient rows
// of unused token ids, must be exact zeros). The error names the worst
// element by its index.
func compare(what string, got *tensor.Dense, want parityTensor, tol float64) error {
	if !slices.Equal([]int(got.Shape()), want.Shape) {
		return fmt.Errorf("%s: shape %v, PyTorch's %v", what, got.Shape(), want.Shape)
	}
	vals := floats(got)
	if len(vals) != len(want.Data) {
		return fmt.Errorf("%s: %d values, PyTorch has %d", what, len(vals), len(want.Data))
	}
	worst, at := 0.0, -1
	for i, w := range want.Data {
		if vals[i] == w {
			continue
		}
		if rel := math.Abs(vals[i]-w) / math.Abs(w); rel > worst || math.IsNaN(rel) {
			worst, at = rel, i
			if math.IsNaN(rel) {
				break
			}
		}
	}
	if at >= 0 && !(worst <= tol) {
		return fmt.Errorf("%s: element %v is %v, PyTorch's %v (relative error %.3g > %g)",
			what, unravel(at, want.Shape), vals[at], want.Data[at], worst, tol)
	}
	return nil
}

// unravel turns a row-major flat index into per-axis indices.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for a := len(shape) - 1; a >= 0; a-- {
		idx[a] = i % shape[a]
		i /= shape[a]
	}
	return idx
}

// floats returns t's values as float64s.
func floats(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	panic(fmt.Sprintf("unexpected %T", t.Data()))
}
