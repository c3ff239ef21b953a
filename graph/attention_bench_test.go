package graph

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// BenchmarkSelfAttention times the fused attention op alone (no graph
// around it) at the reference configuration: batch 32, 128 steps, width
// 128, 4 heads, a padding mask with every example full. Forward is the
// training graph's (it keeps the probabilities), Backward every input's
// gradient (x, the packed input projection, the output projection),
// Serving the serving graph's forward with packed weights. GFLOP/s counts
// the products' multiply-adds (forward 8·N·T·D² + 4·N·T²·D; backward twice
// that); compare it with BenchmarkSgemm in internal/kernel run in the same
// command for the fraction of the machine's sgemm peak:
//
//	go test -run '^$' -bench 'Sgemm/projection/avx512|SelfAttention' ./internal/kernel ./graph
func BenchmarkSelfAttention(b *testing.B) {
	const n, t, d, h = 32, 128, 128, 4
	rng := rand.New(rand.NewPCG(1, 2))
	dense := func(scale float64, shape ...int) *tensor.Dense {
		v := make([]float32, tensor.Shape(shape).TotalSize())
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	mask := tensor.New(tensor.WithShape(n, t), tensor.WithBacking(make([]float32, n*t)))
	for i := range mask.Float32s() {
		mask.Float32s()[i] = 1
	}
	in := []*tensor.Dense{dense(1, n, t, d), mask, dense(0.1, 3*d, d), dense(0.1, 3*d), dense(0.1, d, d), dense(0.1, d)}
	out, gOut := dense(0, n, t, d), dense(1, n, t, d)
	fwdFlops := float64(8*n*t*d*d + 4*n*t*t*d)
	report := func(b *testing.B, flops float64) {
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
	}
	b.Run("Forward", func(b *testing.B) {
		k := &attentionKernel[float32]{heads: h, parts: 1, masked: true, keep: true, noise: &Noise{}}
		for b.Loop() {
			if err := k.forward(in, out); err != nil {
				b.Fatal(err)
			}
		}
		report(b, fwdFlops)
	})
	b.Run("Backward", func(b *testing.B) {
		k := &attentionKernel[float32]{heads: h, parts: 1, masked: true, keep: true, noise: &Noise{}}
		grads := make([]*tensor.Dense, len(in))
		for i, x := range in {
			grads[i] = dense(0, x.Shape()...)
		}
		if err := k.forward(in, out); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			k.forwards++ // a new run: recompute the shared gradients
			for _, wrt := range []int{0, 2, 3, 4, 5} {
				if err := k.backward(in, out, gOut, wrt, grads[wrt]); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, 2*fwdFlops)
	})
	b.Run("Serving", func(b *testing.B) {
		ps := NewParams(tensor.Float32, 1)
		k := &attentionKernel[float32]{heads: h, parts: 1, masked: true,
			packed: &attnPacked{qkv: ps.packedFor("qkv"), out: ps.packedFor("out")}}
		for b.Loop() {
			if err := k.forward(in, out); err != nil {
				b.Fatal(err)
			}
		}
		report(b, fwdFlops)
	})
}
