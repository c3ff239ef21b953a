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
			y := b.Input("y", n)
			e := Embedding(b, "emb", ids, vocab, dim, 1)
			if shared {
				var err error
				if e, err = G.Add(e, Embedding(b, "emb", ids, vocab, dim, 1)); err != nil {
					return Outputs{}, err
				}
			}
			logits := Linear(b, "fc", Flatten(e), 1, true)
			return Outputs{Inputs: []*G.Node{ids}, Target: y, Output: logits, Loss: BCEWithLogits(logits, y)}, nil
		}
		ps := NewParams(tensor.Float64, 1)
		m, err := Compile(build, ps, nil, n, Train)
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
			fresh, err := Compile(build, ps, nil, n, Train)
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
