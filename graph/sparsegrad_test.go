package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Over several steps with different ids, an embedding table's gradient
// cleared row by row has the same bits as a fresh machine's, whose buffer
// starts zeroed; a table used twice keeps the whole-table zeroing.
func TestEmbeddingSparseGradient(t *testing.T) {
	const vocab, dim, n, steps = 9, 3, 4, 6
	for _, shared := range []bool{false, true} {
		build := func(b *Builder, n int) (Outputs, error) {
			ids := b.Input("ids", n, 2)
			e := Embedding(b, "emb", ids, vocab, dim, 1)
			if shared {
				var err error
				if e, err = G.Add(e, Embedding(b, "emb", ids, vocab, dim, 1)); err != nil {
					return Outputs{}, err
				}
			}
			logits := Linear(b, "fc", Flatten(e), 1, true)
			return Outputs{Inputs: []*G.Node{ids}, Output: logits}, nil
		}
		ps := NewParams(tensor.Float64, 1)
		m, err := Compile(build, BinaryLoss, ps, nil, n, Train)
		if err != nil {
			t.Fatal(err)
		}
		sparse := false
		for _, g := range m.grads {
			if op, ok := g.Op().(*kernelGradOp); ok && op.wrt == 1 && writesAll(op.fwd.k, 1) {
				if _, ok := op.fwd.k.(*embeddingKernel[float64]); ok {
					sparse = true
				}
			}
		}
		if sparse == shared {
			t.Fatalf("shared=%v: row-by-row clearing enabled = %v", shared, sparse)
		}
		embGrad := func(m *Machine) []float64 {
			for _, g := range m.Gradients() {
				if g.Param.Name == "emb.weight" {
					return g.Grad.Float64s()
				}
			}
			t.Fatal("no gradient for emb.weight")
			return nil
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for s := 0; s < steps; s++ {
			idv := make([]float64, n*2)
			for i := range idv {
				idv[i] = float64(rng.IntN(vocab))
			}
			ids := tensor.New(tensor.WithShape(n, 2), tensor.WithBacking(idv))
			y := tensor.New(tensor.WithShape(n), tensor.WithBacking([]float64{1, 0, 1, 0}))
			if err := m.Run([]*tensor.Dense{ids}, y); err != nil {
				t.Fatal(err)
			}
			fresh, err := Compile(build, BinaryLoss, ps, nil, n, Train)
			if err != nil {
				t.Fatal(err)
			}
			if err := fresh.Run([]*tensor.Dense{ids}, y); err != nil {
				t.Fatal(err)
			}
			got, want := embGrad(m), embGrad(fresh)
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("shared=%v step %d: gradient[%d] = %v, fresh machine %v", shared, s, i, got[i], want[i])
				}
			}
			// Move the weights, as an optimizer would.
			for _, p := range []string{"emb.weight", "fc.weight"} {
				for i := range ps.Get(p).Value.Float64s() {
					ps.Get(p).Value.Float64s()[i] += 0.01 * rng.NormFloat64()
				}
			}
		}
	}
}

// Small models over every layer that skips the tape's zeroing, run on a
// reused machine with changing inputs (some all padding), give the same
// gradient bits as a fresh machine: no kernel leaves a stale value behind.
func TestReusedMachineGradients(t *testing.T) {
	const n = 3
	models := []struct {
		name  string
		build BuildFunc
		loss  LossFunc
		input func(rng *rand.Rand, step int) *tensor.Dense
	}{
		{"textcnn", func(b *Builder, n int) (Outputs, error) {
			ids := b.Input("ids", n, 7)
			x := SwapAxes(Embedding(b, "emb", ids, 11, 4, 0))
			x = MaxPool1D(ReLU(Conv1D(b, "conv", x, Conv1DConfig{Out: 3, Kernel: 3, Bias: true})), 2, 0)
			logits := Linear(b, "fc", Flatten(x), 1, true)
			return Outputs{Inputs: []*G.Node{ids}, Output: logits}, nil
		}, BinaryLoss, func(rng *rand.Rand, _ int) *tensor.Dense { return randIDs(rng, n, 7, 11) }},
		{"lstm", func(b *Builder, n int) (Outputs, error) {
			ids := b.Input("ids", n, 5)
			e := Embedding(b, "emb", ids, 11, 4, 0)
			out := LSTM(b, "lstm", e, PaddingMask(ids, 0), LSTMConfig{Hidden: 3, Layers: 2, Bidirectional: true})
			logits := Linear(b, "fc", Tanh(Flatten(out.Sequence())), 1, true)
			return Outputs{Inputs: []*G.Node{ids}, Output: logits}, nil
		}, BinaryLoss, func(rng *rand.Rand, step int) *tensor.Dense {
			if step == 2 { // all padding
				return tensor.New(tensor.WithShape(n, 5), tensor.WithBacking(make([]float64, n*5)))
			}
			return randIDs(rng, n, 5, 11)
		}},
		{"convnet", func(b *Builder, n int) (Outputs, error) {
			img := b.Input("img", n, 2, 6, 6)
			x := Conv2D(b, "conv", img, Conv2DConfig{Out: 3, Kernel: 3, Padding: 1, Bias: true})
			x = ReLU(MaxPool2D(BatchNorm2D(b, "bn", x, BatchNormConfig{}), 2, 0))
			logits := Linear(b, "fc", Dropout(b, Flatten(x), 0.25), 4, true)
			return Outputs{Inputs: []*G.Node{img}, Output: logits}, nil
		}, MulticlassLoss, func(rng *rand.Rand, _ int) *tensor.Dense {
			v := make([]float64, n*2*6*6)
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			return tensor.New(tensor.WithShape(n, 2, 6, 6), tensor.WithBacking(v))
		}},
	}
	for _, mdl := range models {
		ps := NewParams(tensor.Float64, 1)
		noise := &Noise{Seed: 5}
		m, err := Compile(mdl.build, mdl.loss, ps, noise, n, Train)
		if err != nil {
			t.Fatalf("%s: %v", mdl.name, err)
		}
		rng := rand.New(rand.NewPCG(7, 8))
		for s := 0; s < 4; s++ {
			x := mdl.input(rng, s)
			y := tensor.New(tensor.WithShape(n), tensor.WithBacking([]float64{1, 0, 1}))
			noise.Step = uint64(s)
			if err := m.Run([]*tensor.Dense{x}, y); err != nil {
				t.Fatalf("%s step %d: %v", mdl.name, s, err)
			}
			fresh, err := Compile(mdl.build, mdl.loss, ps, noise, n, Train)
			if err != nil {
				t.Fatal(err)
			}
			if err := fresh.Run([]*tensor.Dense{x}, y); err != nil {
				t.Fatal(err)
			}
			want := fresh.Gradients()
			for i, g := range m.Gradients() {
				a, b := g.Grad.Float64s(), want[i].Grad.Float64s()
				for j := range a {
					if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
						t.Fatalf("%s step %d: %s gradient[%d] = %v, fresh machine %v", mdl.name, s, g.Param.Name, j, a[j], b[j])
					}
				}
			}
		}
	}
}

func randIDs(rng *rand.Rand, n, l, vocab int) *tensor.Dense {
	v := make([]float64, n*l)
	for i := range v {
		v[i] = float64(rng.IntN(vocab))
	}
	return tensor.New(tensor.WithShape(n, l), tensor.WithBacking(v))
}
