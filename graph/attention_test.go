package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// maskOf is a [N, T] padding mask with lengths[n] real tokens first.
func maskOf(lengths []int, t int) []float64 {
	m := make([]float64, len(lengths)*t)
	for n, l := range lengths {
		for i := 0; i < l; i++ {
			m[n*t+i] = 1
		}
	}
	return m
}

// setParams gives every parameter of b deterministic values of moderate
// size (biases included, which start at zero).
func setParams(b *Builder, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	for _, p := range b.Params.List() {
		d := p.Value.Float64s()
		for i := range d {
			d[i] = 0.4 * rng.NormFloat64()
		}
		if strings.HasSuffix(p.Name, "norm.weight") {
			for i := range d {
				d[i] += 1
			}
		}
	}
}

func TestTransformerOpGradients(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *Builder) (*G.Node, []*G.Node, error)
	}{
		{"LayerNorm", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 1, 2, 3, 5)
			y := LayerNorm(b, "norm", x, LayerNormConfig{Eps: 1e-5})
			setParams(b, 1)
			return weightedSum(b, y), []*G.Node{x, b.ParamNode("norm.weight"), b.ParamNode("norm.bias")}, nil
		}},
		{"GELU", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 2, 4, 7)
			return weightedSum(b, GELU(x)), []*G.Node{x}, nil
		}},
		{"Add", func(b *Builder) (*G.Node, []*G.Node, error) {
			x, y := randomInput(b, "x", 3, 2, 3, 2), randomInput(b, "y", 4, 2, 3, 2)
			return weightedSum(b, Add(x, y)), []*G.Node{x, y}, nil
		}},
		{"Linear3D", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 5, 2, 3, 4)
			y := Linear(b, "fc", x, 5, true)
			return weightedSum(b, y), []*G.Node{x, b.ParamNode("fc.weight"), b.ParamNode("fc.bias")}, nil
		}},
		{"Embeddings", func(b *Builder) (*G.Node, []*G.Node, error) {
			ids := constInput(b, "ids", []float64{1, 4, 2, 0, 3, 3, 1, 0}, 2, 4)
			types := constInput(b, "types", []float64{0, 0, 1, 1, 0, 1, 1, 0}, 2, 4)
			x := Embedding(b, "word", ids, 5, 3, 0)
			x = PositionEmbedding(b, "pos", x, 6, Normal(1))
			x = TokenTypeEmbedding(b, "type", x, types, 2, Normal(1))
			return weightedSum(b, x), []*G.Node{b.ParamNode("pos.weight"), b.ParamNode("type.weight")}, nil
		}},
	}
	for _, packed := range []bool{true, false} {
		for _, dropout := range []float64{0, 0.3} {
			cfg := AttentionConfig{Heads: 2, Dropout: dropout, Out: "out"}
			if packed {
				cfg.QKV = "in_proj"
			} else {
				cfg.Query, cfg.Key, cfg.Value = "q", "k", "v"
			}
			cases = append(cases, struct {
				name  string
				build func(b *Builder) (*G.Node, []*G.Node, error)
			}{fmt.Sprintf("SelfAttention(packed=%v,dropout=%v)", packed, dropout), func(b *Builder) (*G.Node, []*G.Node, error) {
				x := randomInput(b, "x", 6, 3, 5, 4)
				// Mixed lengths and an example without real tokens.
				mask := constInput(b, "mask", maskOf([]int{5, 2, 0}, 5), 3, 5)
				y := SelfAttention(b, x, mask, cfg)
				setParams(b, 2)
				wrt := []*G.Node{x}
				for _, p := range b.Params.List() {
					wrt = append(wrt, b.ParamNode(p.Name))
				}
				return weightedSum(b, y), wrt, nil
			}})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := GradCheck(c.build, GradCheckConfig{Seed: 1}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The attention of the real tokens does not depend on the padding: an
// example's real positions give the same output whatever follows them.
func TestSelfAttentionIgnoresPadding(t *testing.T) {
	const d = 4
	run := func(steps, length int) []float64 {
		b := NewBuilder(NewParams(tensor.Float64, 1), Eval, nil)
		rng := rand.New(rand.NewPCG(7, 7))
		xv := make([]float64, steps*d)
		for i := range xv {
			xv[i] = rng.NormFloat64()
			if i >= length*d {
				xv[i] = 100 * rng.NormFloat64() // padding, made loud
			}
		}
		x := constInput(b, "x", xv, 1, steps, d)
		y := SelfAttention(b, x, constInput(b, "mask", maskOf([]int{length}, steps), 1, steps), AttentionConfig{Heads: 2, QKV: "in", Out: "out"})
		vm := G.NewTapeMachine(b.G)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return y.Value().(*tensor.Dense).Float64s()[:length*d]
	}
	short, long := run(3, 3), run(7, 3)
	for i := range short {
		if math.Abs(short[i]-long[i]) > 1e-12 {
			t.Fatalf("output %d: %v without padding, %v with", i, short[i], long[i])
		}
	}
}

func TestSelfAttentionRejectsABadMask(t *testing.T) {
	b := NewBuilder(NewParams(tensor.Float64, 1), Eval, nil)
	x := randomInput(b, "x", 1, 1, 3, 4)
	SelfAttention(b, x, constInput(b, "mask", []float64{1, 0.5, 0}, 1, 3), AttentionConfig{Heads: 1, QKV: "in", Out: "out"})
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err == nil || !strings.Contains(err.Error(), "mask value 0.5") {
		t.Fatalf("error %v, want one about the mask value", err)
	}
}

// Attention dropout draws the same mask for the same (seed, step, layer),
// another for another step, and keeps about 1−p of the probabilities.
func TestSelfAttentionDropoutIsSeeded(t *testing.T) {
	out := func(step uint64) []float64 {
		b := NewBuilder(NewParams(tensor.Float64, 1), Train, &Noise{Seed: 5, Step: step})
		x := randomInput(b, "x", 1, 2, 16, 4)
		y := SelfAttention(b, x, nil, AttentionConfig{Heads: 2, Dropout: 0.5, QKV: "in", Out: "out"})
		vm := G.NewTapeMachine(b.G)
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		k := y.Op().(*kernelOp).k.(*attentionKernel[float64])
		drop := make([]float64, len(k.probs))
		k.dropout(drop, k.probs, 0, len(k.probs))
		kept := 0
		for _, v := range drop {
			if v != 0 {
				kept++
			}
		}
		if f := float64(kept) / float64(len(drop)); math.Abs(f-0.5) > 0.05 {
			t.Errorf("step %d: kept %.3f of the probabilities, want about 0.5", step, f)
		}
		return append([]float64(nil), y.Value().(*tensor.Dense).Float64s()...)
	}
	a, b, c := out(1), out(1), out(2)
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same || !differ {
		t.Errorf("same step gives the same output: %v; another step another: %v", same, differ)
	}
}

// The serving graph (packed weights, no kept probabilities) gives the
// training graph's output, in float32.
func TestSelfAttentionServingEqualsTraining(t *testing.T) {
	for _, packed := range []bool{true, false} {
		cfg := AttentionConfig{Heads: 4, Out: "out"}
		if packed {
			cfg.QKV = "in"
		} else {
			cfg.Query, cfg.Key, cfg.Value = "q", "k", "v"
		}
		params := NewParams(tensor.Float32, 3)
		build := func(b *Builder, n int) (Outputs, error) {
			x := b.Input("x", n, 6, 8)
			mask := b.Input("mask", n, 6)
			return Outputs{Inputs: []*G.Node{x, mask}, Output: SelfAttention(b, x, mask, cfg)}, nil
		}
		rng := rand.New(rand.NewPCG(1, 1))
		xv := make([]float32, 3*6*8)
		for i := range xv {
			xv[i] = float32(rng.NormFloat64())
		}
		mv := make([]float32, 3*6)
		for i, v := range maskOf([]int{6, 3, 1}, 6) {
			mv[i] = float32(v)
		}
		var outs [][]float32
		for _, mode := range []Mode{Eval, Infer} {
			m, err := Compile(build, nil, params, nil, 3, Infer)
			if mode == Eval {
				m, err = Compile(build, func(b *Builder, o Outputs) (Objective, error) {
					y := b.Input("y", 3, 6, 8)
					return Objective{Target: y, Loss: MSE(o.Output, y)}, nil
				}, params, nil, 3, Eval)
			}
			if err != nil {
				t.Fatal(err)
			}
			in := []*tensor.Dense{tensor.New(tensor.WithShape(3, 6, 8), tensor.WithBacking(append([]float32(nil), xv...))),
				tensor.New(tensor.WithShape(3, 6), tensor.WithBacking(append([]float32(nil), mv...)))}
			if err := m.Run(in, tensor.New(tensor.WithShape(3, 6, 8), tensor.WithBacking(make([]float32, 3*6*8)))); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, append([]float32(nil), m.Output().Float32s()...))
		}
		for i := range outs[0] {
			if d := math.Abs(float64(outs[0][i] - outs[1][i])); d > 1e-5*math.Max(1, math.Abs(float64(outs[0][i]))) {
				t.Fatalf("packed=%v: output %d: serving %v, evaluation %v", packed, i, outs[1][i], outs[0][i])
			}
		}
	}
}

// The float32 softmax (vector kernels) agrees with the float64 loop: on
// rows longer and shorter than a vector, with padded keys whose scores are
// +∞ or NaN (ignored), after the real ones or between them, a row with a
// +∞ real score (NaN out), and an example without real keys (uniform).
func TestSoftmaxRows32(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, tt := range []int{1, 5, 16, 21, 40} {
		for _, pad := range []int{0, 1, tt / 2, tt, -1} {
			mask64 := make([]float64, 2*tt) // example 1's row; example 0 all real
			for j := range mask64 {
				if j < tt || j-tt < tt-pad {
					mask64[j] = 1
				}
			}
			if pad < 0 { // padded keys between real ones
				pad = 2
				for j := tt; j < 2*tt; j++ {
					mask64[j] = float64(j % 2)
				}
			}
			s64 := make([]float64, tt*tt)
			for i := range s64 {
				s64[i] = rng.NormFloat64() * 4
			}
			if pad > 0 && tt > 2 {
				s64[tt-1] = math.Inf(1) // a padded key of row 0
				s64[2*tt-1] = math.NaN()
			}
			if tt > 2 && pad < tt-1 {
				s64[2*tt] = math.Inf(1) // a real key of row 2
			}
			s32, mask32 := make([]float32, len(s64)), make([]float32, len(mask64))
			for i, v := range s64 {
				s32[i] = float32(v)
			}
			for i, v := range mask64 {
				mask32[i] = float32(v)
			}
			softmaxRows(s64, mask64, 1, tt)
			softmaxRows(s32, mask32, 1, tt)
			for i, want := range s64 {
				got := float64(s32[i])
				if want != want {
					if got == got {
						t.Fatalf("T=%d pad=%d: [%d] = %v, want NaN", tt, pad, i, got)
					}
					continue
				}
				if math.Abs(got-want) > 1e-6 {
					t.Fatalf("T=%d pad=%d: [%d] = %v, want %v", tt, pad, i, got, want)
				}
			}
		}
	}
}
