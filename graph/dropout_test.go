package graph

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// The dropout kernel draws its mask from the PCG stream directly; it must
// drop exactly the elements whose rand.Float64 from that stream is below
// p, as it did through a rand.Rand: the masks, and so training, are
// unchanged.
func TestDropoutMaskIsFloat64BelowP(t *testing.T) {
	for _, p := range []float64{0.5, 0.1, 1.0 / 3, 0.9, 0.999} {
		const n = 10007
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(i%13) - 6
		}
		x := tensor.New(tensor.WithShape(n), tensor.WithBacking(xs))
		y := tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]float32, n)))
		const seed, step, stream = 7, 5, 3
		k := &dropoutKernel[float32]{p: p, noise: &Noise{Seed: seed, Step: step}, stream: stream}
		if err := k.forward([]*tensor.Dense{x}, y); err != nil {
			t.Fatal(err)
		}
		s := uint64(stream)
		rng := rand.New(rand.NewPCG(seed^(s*0x9e3779b97f4a7c15), step))
		keep := float32(1 / (1 - p))
		dropped := 0
		for i, v := range xs {
			m := keep
			if rng.Float64() < p {
				m = 0
				dropped++
			}
			if k.mask[i] != m || y.Float32s()[i] != v*m {
				t.Fatalf("p %v: element %d: mask %v, output %v; want %v, %v", p, i, k.mask[i], y.Float32s()[i], m, v*m)
			}
		}
		if dropped == 0 || dropped == n {
			t.Fatalf("p %v: %d of %d dropped", p, dropped, n)
		}
	}
}
