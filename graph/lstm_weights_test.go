package graph

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Products with packed weights equal gonum's, in both layouts the LSTM uses
// and in float64 (where they are gonum's).
func TestLSTMGemmWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ m, n, k int }{{5, 40, 300}, {32, 1030, 256}, {7, 256, 1024}, {1, 1, 1}} {
		for _, trans := range []bool{false, true} {
			rb, cb := s.k, s.n
			if trans {
				rb, cb = s.n, s.k
			}
			a, b, c := make([]float64, s.m*s.k), make([]float64, rb*cb), make([]float64, s.m*s.n)
			for _, v := range [][]float64{a, b, c} {
				for i := range v {
					v[i] = rng.NormFloat64()
				}
			}
			want := append([]float64(nil), c...)
			gemm(1, false, trans, s.m, s.n, s.k, 1, a, s.k, b, cb, 1, want, s.n)
			var w64 lstmWeights[float64]
			got64 := append([]float64(nil), c...)
			w64.set(trans, b, cb, s.k, s.n)
			lstmGemmWeights(false, s.m, s.n, s.k, 1, a, s.k, &w64, 1, got64, s.n)
			f32 := func(v []float64) []float32 {
				out := make([]float32, len(v))
				for i, x := range v {
					out[i] = float32(x)
				}
				return out
			}
			var w32 lstmWeights[float32]
			got32 := f32(c)
			w32.set(trans, f32(b), cb, s.k, s.n)
			lstmGemmWeights(false, s.m, s.n, s.k, 1, f32(a), s.k, &w32, 1, got32, s.n)
			for i := range want {
				if got64[i] != want[i] {
					t.Fatalf("%v trans=%v float64: C[%d] = %v, want %v", s, trans, i, got64[i], want[i])
				}
				if d := math.Abs(float64(got32[i]) - want[i]); d > 1e-5*float64(s.k)*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("%v trans=%v float32: C[%d] = %v, want %v", s, trans, i, got32[i], want[i])
				}
			}
		}
	}
}
