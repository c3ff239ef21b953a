package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// randomInput adds a float64 leaf with values from N(0, 1).
func randomInput(b *Builder, name string, seed uint64, shape ...int) *G.Node {
	rng := rand.New(rand.NewPCG(seed, 1))
	v := make([]float64, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return G.NewTensor(b.G, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))))
}

// constInput adds a float64 leaf holding vals.
func constInput(b *Builder, name string, vals []float64, shape ...int) *G.Node {
	return G.NewTensor(b.G, tensor.Float64, len(shape), G.WithShape(shape...), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))))
}

// weightedSum reduces y to Σ y⊙R for a fixed random R, so every output
// element gets a distinct upstream gradient.
func weightedSum(b *Builder, y *G.Node) *G.Node {
	r := randomInput(b, "R", 99, y.Shape()...)
	return G.Must(G.Sum(G.Must(G.HadamardProd(y, r))))
}

func TestGradients(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *Builder) (*G.Node, []*G.Node, error)
	}{
		{"Linear", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 1, 4, 5)
			y := Linear(b, "fc", x, 3, true)
			return weightedSum(b, y), []*G.Node{x, b.ParamNode("fc.weight"), b.ParamNode("fc.bias")}, nil
		}},
		{"LinearNoBias", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 2, 3, 4)
			y := Linear(b, "fc", x, 2, false)
			return weightedSum(b, y), []*G.Node{x, b.ParamNode("fc.weight")}, nil
		}},
		{"Embedding", func(b *Builder) (*G.Node, []*G.Node, error) {
			ids := constInput(b, "ids", []float64{0, 2, 3, 2, 1, 0}, 2, 3)
			y := Embedding(b, "emb", ids, 5, 4, NoPadding) // the padding row has no true derivative; see TestEmbeddingPaddingRowGetsNoGradient
			return weightedSum(b, y), []*G.Node{b.ParamNode("emb.weight")}, nil
		}},
		{"Conv1D", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 3, 2, 3, 9)
			y := Conv1D(b, "conv", x, Conv1DConfig{Out: 4, Kernel: 3, Bias: true})
			return weightedSum(b, y), []*G.Node{x, b.ParamNode("conv.weight"), b.ParamNode("conv.bias")}, nil
		}},
		{"Conv1DStridePad", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 4, 2, 3, 8)
			y := Conv1D(b, "conv", x, Conv1DConfig{Out: 2, Kernel: 3, Stride: 2, Padding: 1})
			return weightedSum(b, y), []*G.Node{x, b.ParamNode("conv.weight")}, nil
		}},
		{"MaxPool1D", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 5, 2, 3, 11)
			return weightedSum(b, MaxPool1D(x, 3, 0)), []*G.Node{x}, nil
		}},
		{"MaxPool1DOverlap", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 6, 2, 2, 10)
			return weightedSum(b, MaxPool1D(x, 3, 2)), []*G.Node{x}, nil
		}},
		{"GlobalMaxPool1D", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 7, 3, 2, 6)
			return weightedSum(b, GlobalMaxPool1D(x)), []*G.Node{x}, nil
		}},
		{"FlattenSwapAxes", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 8, 2, 3, 4)
			return weightedSum(b, Flatten(SwapAxes(x))), []*G.Node{x}, nil
		}},
		{"FirstToken", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 31, 3, 4, 5)
			return weightedSum(b, FirstToken(x)), []*G.Node{x}, nil
		}},
		{"Dropout", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 9, 4, 6)
			return weightedSum(b, Dropout(b, x, 0.5)), []*G.Node{x}, nil
		}},
		{"ReLU", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 10, 3, 7)
			return weightedSum(b, ReLU(x)), []*G.Node{x}, nil
		}},
		{"Sigmoid", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 11, 3, 7)
			return weightedSum(b, Sigmoid(x)), []*G.Node{x}, nil
		}},
		{"Tanh", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 12, 3, 7)
			return weightedSum(b, Tanh(x)), []*G.Node{x}, nil
		}},
		{"BCEWithLogits", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 13, 6, 1)
			y := constInput(b, "y", []float64{0, 1, 1, 0, 1, 0}, 6)
			return BCEWithLogits(x, y), []*G.Node{x}, nil
		}},
		{"SoftmaxCrossEntropy", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 14, 4, 5)
			y := constInput(b, "y", []float64{0, 4, 2, 2}, 4)
			return SoftmaxCrossEntropy(x, y), []*G.Node{x}, nil
		}},
		{"WeightedBCEWithLogits", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 17, 6, 1)
			y := constInput(b, "y", []float64{0, 1, 1, 0, 1, 0}, 6)
			return WeightedBCEWithLogits(x, y, []float64{0.5, 3}), []*G.Node{x}, nil
		}},
		{"WeightedSoftmaxCrossEntropy", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 18, 4, 3)
			y := constInput(b, "y", []float64{0, 2, 2, 1}, 4)
			return WeightedSoftmaxCrossEntropy(x, y, ClassWeights{W: []float64{1, 0.25, 4}}), []*G.Node{x}, nil
		}},
		{"WeightedSoftmaxCrossEntropyNorm", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 19, 4, 3)
			y := constInput(b, "y", []float64{0, 2, 2, 1}, 4)
			return WeightedSoftmaxCrossEntropy(x, y, ClassWeights{W: []float64{1, 0.25, 4}, Norm: 1.5}), []*G.Node{x}, nil
		}},
		{"Concat", func(b *Builder) (*G.Node, []*G.Node, error) {
			x, y := randomInput(b, "x", 20, 3, 2), randomInput(b, "y", 21, 3, 4)
			return weightedSum(b, Concat(x, y)), []*G.Node{x, y}, nil
		}},
		{"TextMaxPool", func(b *Builder) (*G.Node, []*G.Node, error) {
			// Texts: pre-padded, post-padded, full, and empty.
			ids := constInput(b, "ids", []float64{0, 0, 3, 4, 1, 2, 0, 0, 0, 0, 1, 3, 2, 5, 4, 0, 0, 0, 0, 0}, 4, 5)
			x := randomInput(b, "x", 22, 4, 3, 7)
			return weightedSum(b, TextMaxPool(x, ids, 3, 0)), []*G.Node{x}, nil
		}},
		{"BigramEmbeddingTokenMean", func(b *Builder) (*G.Node, []*G.Node, error) {
			ids := constInput(b, "ids", []float64{0, 2, 3, 2, 1, 4, 0, 0, 0, 0, 1, 3, 0, 0, 0}, 3, 5)
			e := BigramEmbedding(b, "emb", ids, 5, 7, 4)
			return weightedSum(b, TokenMean(e, ids, 0, true)), []*G.Node{b.ParamNode("emb.weight")}, nil
		}},
		{"KimTextCNNStack", func(b *Builder) (*G.Node, []*G.Node, error) {
			ids := constInput(b, "ids", []float64{0, 0, 3, 4, 1, 2, 5, 5, 1, 3, 2, 0, 4, 1, 2, 3, 5, 1}, 2, 9)
			e := SwapAxes(Embedding(b, "embedding", ids, 6, 4, NoPadding)) // row 0 has no true derivative with padding 0
			var feats []*G.Node
			for _, k := range []int{2, 3} {
				c := Conv1D(b, fmt.Sprintf("convs.%d", k), e, Conv1DConfig{Out: 3, Kernel: k, Padding: k - 1, Bias: true})
				feats = append(feats, ReLU(TextMaxPool(c, ids, k, 0)))
			}
			logits := Linear(b, "fc", Concat(feats...), 3, true)
			y := constInput(b, "y", []float64{1, 2}, 2)
			return SoftmaxCrossEntropy(logits, y), []*G.Node{b.ParamNode("embedding.weight"), b.ParamNode("convs.2.weight"), b.ParamNode("convs.3.bias"), b.ParamNode("fc.weight")}, nil
		}},
		{"MSE", func(b *Builder) (*G.Node, []*G.Node, error) {
			x := randomInput(b, "x", 15, 5)
			y := randomInput(b, "y", 16, 5)
			return MSE(x, y), []*G.Node{x}, nil
		}},
		{"TextCNNStack", func(b *Builder) (*G.Node, []*G.Node, error) {
			ids := constInput(b, "ids", []float64{0, 0, 3, 4, 1, 2, 5, 5, 1, 3, 2, 0, 4, 1, 2, 3, 5, 1}, 2, 9)
			e := Embedding(b, "embedding", ids, 6, 4, NoPadding)
			c := ReLU(Conv1D(b, "conv", SwapAxes(e), Conv1DConfig{Out: 3, Kernel: 3, Bias: true}))
			h := Flatten(MaxPool1D(c, 2, 0))
			logits := Linear(b, "fc", h, 1, true)
			y := constInput(b, "y", []float64{1, 0}, 2)
			return BCEWithLogits(logits, y), []*G.Node{b.ParamNode("embedding.weight"), b.ParamNode("conv.weight"), b.ParamNode("fc.weight")}, nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := GradCheck(c.build, GradCheckConfig{Seed: 1}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBCEWithLogitsIsStableForLargeLogits(t *testing.T) {
	b := NewBuilder(NewParams(tensor.Float64, 1), Eval, nil)
	x := constInput(b, "x", []float64{1000, -1000, 50}, 3)
	y := constInput(b, "y", []float64{0, 1, 1}, 3)
	loss := BCEWithLogits(x, y)
	vm := G.NewTapeMachine(b.G)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := scalarOf(loss.Value())
	want := (1000 + 1000 + math.Log1p(math.Exp(-50))) / 3
	if math.Abs(got-want) > 1e-9 {
		t.Fatalf("loss %v, want %v", got, want)
	}
}

func TestEmbeddingPaddingRowGetsNoGradient(t *testing.T) {
	ps := NewParams(tensor.Float64, 3)
	b := NewBuilder(ps, Train, nil)
	ids := constInput(b, "ids", []float64{0, 1, 0, 2}, 2, 2)
	loss := weightedSum(b, Embedding(b, "emb", ids, 3, 2, 0))
	grads, err := G.Grad(loss, b.ParamNode("emb.weight"))
	if err != nil {
		t.Fatal(err)
	}
	if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
		t.Fatal(err)
	}
	g := grads[0].Value().(*tensor.Dense).Float64s()
	w := ps.Get("emb.weight").Value.Float64s()
	if g[0] != 0 || g[1] != 0 || w[0] != 0 || w[1] != 0 {
		t.Fatalf("padding row: weight %v, gradient %v; want zeros", w[:2], g[:2])
	}
	if g[2] == 0 {
		t.Fatalf("row 1 got no gradient")
	}
}

func TestEmbeddingRejectsOutOfRangeIDs(t *testing.T) {
	b := NewBuilder(NewParams(tensor.Float64, 3), Eval, nil)
	ids := constInput(b, "ids", []float64{0, 7}, 1, 2)
	Embedding(b, "emb", ids, 3, 2, NoPadding)
	err := G.NewTapeMachine(b.G).RunAll()
	if err == nil {
		t.Fatal("want an error for id 7 in a vocabulary of 3")
	}
}

// Conv1D against the definition, y[n,o,t] = b[o] + Σ_c,j w[o,c,j]·x[n,c,t+j].
func TestConv1DMatchesDefinition(t *testing.T) {
	ps := NewParams(tensor.Float64, 5)
	b := NewBuilder(ps, Eval, nil)
	x := randomInput(b, "x", 21, 2, 3, 7)
	y := Conv1D(b, "conv", x, Conv1DConfig{Out: 4, Kernel: 3, Bias: true})
	if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
		t.Fatal(err)
	}
	xv, w, bias := x.Value().(*tensor.Dense).Float64s(), ps.Get("conv.weight").Value.Float64s(), ps.Get("conv.bias").Value.Float64s()
	got := y.Value().(*tensor.Dense).Float64s()
	for n := 0; n < 2; n++ {
		for o := 0; o < 4; o++ {
			for tt := 0; tt < 5; tt++ {
				want := bias[o]
				for c := 0; c < 3; c++ {
					for j := 0; j < 3; j++ {
						want += w[(o*3+c)*3+j] * xv[(n*3+c)*7+tt+j]
					}
				}
				if g := got[(n*4+o)*5+tt]; math.Abs(g-want) > 1e-12 {
					t.Fatalf("y[%d,%d,%d] = %v, want %v", n, o, tt, g, want)
				}
			}
		}
	}
}

func TestDropoutIsDeterministicPerStep(t *testing.T) {
	mask := func(step uint64) []float64 {
		b := NewBuilder(NewParams(tensor.Float64, 1), Train, &Noise{Seed: 42, Step: step})
		x := constInput(b, "x", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 16)
		y := Dropout(b, x, 0.5)
		if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), y.Value().(*tensor.Dense).Float64s()...)
	}
	a, a2, c := mask(3), mask(3), mask(4)
	same := func(p, q []float64) bool {
		for i := range p {
			if p[i] != q[i] {
				return false
			}
		}
		return true
	}
	if !same(a, a2) {
		t.Fatal("the same seed and step gave different masks")
	}
	if same(a, c) {
		t.Fatal("different steps gave the same mask")
	}
	for _, v := range a {
		if v != 0 && v != 2 {
			t.Fatalf("mask value %v, want 0 or 1/(1-p) = 2", v)
		}
	}
}

// The inference and training machines of a Program share parameter values.
func TestProgramMachinesShareParameters(t *testing.T) {
	build := func(b *Builder, n int) (Outputs, error) {
		x := b.Input("x", n, 3)
		logits := Linear(b, "fc", Dropout(b, x, 0.5), 1, true)
		return Outputs{Inputs: []*G.Node{x}, Output: logits}, nil
	}
	ps := NewParams(tensor.Float32, 1)
	p := NewProgram(build, BinaryLoss, ps, nil)
	train, err := p.Machine(2, Train)
	if err != nil {
		t.Fatal(err)
	}
	eval, err := p.Machine(1, Eval)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	y := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 0}))
	if err := train.Run([]*tensor.Dense{x}, y); err != nil {
		t.Fatal(err)
	}
	if gs := train.Gradients(); len(gs) != 2 || gs[0].Param.Name != "fc.weight" {
		t.Fatalf("gradients %v", gs)
	}
	ps.Get("fc.weight").Value.Float32s()[0] = 0
	ps.Get("fc.weight").Value.Float32s()[1] = 0
	ps.Get("fc.weight").Value.Float32s()[2] = 0
	ps.Get("fc.bias").Value.Float32s()[0] = 0.25
	x1 := tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float32{1, 2, 3}))
	y1 := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{1}))
	if err := eval.Run([]*tensor.Dense{x1}, y1); err != nil {
		t.Fatal(err)
	}
	if got := eval.Output().Float32s()[0]; got != 0.25 {
		t.Fatalf("eval output %v after setting weights to 0 and bias to 0.25", got)
	}
}
