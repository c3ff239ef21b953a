package convnet

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
)

// The golden is written by tools/pytorch/convnet_golden.py with PyTorch 1.13:
// regenerate it with /usr/bin/python3 tools/pytorch/convnet_golden.py. The
// script's docstring describes every field.
const parityGolden = "testdata/parity.json"

// fillSpec says how to compute a tensor's values: offset + scale·(2u−1)
// with u from counterUniform(stream, i).
type fillSpec struct {
	Name   string  `json:"name"`
	Shape  []int   `json:"shape"`
	Stream uint64  `json:"stream"`
	Scale  float64 `json:"scale"`
	Offset float64 `json:"offset"`
}

// parityTensor is a tensor of the golden: whole (Data), or summarized by
// norms, a random projection and sampled positions (for large gradients),
// or, for gradients that are analytically zero, by MaxAbs alone.
type parityTensor struct {
	Name   string    `json:"name"`
	Shape  []int     `json:"shape"`
	Data   []float64 `json:"data"`
	Zero   bool      `json:"zero"`
	MaxAbs float64   `json:"max_abs"`
	L1     float64   `json:"l1"`
	L2     float64   `json:"l2"`
	Sum    float64   `json:"sum"`
	Dot    float64   `json:"dot"`
	At     []int     `json:"at"`
	Values []float64 `json:"values"`
}

// parityRun is PyTorch's training step and inference pass in one precision.
type parityRun struct {
	TrainLogits parityTensor   `json:"train_logits"`
	Loss        float64        `json:"loss"`
	Grads       []parityTensor `json:"grads"`   // named_parameters order
	Buffers     []parityTensor `json:"buffers"` // after the step, named_buffers order
	EvalLogits  parityTensor   `json:"eval_logits"`
}

type parityCase struct {
	Name    string     `json:"name"`
	Config  Config     `json:"config"`
	Batch   int        `json:"batch"`
	Input   fillSpec   `json:"input"`
	Labels  []int      `json:"labels"`
	Params  []fillSpec `json:"params"` // state_dict order
	Float64 parityRun  `json:"float64"`
	Float32 parityRun  `json:"float32"`
}

type parityFile struct {
	Cases []parityCase `json:"cases"`
}

// dotStream is the generator stream of the random projection of the k-th
// state_dict tensor's gradient: dotStream + k.
const dotStream = 9000

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
	if len(g.Cases) == 0 {
		t.Fatalf("%s: no cases: regenerate it", parityGolden)
	}
	return &g
}

// splitmix64 is Steele, Lea and Flood's mixing function, as in the script.
func splitmix64(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// counterUniform is u(stream, i) in [0, 1), exactly as the script computes it.
func counterUniform(stream uint64, i int) float64 {
	return float64(splitmix64(stream<<32+uint64(i))>>11) * 0x1p-53
}

func (s fillSpec) values(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = s.Offset + s.Scale*(2*counterUniform(s.Stream, i)-1)
	}
	return v
}

// parityTolerances: each element must be within tol·max(|want|,
// floor·max|want over the tensor|). In float64 only summation order
// differs, and the check is purely relative. In float32 an element that is
// small next to the rest of its tensor carries the rounding error of the
// large terms it was summed from: PyTorch's own float32 gradients differ
// from its float64 ones by up to 2e-3 relative on such elements, yet by
// less than 1.5e-6 of the tensor's largest value everywhere; so errors
// are measured relative to at least a tenth of the tensor's largest value.
var parityTolerances = []struct {
	dtype      tensor.Dtype
	tol, floor float64
}{
	{tensor.Float64, 1e-9, 0},
	{tensor.Float32, 1e-4, 0.1},
}

// TestParityWithPyTorch gives the tapeml model PyTorch's weights and
// checks one training step — logits, loss, every gradient, the batch-norm
// running statistics and batch count afterwards — and the inference
// logits after it, against PyTorch's, for 3×32×32, 1×28×28 and odd-sized
// inputs, in float64 and float32.
func TestParityWithPyTorch(t *testing.T) {
	g := loadParity(t)
	for _, c := range g.Cases {
		for _, tl := range parityTolerances {
			t.Run(c.Name+"/"+tl.dtype.String(), func(t *testing.T) {
				errs, worst := runParity(t, &c, tl.dtype, tl.tol, tl.floor, nil)
				for _, err := range errs {
					t.Error(err)
				}
				t.Logf("worst relative error %.3g (%s)", worst.err, worst.what)
			})
		}
	}
}

// TestParityDetectsAWrongWeight shows the comparison is sharp: one weight
// of the 8192×1024 layer off by one part in 10⁶ is caught.
func TestParityDetectsAWrongWeight(t *testing.T) {
	g := loadParity(t)
	errs, _ := runParity(t, &g.Cases[0], tensor.Float64, 1e-9, 0, func(ps *graph.Params) {
		ps.Get("fc.0.weight").Value.Float64s()[12345] *= 1 + 1e-6
	})
	if len(errs) == 0 {
		t.Fatal("a perturbed fc.0.weight still matched PyTorch")
	}
	t.Logf("as expected: %v", errs[0])
}

// worstError tracks the largest relative error seen.
type worstError struct {
	err  float64
	what string
}

func (w *worstError) see(err float64, what string) {
	if err > w.err || math.IsNaN(err) {
		w.err, w.what = err, what
	}
}

// runParity builds the case's model in dtype with the golden's weights
// (then applies tamper, if any), runs one training step and one inference
// pass on the golden batch, and returns every disagreement with PyTorch
// and the worst relative error.
func runParity(t *testing.T, c *parityCase, dtype tensor.Dtype, tol, floor float64, tamper func(*graph.Params)) ([]error, worstError) {
	t.Helper()
	want := &c.Float64
	if dtype == tensor.Float32 {
		want = &c.Float32
	}
	model, err := New(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	params := graph.NewParams(dtype, 1)
	prog := graph.NewProgram(model.Build, model.Loss, params, &graph.Noise{})
	if err := prog.Materialize(); err != nil {
		t.Fatal(err)
	}
	list := params.List()
	if len(list) != len(c.Params) {
		t.Fatalf("%d parameters, PyTorch's state_dict has %d", len(list), len(c.Params))
	}
	index := map[string]int{}
	for i, p := range list {
		s := c.Params[i]
		if p.Name != s.Name || !slices.Equal(p.Shape(), s.Shape) {
			t.Fatalf("parameter %d is %s %v, PyTorch's is %s %v", i, p.Name, p.Shape(), s.Name, s.Shape)
		}
		setValues(p.Value, s.values(p.Value.Shape().TotalSize()))
		index[p.Name] = i
	}
	if tamper != nil {
		tamper(params)
	}
	x := tensor.New(tensor.Of(dtype), tensor.WithShape(c.Batch, c.Config.Channels, c.Config.Height, c.Config.Width))
	setValues(x, c.Input.values(x.Shape().TotalSize()))
	labels := tensor.New(tensor.Of(dtype), tensor.WithShape(c.Batch))
	setValues(labels, intsToFloats(c.Labels))

	var errs []error
	var worst worstError
	check := func(what string, got []float64, w parityTensor) {
		if err := compare(what, got, w, tol, floor, &worst); err != nil {
			errs = append(errs, err)
		}
	}

	m, err := prog.Machine(c.Batch, graph.Train)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run([]*tensor.Dense{x}, labels); err != nil {
		t.Fatal(err)
	}
	check("train logits", floats(m.Output()), want.TrainLogits)
	check("loss", []float64{m.Loss()}, parityTensor{Data: []float64{want.Loss}})
	grads := m.Gradients()
	if len(grads) != len(want.Grads) {
		t.Fatalf("%d gradients, PyTorch has %d", len(grads), len(want.Grads))
	}
	gradOf := map[string][]float64{}
	for i, gr := range grads {
		w := want.Grads[i]
		if gr.Param.Name != w.Name || !slices.Equal([]int(gr.Grad.Shape()), w.Shape) {
			t.Fatalf("gradient %d is of %s %v, PyTorch's of %s %v", i, gr.Param.Name, gr.Grad.Shape(), w.Name, w.Shape)
		}
		gradOf[w.Name] = floats(gr.Grad)
	}
	for _, w := range want.Grads {
		got := gradOf[w.Name]
		switch {
		case w.Zero:
			// Rounding noise around 0 in both: bounded by tol times the
			// layer's weight gradient, which is what a bug would be made of.
			scale := maxAbs(gradOf[strings.TrimSuffix(w.Name, ".bias")+".weight"])
			if g := maxAbs(got); g > tol*scale || w.MaxAbs > tol*scale {
				errs = append(errs, fmt.Errorf("gradient of %s: largest |value| %g (PyTorch %g), want 0 up to %g", w.Name, g, w.MaxAbs, tol*scale))
			}
		case w.Data != nil:
			check("gradient of "+w.Name, got, w)
		default:
			check("gradient of "+w.Name, got, w) // sampled positions
			if err := compareSummary("gradient of "+w.Name, got, w, dotStream+uint64(index[w.Name]), tol, &worst); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, w := range want.Buffers {
		check("buffer "+w.Name+" after the step", floats(params.Get(w.Name).Value), w)
	}

	ev, err := prog.Machine(c.Batch, graph.Eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Run([]*tensor.Dense{x}, labels); err != nil {
		t.Fatal(err)
	}
	check("eval logits", floats(ev.Output()), want.EvalLogits)
	// The serving graph folds each batch norm into its convolution.
	inf, err := prog.Machine(c.Batch, graph.Infer)
	if err != nil {
		t.Fatal(err)
	}
	if err := inf.Run([]*tensor.Dense{x}, nil); err != nil {
		t.Fatal(err)
	}
	check("serving logits (batch norm folded)", floats(inf.Output()), want.EvalLogits)
	return errs, worst
}

// compare checks got element by element against want's Data, or against
// want's sampled Values at At: each within tol·max(|want|, floor·M), where
// M is the largest |value| of the whole tensor (with floor 0, exact zeros
// must be exact). The error names the worst element.
func compare(what string, got []float64, want parityTensor, tol, floor float64, worst *worstError) error {
	at, vals, scale := want.At, want.Data, want.MaxAbs
	if vals == nil {
		vals = want.Values
	} else {
		if len(got) != len(vals) {
			return fmt.Errorf("%s: %d values, PyTorch has %d", what, len(got), len(vals))
		}
		at, scale = nil, maxAbs(vals)
	}
	bad, badAt := 0.0, -1
	for k, w := range vals {
		i := k
		if at != nil {
			i = at[k]
		}
		if got[i] == w {
			continue
		}
		rel := math.Abs(got[i]-w) / math.Max(math.Abs(w), floor*scale)
		worst.see(rel, what)
		if rel > bad || math.IsNaN(rel) {
			bad, badAt = rel, i
		}
	}
	if badAt >= 0 && !(bad <= tol) {
		return fmt.Errorf("%s: element %v is %v, PyTorch's %v (relative error %.3g > %g)",
			what, unravel(badAt, want.Shape), got[badAt], valueAt(want, badAt), bad, tol)
	}
	return nil
}

// compareSummary checks a large tensor's whole-tensor statistics: the
// largest |value|, the L1 and L2 norms relative to themselves, and the sum
// and the random projection relative to the L1 norm (they can cancel to
// near 0, and |projection| ≤ L1).
func compareSummary(what string, got []float64, want parityTensor, stream uint64, tol float64, worst *worstError) error {
	var l1, l2, sum, dot float64
	for i, v := range got {
		l1 += math.Abs(v)
		l2 += v * v
		sum += v
		dot += v * (2*counterUniform(stream, i) - 1)
	}
	l2 = math.Sqrt(l2)
	for _, s := range []struct {
		name            string
		got, want, unit float64
	}{
		{"max |g|", maxAbs(got), want.MaxAbs, want.MaxAbs},
		{"L1 norm", l1, want.L1, want.L1},
		{"L2 norm", l2, want.L2, want.L2},
		{"sum", sum, want.Sum, want.L1},
		{"random projection", dot, want.Dot, want.L1},
	} {
		rel := math.Abs(s.got-s.want) / s.unit
		worst.see(rel, what+" "+s.name)
		if !(rel <= tol) {
			return fmt.Errorf("%s: %s is %v, PyTorch's %v (error %.3g relative to %v > %g)", what, s.name, s.got, s.want, rel, s.unit, tol)
		}
	}
	return nil
}

func valueAt(w parityTensor, i int) float64 {
	if w.Data != nil {
		return w.Data[i]
	}
	return w.Values[slices.Index(w.At, i)]
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

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func intsToFloats(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// setValues writes float64 values into t (a 0-d tensor included), rounding
// to nearest for float32 as PyTorch's .float() does.
func setValues(t *tensor.Dense, vals []float64) {
	switch t.Dtype() {
	case tensor.Float64:
		copy(t.Float64s(), vals)
	case tensor.Float32:
		d := t.Float32s()
		for i, v := range vals {
			d[i] = float32(v)
		}
	default:
		panic(fmt.Sprintf("unexpected dtype %v", t.Dtype()))
	}
}

// floats returns t's values as float64s.
func floats(t *tensor.Dense) []float64 {
	switch t.Dtype() {
	case tensor.Float64:
		return slices.Clone(t.Float64s())
	case tensor.Float32:
		d := t.Float32s()
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	panic(fmt.Sprintf("unexpected dtype %v", t.Dtype()))
}
