package lstm

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

// The golden is written by tools/pytorch/lstm_golden.py with PyTorch 1.13:
// regenerate it with /usr/bin/python3 tools/pytorch/lstm_golden.py.
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

// TestParityWithPyTorch loads the weights of PyTorch's RNN (dropout 0) into
// the tapeml model and checks the logits (of the training and the inference
// machine), the mean loss and the gradient of every parameter against
// PyTorch's, element by element, in float64 and in float32. The batch is
// Keras-style pre-padded, with a text of one token and one of none, while
// PyTorch packs the real tokens.
func TestParityWithPyTorch(t *testing.T) {
	g := loadParity(t)
	for _, c := range []struct {
		dtype tensor.Dtype
		tol   float64 // per element, relative to max(|PyTorch's|, floor)
		floor float64
	}{
		{tensor.Float64, 1e-9, 1e-9},
		{tensor.Float32, 1e-4, 1e-3},
	} {
		t.Run(c.dtype.String(), func(t *testing.T) {
			errs, worst := runParity(t, g, c.dtype, c.tol, c.floor, nil)
			for _, err := range errs {
				t.Error(err)
			}
			t.Logf("worst error %s", worst)
		})
	}
}

// TestParityDetectsAWrongWeight shows the comparison is sharp enough to
// catch one recurrent weight off by one part in 10⁷.
func TestParityDetectsAWrongWeight(t *testing.T) {
	g := loadParity(t)
	errs, _ := runParity(t, g, tensor.Float64, 1e-9, 1e-9, func(ps *graph.Params) {
		ps.Get("rnn.weight_hh_l1_reverse").Value.Float64s()[0] *= 1 + 1e-7
	})
	if len(errs) == 0 {
		t.Fatal("a perturbed rnn.weight_hh_l1_reverse still matched PyTorch")
	}
	t.Logf("as expected: %v", errs[0])
}

// runParity builds the model of the golden in dtype with PyTorch's weights
// (then applies tamper, if any), runs one training step and one inference
// pass on the golden batch, and returns every disagreement with PyTorch and
// a description of the worst error.
func runParity(t *testing.T, g *parityFile, dtype tensor.Dtype, tol, floor float64, tamper func(*graph.Params)) ([]error, string) {
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
	cmp := comparer{tol: tol, floor: floor}

	m, err := prog.Machine(n, graph.Train)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run([]*tensor.Dense{ids}, labels); err != nil {
		t.Fatal(err)
	}
	cmp.check("logits", m.Output(), want.Logits)
	cmp.check("loss", tensor.New(tensor.FromScalar(m.Loss())), parityTensor{Shape: []int{}, Data: []float64{want.Loss}})
	grads := m.Gradients()
	if len(grads) != len(want.Grads) {
		t.Fatalf("%d gradients, PyTorch has %d", len(grads), len(want.Grads))
	}
	for i, gr := range grads {
		if gr.Param.Name != want.Grads[i].Name {
			t.Fatalf("gradient %d is of %q, PyTorch's of %q", i, gr.Param.Name, want.Grads[i].Name)
		}
		cmp.check("gradient of "+gr.Param.Name, gr.Grad, want.Grads[i])
	}

	ev, err := prog.Machine(n, graph.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Run([]*tensor.Dense{ids}, labels); err != nil {
		t.Fatal(err)
	}
	cmp.check("inference logits", ev.Output(), want.Logits)
	return cmp.errs, fmt.Sprintf("%.3g (%s)", cmp.worst, cmp.worstWhat)
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

// comparer checks tensors against PyTorch's element by element: each must
// be within tol·max(|want|, floor), so PyTorch's exact zeros (the padding
// row of the embedding gradient, unused ids) must stay within tol·floor. It
// collects the disagreements and tracks the worst relative error.
type comparer struct {
	tol, floor float64
	errs       []error
	worst      float64
	worstWhat  string
}

func (c *comparer) check(what string, got *tensor.Dense, want parityTensor) {
	if !slices.Equal([]int(got.Shape()), want.Shape) {
		c.errs = append(c.errs, fmt.Errorf("%s: shape %v, PyTorch's %v", what, got.Shape(), want.Shape))
		return
	}
	vals := floats(got)
	if len(vals) != len(want.Data) {
		c.errs = append(c.errs, fmt.Errorf("%s: %d values, PyTorch has %d", what, len(vals), len(want.Data)))
		return
	}
	worst, at := 0.0, -1
	for i, w := range want.Data {
		e := math.Abs(vals[i]-w) / math.Max(math.Abs(w), c.floor)
		if e > worst || math.IsNaN(e) {
			worst, at = e, i
			if math.IsNaN(e) {
				break
			}
		}
	}
	if at < 0 {
		return
	}
	if worst > c.worst || math.IsNaN(worst) {
		c.worst, c.worstWhat = worst, what
	}
	if !(worst <= c.tol) {
		c.errs = append(c.errs, fmt.Errorf("%s: element %v is %v, PyTorch's %v (relative error %.3g > %g)",
			what, unravel(at, want.Shape), vals[at], want.Data[at], worst, c.tol))
	}
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
