package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// sampleCase is a small model and a batch for it.
type sampleCase struct {
	name   string
	build  BuildFunc
	loss   LossFunc
	inputs func(n int, rng *rand.Rand) ([][]float64, [][]int, []float64, []int) // per input: values, shape; targets, shape
}

func floatTensor(v []float64, shape []int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// example returns example i's slice of a batch tensor's values and shape.
func exampleOf(v []float64, shape []int, i int) ([]float64, []int) {
	s := append([]int{1}, shape[1:]...)
	size := tensor.Shape(s).TotalSize()
	return append([]float64(nil), v[i*size:(i+1)*size]...), s
}

func randn(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func classes(rng *rand.Rand, n, k int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(rng.IntN(k))
	}
	return v
}

var sampleCases = []sampleCase{
	{"MLP", func(b *Builder, n int) (Outputs, error) {
		x := b.Input("x", n, 5)
		h := ReLU(Linear(b, "fc1", x, 4, true))
		logits := Linear(b, "fc2", h, 3, false)
		return Outputs{Inputs: []*G.Node{x}, Output: logits}, nil
	}, testLoss(SoftmaxCrossEntropy, 0), func(n int, rng *rand.Rand) ([][]float64, [][]int, []float64, []int) {
		return [][]float64{randn(rng, n*5)}, [][]int{{n, 5}}, classes(rng, n, 3), []int{n}
	}},
	{"Conv2D", func(b *Builder, n int) (Outputs, error) {
		x := b.Input("x", n, 2, 6, 6)
		h := ReLU(Conv2D(b, "c1", x, Conv2DConfig{Out: 3, Kernel: 3, Padding: 1, Bias: true}))
		h = MaxPool2D(ReLU(Conv2D(b, "c2", h, Conv2DConfig{Out: 2, Kernel: 3, Stride: 2, Bias: true})), 2, 0)
		logits := Linear(b, "fc", Flatten(h), 3, true)
		return Outputs{Inputs: []*G.Node{x}, Output: logits}, nil
	}, testLoss(SoftmaxCrossEntropy, 0), func(n int, rng *rand.Rand) ([][]float64, [][]int, []float64, []int) {
		return [][]float64{randn(rng, n*72)}, [][]int{{n, 2, 6, 6}}, classes(rng, n, 3), []int{n}
	}},
	{"GroupNorm", func(b *Builder, n int) (Outputs, error) {
		x := b.Input("x", n, 1, 5, 5)
		h := Conv2D(b, "c1", x, Conv2DConfig{Out: 4, Kernel: 3, Padding: 1, Bias: true})
		h = ReLU(GroupNorm(b, "gn", h, GroupNormConfig{Groups: 2}))
		logits := Linear(b, "fc", Flatten(h), 3, true)
		return Outputs{Inputs: []*G.Node{x}, Output: logits}, nil
	}, testLoss(SoftmaxCrossEntropy, 0), func(n int, rng *rand.Rand) ([][]float64, [][]int, []float64, []int) {
		return [][]float64{randn(rng, n*25)}, [][]int{{n, 1, 5, 5}}, classes(rng, n, 3), []int{n}
	}},
	{"MFAddScalar", func(b *Builder, n int) (Outputs, error) {
		user := b.Input("user", n, 1)
		p := Flatten(Embedding(b, "p", user, 5, 3, NoPadding))
		mu := b.Param("mu", []int{1}, Constant(3))
		pred := AddScalar(RowDot(p, p), mu)
		return Outputs{Inputs: []*G.Node{user}, Output: pred}, nil
	}, testLoss(MSE, 0), func(n int, rng *rand.Rand) ([][]float64, [][]int, []float64, []int) {
		return [][]float64{classes(rng, n, 5)}, [][]int{{n, 1}}, randn(rng, n), []int{n}
	}},
	{"EmbeddingConv1D", func(b *Builder, n int) (Outputs, error) {
		ids := b.Input("ids", n, 7)
		h := SwapAxes(Embedding(b, "emb", ids, 6, 4, NoPadding))
		h = GlobalMaxPool1D(ReLU(Conv1D(b, "conv", h, Conv1DConfig{Out: 3, Kernel: 3, Bias: true})))
		logits := Linear(b, "fc", Flatten(h), 1, true)
		return Outputs{Inputs: []*G.Node{ids}, Output: logits}, nil
	}, testLoss(BCEWithLogits, 1), func(n int, rng *rand.Rand) ([][]float64, [][]int, []float64, []int) {
		return [][]float64{classes(rng, n*7, 6)}, [][]int{{n, 7}}, classes(rng, n, 2), []int{n, 1}
	}},
	{"TransformerEncoder", func(b *Builder, n int) (Outputs, error) {
		ids := b.Input("ids", n, 5)
		types := b.Input("types", n, 5)
		x := Embedding(b, "word", ids, 7, 4, 0)
		x = PositionEmbedding(b, "pos", x, 6, Normal(0.5))
		x = TokenTypeEmbedding(b, "type", x, types, 2, Normal(0.5))
		x = LayerNorm(b, "emb_norm", x, LayerNormConfig{})
		a := SelfAttention(b, x, PaddingMask(ids, 0), AttentionConfig{Heads: 2, Query: "q", Key: "k", Value: "v", Out: "o"})
		x = LayerNorm(b, "attn_norm", Add(x, a), LayerNormConfig{})
		f := Linear(b, "ffn2", GELU(Linear(b, "ffn1", x, 6, true)), 4, true)
		x = LayerNorm(b, "ffn_norm", Add(x, f), LayerNormConfig{})
		logits := Linear(b, "fc", Flatten(x), 3, true)
		return Outputs{Inputs: []*G.Node{ids, types}, Output: logits}, nil
	}, testLoss(SoftmaxCrossEntropy, 0), func(n int, rng *rand.Rand) ([][]float64, [][]int, []float64, []int) {
		ids, types := make([]float64, n*5), make([]float64, n*5)
		for i := 0; i < n; i++ {
			for t := 0; t < 1+i%5; t++ { // 1 … 5 real tokens, padding after them
				ids[i*5+t] = float64(1 + rng.IntN(6))
				types[i*5+t] = float64(rng.IntN(2))
			}
		}
		return [][]float64{ids, types}, [][]int{{n, 5}, {n, 5}}, classes(rng, n, 3), []int{n}
	}},
	{"LSTMPadded", func(b *Builder, n int) (Outputs, error) {
		ids := b.Input("ids", n, 6)
		x := Embedding(b, "emb", ids, 7, 3, 0)
		rnn := LSTM(b, "rnn", x, PaddingMask(ids, 0), LSTMConfig{Hidden: 3, Layers: 2, Bidirectional: true})
		logits := Linear(b, "fc", rnn.Hidden(1), 1, true)
		return Outputs{Inputs: []*G.Node{ids}, Output: logits}, nil
	}, testLoss(BCEWithLogits, 1), func(n int, rng *rand.Rand) ([][]float64, [][]int, []float64, []int) {
		ids := make([]float64, n*6)
		for i := 0; i < n; i++ {
			real := i % 7 // 0 … 6 real tokens: an all-padding text and a full one
			pre := i%2 == 0
			for t := 0; t < real; t++ {
				p := t
				if pre {
					p = 6 - real + t
				}
				ids[i*6+p] = float64(1 + rng.IntN(6))
			}
		}
		return [][]float64{ids}, [][]int{{n, 6}}, classes(rng, n, 2), []int{n, 1}
	}},
}

// TestPerExampleGradients checks each example's gradient from one batched
// run against the gradient of that example's loss alone, its squared norm,
// and the weighted sum, in float64.
func TestPerExampleGradients(t *testing.T) {
	const n = 8
	for _, c := range sampleCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			params := NewParams(tensor.Float64, 5)
			sm, err := CompileSamples(c.build, c.loss, params, nil, n)
			if err != nil {
				t.Fatal(err)
			}
			// A first run on another batch: buffers kept from run to run
			// must not leak into the next.
			wx, wxs, wy, wys := c.inputs(n, rng)
			var warm []*tensor.Dense
			for i := range wx {
				warm = append(warm, floatTensor(wx[i], wxs[i]))
			}
			if err := sm.Run(warm, floatTensor(wy, wys)); err != nil {
				t.Fatal(err)
			}
			wg := make([]*tensor.Dense, len(sm.Params()))
			for i, p := range sm.Params() {
				wg[i] = tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(p.Value.Shape()...))
			}
			sm.SquaredNorms()
			if err := sm.WeightedSum(make([]float64, n), wg); err != nil {
				t.Fatal(err)
			}
			xs, xShapes, ys, yShape := c.inputs(n, rng)
			var in []*tensor.Dense
			for i := range xs {
				in = append(in, floatTensor(xs[i], xShapes[i]))
			}
			if err := sm.Run(in, floatTensor(ys, yShape)); err != nil {
				t.Fatal(err)
			}
			one, err := Compile(c.build, c.loss, params, nil, 1, Train)
			if err != nil {
				t.Fatal(err)
			}
			norms := sm.SquaredNorms()
			coef := make([]float64, n)
			want := make([][]float64, len(sm.Params()))
			for i, p := range sm.Params() {
				want[i] = make([]float64, p.Value.Shape().TotalSize())
			}
			for e := 0; e < n; e++ {
				var in1 []*tensor.Dense
				for i := range xs {
					in1 = append(in1, floatTensor(exampleOf(xs[i], xShapes[i], e)))
				}
				if err := one.Run(in1, floatTensor(exampleOf(ys, yShape, e))); err != nil {
					t.Fatal(err)
				}
				got := sm.Example(e)
				coef[e] = rng.Float64() - 0.3
				var sq float64
				for i, g := range one.Gradients() {
					if g.Param != sm.Params()[i] {
						t.Fatalf("parameter order differs: %s vs %s", g.Param.Name, sm.Params()[i].Name)
					}
					for j, w := range g.Grad.Float64s() {
						if math.Abs(got[i][j]-w) > 1e-9*math.Max(1, math.Abs(w)) {
							t.Fatalf("example %d %s[%d]: per-example %.15g, alone %.15g", e, g.Param.Name, j, got[i][j], w)
						}
						sq += w * w
						want[i][j] += coef[e] * w
					}
				}
				if math.Abs(norms[e]-sq) > 1e-9*math.Max(1, sq) {
					t.Errorf("example %d: squared norm %.15g, alone %.15g", e, norms[e], sq)
				}
			}
			grads := make([]*tensor.Dense, len(sm.Params()))
			for i, p := range sm.Params() {
				grads[i] = tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(p.Value.Shape()...))
			}
			if err := sm.WeightedSum(coef, grads); err != nil {
				t.Fatal(err)
			}
			for i, g := range grads {
				for j, v := range g.Float64s() {
					if math.Abs(v-want[i][j]) > 1e-9*math.Max(1, math.Abs(want[i][j])) {
						t.Fatalf("weighted sum %s[%d]: %.15g, want %.15g", sm.Params()[i].Name, j, v, want[i][j])
					}
				}
			}
		})
	}
}

func TestPerExampleRefusesBatchNorm(t *testing.T) {
	build := func(b *Builder, n int) (Outputs, error) {
		x := b.Input("x", n, 2, 4, 4)
		h := BatchNorm2D(b, "bn", Conv2D(b, "c", x, Conv2DConfig{Out: 2, Kernel: 3}), BatchNormConfig{})
		logits := Linear(b, "fc", Flatten(h), 2, true)
		return Outputs{Inputs: []*G.Node{x}, Output: logits}, nil
	}
	_, err := CompileSamples(build, testLoss(SoftmaxCrossEntropy, 0), NewParams(tensor.Float64, 1), nil, 4)
	if err == nil || !strings.Contains(err.Error(), "BatchNorm") {
		t.Fatalf("error %v, want one about BatchNorm", err)
	}
}

func TestAddScalarGradient(t *testing.T) {
	err := GradCheck(func(b *Builder) (*G.Node, []*G.Node, error) {
		x := randomInput(b, "x", 3, 4, 2)
		s := b.Param("s", []int{1}, Constant(0.7))
		return weightedSum(b, AddScalar(x, s)), []*G.Node{x, s}, nil
	}, GradCheckConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClipCoefficients(t *testing.T) {
	got := ClipCoefficients([]float64{0, 1, 4, 100}, 2)
	want := []float64{1, 1, 1, 0.2}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("coefficient %d: %v, want %v", i, got[i], want[i])
		}
	}
	if c := ClipCoefficients([]float64{1e300}, math.Inf(1)); c[0] != 1 {
		t.Errorf("infinite bound clipped: %v", c)
	}
}

// testLoss is an objective over target "y" [N] (or [N, 1] when column is
// 1), with the given loss.
func testLoss(loss func(out, target *G.Node) *G.Node, column int) LossFunc {
	return func(b *Builder, out Outputs) (Objective, error) {
		shape := []int{out.Output.Shape()[0]}
		if column == 1 {
			shape = append(shape, 1)
		}
		y := b.Input("y", shape...)
		return Objective{Target: y, Loss: loss(out.Output, y)}, nil
	}
}
