package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fillRandom overwrites a parameter with values from U(lo, hi).
func fillRandom(p *Param, seed uint64, lo, hi float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	for i := range p.Value.Float64s() {
		p.Value.Float64s()[i] = lo + (hi-lo)*rng.Float64()
	}
}

func TestBatchNorm2DGradients(t *testing.T) {
	cases := []struct {
		name     string
		shape    []int
		training bool
	}{
		{"TrainBatchStatistics", []int{3, 2, 3, 4}, true},
		{"TrainOnePixel", []int{4, 3, 1, 1}, true}, // statistics over the batch only
		{"TrainOneExample", []int{1, 2, 3, 2}, true},
		{"EvalRunningStatistics", []int{2, 3, 2, 3}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := GradCheck(func(b *Builder) (*G.Node, []*G.Node, error) {
				x := randomInput(b, "x", uint64(60+i), c.shape...)
				xv := x.Value().(*tensor.Dense).Float64s()
				for j := range xv {
					xv[j] = 3*xv[j] + 2 // a mean and variance far from 0 and 1
				}
				y := batchNorm(b, "bn", x, BatchNormConfig{}, c.training)
				fillRandom(b.Params.Get("bn.weight"), 1, 0.5, 2)
				fillRandom(b.Params.Get("bn.bias"), 2, -1, 1)
				fillRandom(b.Params.Get("bn.running_mean"), 3, -1, 3)
				fillRandom(b.Params.Get("bn.running_var"), 4, 0.5, 5)
				return weightedSum(b, y), []*G.Node{x, b.ParamNode("bn.weight"), b.ParamNode("bn.bias")}, nil
			}, GradCheckConfig{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// bnProgram is a batch normalization over input "x" [n, c, h, w] with a
// mean-squared-error loss against "t", for driving machines.
func bnProgram(ps *Params, c, h, w int) *Program {
	build := func(b *Builder, n int) (Outputs, error) {
		x := b.Input("x", n, c, h, w)
		y := BatchNorm2D(b, "bn", x, BatchNormConfig{})
		return Outputs{Inputs: []*G.Node{x}, Output: y}, nil
	}
	loss := func(b *Builder, out Outputs) (Objective, error) {
		tgt := b.Input("t", out.Output.Shape()...)
		return Objective{Target: tgt, Loss: MSE(out.Output, tgt)}, nil
	}
	return NewProgram(build, loss, ps, nil)
}

// channelStats returns one channel's mean, biased and unbiased variance.
func channelStats(x []float64, n, c, hw, ch int) (mean, biased, unbiased float64) {
	var vals []float64
	for i := 0; i < n; i++ {
		vals = append(vals, x[(i*c+ch)*hw:(i*c+ch+1)*hw]...)
	}
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	var sq float64
	for _, v := range vals {
		sq += (v - mean) * (v - mean)
	}
	return mean, sq / float64(len(vals)), sq / float64(len(vals)-1)
}

// PyTorch's semantics: the training machine normalizes with the batch mean
// and biased variance and, once per run, moves the running statistics
// towards the batch mean and the unbiased variance with momentum 0.1 and
// counts the batch; the inference machine normalizes with the running
// statistics it shares with the training machine.
func TestBatchNorm2DRunningStatistics(t *testing.T) {
	const n, c, h, w = 3, 2, 2, 3
	hw := h * w
	ps := NewParams(tensor.Float64, 1)
	prog := bnProgram(ps, c, h, w)
	train, err := prog.Machine(n, Train)
	if err != nil {
		t.Fatal(err)
	}
	eval, err := prog.Machine(n, Eval)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps.List() {
		names = append(names, p.Name)
	}
	if want := []string{"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}; !slices.Equal(names, want) {
		t.Fatalf("parameters %v, want PyTorch's state_dict order %v", names, want)
	}
	if tr := ps.Trainable(); len(tr) != 2 || !ps.Get("bn.num_batches_tracked").Counter || len(ps.Get("bn.num_batches_tracked").Shape()) != 0 {
		t.Fatalf("want weight and bias trainable and num_batches_tracked a scalar counter")
	}
	if g, b := ps.Get("bn.weight").Value.Float64s(), ps.Get("bn.bias").Value.Float64s(); g[0] != 1 || g[1] != 1 || b[0] != 0 || b[1] != 0 {
		t.Fatalf("initial γ %v, β %v; want 1 and 0", g, b)
	}

	rng := rand.New(rand.NewPCG(7, 7))
	wantMean, wantVar := []float64{0, 0}, []float64{1, 1}
	target := tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(make([]float64, n*c*hw)))
	for step := 1; step <= 3; step++ {
		xs := make([]float64, n*c*hw)
		for i := range xs {
			xs[i] = 4*rng.NormFloat64() + float64(step)
		}
		x := tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(xs))
		if err := train.Run([]*tensor.Dense{x}, target); err != nil {
			t.Fatal(err)
		}
		y := train.Output().Float64s()
		for ch := 0; ch < c; ch++ {
			mean, biased, unbiased := channelStats(xs, n, c, hw, ch)
			for i := 0; i < n; i++ {
				for j := 0; j < hw; j++ {
					at := (i*c+ch)*hw + j
					if want := (xs[at] - mean) / math.Sqrt(biased+1e-5); math.Abs(y[at]-want) > 1e-12 {
						t.Fatalf("step %d: train output %d is %v, want %v", step, at, y[at], want)
					}
				}
			}
			wantMean[ch] = 0.9*wantMean[ch] + 0.1*mean
			wantVar[ch] = 0.9*wantVar[ch] + 0.1*unbiased
		}
		gotMean, gotVar := ps.Get("bn.running_mean").Value.Float64s(), ps.Get("bn.running_var").Value.Float64s()
		for ch := 0; ch < c; ch++ {
			if math.Abs(gotMean[ch]-wantMean[ch]) > 1e-12 || math.Abs(gotVar[ch]-wantVar[ch]) > 1e-12 {
				t.Fatalf("step %d channel %d: running mean %v var %v, want %v %v", step, ch, gotMean[ch], gotVar[ch], wantMean[ch], wantVar[ch])
			}
		}
		if got := ps.Get("bn.num_batches_tracked").Value.Float64s()[0]; got != float64(step) {
			t.Fatalf("step %d: num_batches_tracked %v", step, got)
		}

		// Inference leaves the statistics alone and uses them.
		if err := eval.Run([]*tensor.Dense{x}, target); err != nil {
			t.Fatal(err)
		}
		ye := eval.Output().Float64s()
		for at, v := range xs {
			ch := at / hw % c
			if want := (v - wantMean[ch]) / math.Sqrt(wantVar[ch]+1e-5); math.Abs(ye[at]-want) > 1e-12 {
				t.Fatalf("step %d: eval output %d is %v, want %v", step, at, ye[at], want)
			}
		}
		if got := ps.Get("bn.num_batches_tracked").Value.Float64s()[0]; got != float64(step) {
			t.Fatalf("step %d: the inference machine changed num_batches_tracked to %v", step, got)
		}
	}
}

// Forward passes outside Machine.Run (a gradient check runs hundreds) leave
// the running statistics alone, and one forward updates them at most once.
func TestBatchNorm2DUpdatesOncePerForward(t *testing.T) {
	ps := NewParams(tensor.Float64, 1)
	b := NewBuilder(ps, Train, nil)
	x := randomInput(b, "x", 5, 2, 3, 2, 2)
	BatchNorm2D(b, "bn", x, BatchNormConfig{Momentum: 0.5})
	vm := G.NewTapeMachine(b.G)
	for range 3 {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
	}
	count := ps.Get("bn.num_batches_tracked").Value.Float64s()
	if count[0] != 0 || ps.Get("bn.running_mean").Value.Float64s()[0] != 0 {
		t.Fatal("bare forward passes changed the running statistics")
	}
	if len(b.feedback) != 1 {
		t.Fatalf("%d feedbacks registered, want 1", len(b.feedback))
	}
	for range 2 {
		if err := b.feedback[0].Apply(); err != nil {
			t.Fatal(err)
		}
	}
	mean, _, _ := channelStats(x.Value().(*tensor.Dense).Float64s(), 2, 3, 4, 0)
	if count[0] != 1 || math.Abs(ps.Get("bn.running_mean").Value.Float64s()[0]-0.5*mean) > 1e-12 {
		t.Fatalf("after two Applies: count %v, running mean %v; want 1 and %v", count[0], ps.Get("bn.running_mean").Value.Float64s()[0], 0.5*mean)
	}
	eb := NewBuilder(ps, Eval, nil)
	BatchNorm2D(eb, "bn", randomInput(eb, "x", 5, 2, 3, 2, 2), BatchNormConfig{})
	if len(eb.feedback) != 0 {
		t.Fatal("the inference graph registered a running-statistics update")
	}
}

// Training on one value per channel has no variance to normalize with;
// PyTorch refuses it too.
func TestBatchNorm2DRejectsOneValuePerChannel(t *testing.T) {
	ps := NewParams(tensor.Float32, 1)
	prog := bnProgram(ps, 3, 1, 1)
	m, err := prog.Machine(1, Train)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(1, 3, 1, 1), tensor.WithBacking([]float32{1, 2, 3}))
	err = m.Run([]*tensor.Dense{x}, x)
	if err == nil || !strings.Contains(err.Error(), "more than one value per channel") {
		t.Fatalf("error %v, want one about needing more than one value per channel", err)
	}
	if ps.Get("bn.num_batches_tracked").Value.Float32s()[0] != 0 {
		t.Fatal("a failed run counted the batch")
	}
	ev, err := prog.Machine(1, Eval)
	if err == nil {
		err = ev.Run([]*tensor.Dense{x}, x)
	}
	if err != nil {
		t.Fatalf("inference on one example: %v", err)
	}
}

// TestBatchNorm2DFloat32MatchesFloat64 compares the float32 kernel (the
// vector loops of internal/kernel) with the float64 one (Go loops) in
// training: the output and the gradients of x, γ and β, on planes of odd
// sizes and tails (H·W = 1, 15, 63, 256) at every SIMD level the build
// has (TAPEML_SIMD picks the level).
func TestBatchNorm2DFloat32MatchesFloat64(t *testing.T) {
	for _, shape := range [][]int{{3, 2, 1, 1}, {2, 3, 3, 5}, {3, 5, 7, 9}, {4, 2, 16, 16}} {
		rng := rand.New(rand.NewPCG(uint64(shape[2]), 9))
		c := shape[1]
		size := tensor.Shape(shape).TotalSize()
		x, g := make([]float64, size), make([]float64, size)
		for i := range x {
			x[i], g[i] = 4+3*rng.NormFloat64(), rng.NormFloat64()
		}
		gamma, beta := make([]float64, c), make([]float64, c)
		for i := range gamma {
			gamma[i], beta[i] = 0.5+rng.Float64(), rng.NormFloat64()
		}
		ones, zeros := slices.Repeat([]float64{1}, c), make([]float64, c)
		inputs := [][]float64{x, gamma, beta, zeros, ones}
		shapes := [][]int{shape, {c}, {c}, {c}, {c}}
		run := func(dt tensor.Dtype) (outs [][]float64) {
			k := &batchNormKernel[float64]{batchNormState{training: true, eps: 1e-5, momentum: 0.1}}
			k32 := &batchNormKernel[float32]{batchNormState{training: true, eps: 1e-5, momentum: 0.1}}
			var kk kernel = k
			if dt == tensor.Float32 {
				kk = k32
			}
			dense := func(v []float64, s []int) *tensor.Dense {
				if dt == tensor.Float64 {
					return tensor.New(tensor.WithShape(s...), tensor.WithBacking(slices.Clone(v)))
				}
				v32 := make([]float32, len(v))
				for i, f := range v {
					v32[i] = float32(f)
				}
				return tensor.New(tensor.WithShape(s...), tensor.WithBacking(v32))
			}
			back := func(d *tensor.Dense) []float64 {
				if dt == tensor.Float64 {
					return d.Float64s()
				}
				v := make([]float64, d.Shape().TotalSize())
				for i, f := range d.Float32s() {
					v[i] = float64(f)
				}
				return v
			}
			in := make([]*tensor.Dense, len(inputs))
			for i := range inputs {
				in[i] = dense(inputs[i], shapes[i])
			}
			out := dense(make([]float64, size), shape)
			if err := kk.forward(in, out); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, back(out))
			gOut := dense(g, shape)
			for wrt := 0; wrt < 3; wrt++ {
				grad := dense(make([]float64, len(inputs[wrt])), shapes[wrt])
				if err := kk.backward(in, out, gOut, wrt, grad); err != nil {
					t.Fatal(err)
				}
				outs = append(outs, back(grad))
			}
			return outs
		}
		want, got := run(tensor.Float64), run(tensor.Float32)
		for i, what := range []string{"y", "dx", "dγ", "dβ"} {
			for j := range want[i] {
				if d := math.Abs(got[i][j] - want[i][j]); d > 1e-5*(1+math.Abs(want[i][j]))*math.Sqrt(float64(size)) {
					t.Fatalf("%v %s[%d] = %v in float32, %v in float64", shape, what, j, got[i][j], want[i][j])
				}
			}
		}
	}
}
