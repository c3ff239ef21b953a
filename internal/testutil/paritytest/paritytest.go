// Package paritytest checks tapeml's text classifiers against goldens that
// PyTorch wrote (tools/pytorch/*_golden.py): it loads PyTorch's weights into
// a model, runs one training step and one inference pass on the golden
// batch, and compares logits, loss and every gradient element by element.
// It is used by the models' tests only.
package paritytest

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

// Tensor is one tensor of a golden, flattened row-major.
type Tensor struct {
	Name  string    `json:"name"`
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// Result is PyTorch's forward and backward pass in one precision.
type Result struct {
	Logits Tensor   `json:"logits"`
	Loss   float64  `json:"loss"`
	Grads  []Tensor `json:"grads"` // state_dict order
}

// TextGolden is a text classifier's golden: the model configuration (for the
// model package to decode), a batch of ids with labels, PyTorch's weights and
// its results in float64 and float32.
type TextGolden struct {
	Config  json.RawMessage `json:"config"`
	IDs     [][]int         `json:"ids"`
	Labels  []float64       `json:"labels"`
	Params  []Tensor        `json:"params"` // float64, state_dict order
	Float64 Result          `json:"float64"`
	Float32 Result          `json:"float32"`
}

// LoadText reads a golden and checks it is not empty.
func LoadText(t testing.TB, path string) *TextGolden {
	t.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	var g TextGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(g.IDs) == 0 || len(g.IDs) != len(g.Labels) || len(g.Params) == 0 {
		t.Fatalf("%s: %d id rows, %d labels, %d params: regenerate it", path, len(g.IDs), len(g.Labels), len(g.Params))
	}
	return &g
}

// RunText builds the model in dtype with PyTorch's weights (then applies
// tamper, if any), runs one training step and one inference pass on the
// golden batch, and reports every disagreement to cmp. The model must have
// no active dropout for the comparison to hold.
func RunText(t testing.TB, g *TextGolden, build graph.BuildFunc, loss graph.LossFunc, dtype tensor.Dtype, cmp *Comparer, tamper func(*graph.Params)) {
	t.Helper()
	want := &g.Float64
	if dtype == tensor.Float32 {
		want = &g.Float32
	}
	params := graph.NewParams(dtype, 1)
	prog := graph.NewProgram(build, loss, params, &graph.Noise{})
	if err := prog.Materialize(); err != nil {
		t.Fatal(err)
	}
	LoadParams(t, params, g.Params)
	if tamper != nil {
		tamper(params)
	}
	var flat []float64
	for _, row := range g.IDs {
		for _, id := range row {
			flat = append(flat, float64(id))
		}
	}
	n := len(g.IDs)
	ids, labels := Dense(dtype, flat, n, len(g.IDs[0])), Dense(dtype, g.Labels, n)

	m, err := prog.Machine(n, graph.Train)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run([]*tensor.Dense{ids}, labels); err != nil {
		t.Fatal(err)
	}
	cmp.Check("logits", m.Output(), want.Logits)
	cmp.Check("loss", tensor.New(tensor.FromScalar(m.Loss())), Tensor{Shape: []int{}, Data: []float64{want.Loss}})
	grads := m.Gradients()
	if len(grads) != len(want.Grads) {
		t.Fatalf("%d gradients, PyTorch has %d", len(grads), len(want.Grads))
	}
	for i, gr := range grads {
		if gr.Param.Name != want.Grads[i].Name {
			t.Fatalf("gradient %d is of %q, PyTorch's of %q", i, gr.Param.Name, want.Grads[i].Name)
		}
		cmp.Check("gradient of "+gr.Param.Name, gr.Grad, want.Grads[i])
	}
	// Without dropout, inference gives the training logits.
	ev, err := prog.Machine(n, graph.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Run([]*tensor.Dense{ids}, labels); err != nil {
		t.Fatal(err)
	}
	cmp.Check("inference logits", ev.Output(), want.Logits)
	// The serving graph (no loss, no targets) gives them too.
	inf, err := prog.Machine(n, graph.Infer)
	if err != nil {
		t.Fatal(err)
	}
	if err := inf.Run([]*tensor.Dense{ids}, nil); err != nil {
		t.Fatal(err)
	}
	cmp.Check("serving logits", inf.Output(), want.Logits)
}

// LoadParams copies PyTorch's weights into the store by name, after checking
// that the store holds the same names and shapes in the same order.
func LoadParams(t testing.TB, params *graph.Params, want []Tensor) {
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

// Dense makes a tensor of dt holding vals.
func Dense(dt tensor.Dtype, vals []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(slices.Clone(vals)))
	}
	v32 := make([]float32, len(vals))
	for i, v := range vals {
		v32[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v32))
}

// Comparer checks tensors against PyTorch's element by element: each must be
// within Tol·max(|want|, Floor). With Floor 0, PyTorch's exact zeros must be
// exact zeros. It collects the disagreements and tracks the worst relative
// error.
type Comparer struct {
	Tol, Floor float64
	Errs       []error
	Worst      float64
	WorstWhat  string
}

// Check compares one tensor.
func (c *Comparer) Check(what string, got *tensor.Dense, want Tensor) {
	if !slices.Equal([]int(got.Shape()), want.Shape) {
		c.Errs = append(c.Errs, fmt.Errorf("%s: shape %v, PyTorch's %v", what, got.Shape(), want.Shape))
		return
	}
	vals := Floats(got)
	if len(vals) != len(want.Data) {
		c.Errs = append(c.Errs, fmt.Errorf("%s: %d values, PyTorch has %d", what, len(vals), len(want.Data)))
		return
	}
	worst, at := 0.0, -1
	for i, w := range want.Data {
		if vals[i] == w {
			continue
		}
		e := math.Abs(vals[i]-w) / math.Max(math.Abs(w), c.Floor)
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
	if worst > c.Worst || math.IsNaN(worst) {
		c.Worst, c.WorstWhat = worst, what
	}
	if !(worst <= c.Tol) {
		c.Errs = append(c.Errs, fmt.Errorf("%s: element %v is %v, PyTorch's %v (relative error %.3g > %g)",
			what, Unravel(at, want.Shape), vals[at], want.Data[at], worst, c.Tol))
	}
}

// Unravel turns a row-major flat index into per-axis indices.
func Unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for a := len(shape) - 1; a >= 0; a-- {
		idx[a] = i % shape[a]
		i /= shape[a]
	}
	return idx
}

// Floats returns t's values as float64s.
func Floats(t *tensor.Dense) []float64 {
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
	panic(fmt.Sprintf("paritytest: %T values", t.Data()))
}
