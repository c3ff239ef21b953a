package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// linearWeightGrad (and its packed-panel form) gives the general
// product's bits, on shapes around its panels and tiles (heights not a multiple of 24 or 12, widths not a
// multiple of 32, one row, the deepest batch it takes), with a guard
// before and after the gradient, on one thread and on all of them.
func TestLinearWeightGrad(t *testing.T) {
	if !kern.Packed() {
		t.Skip("no packed product at this level")
	}
	rng := rand.New(rand.NewPCG(91, 92))
	const guard = float32(-4321.5)
	for _, s := range []struct{ n, k, m int }{{1, 1, 1}, {3, 33, 25}, {32, 65, 24}, {32, 100, 47}, {7, 1024, 97}, {256, 31, 49}, {17, 8, 1}} {
		for _, threads := range []int{1, 0} {
			name := fmt.Sprintf("n=%d k=%d m=%d threads=%d", s.n, s.k, s.m, threads)
			g, x := make([]float32, s.n*s.m), make([]float32, s.n*s.k)
			for i := range g {
				g[i] = float32(rng.NormFloat64())
			}
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			want := make([]float32, s.m*s.k)
			kern.Sgemm(1, true, false, s.m, s.k, s.n, 1, g, s.m, x, s.k, 0, want, s.k)
			all := make([]float32, s.m*s.k+128)
			for i := range all {
				all[i] = guard
			}
			d := all[64 : 64+s.m*s.k]
			for impl, f := range map[string]func(g, x, d []float32, n, k, m int){"chosen": linearWeightGrad, "panels": linearWeightGradPanels} {
				for i := range all {
					all[i] = guard
				}
				prev := SetMaxThreads(threads)
				f(g, x, d, s.n, s.k, s.m)
				SetMaxThreads(prev)
				for i, v := range all {
					if (i < 64 || i >= 64+len(d)) && v != guard {
						t.Fatalf("%s %s: wrote %v at %d outside the gradient", impl, name, v, i-64)
					}
				}
				for i := range want {
					if math.Float32bits(d[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %s: [%d] = %v, want %v", impl, name, i, d[i], want[i])
					}
				}
			}
		}
	}
}

// The ConvNet's fc.0 weight gradient (batch 32, 8192→1024) stored panel
// by panel against the general product, on all threads.
//
//	go test -run '^$' -bench LinearWeightGrad ./graph
func BenchmarkLinearWeightGrad(b *testing.B) {
	const n, k, m = 32, 8192, 1024
	g, x, d := make([]float32, n*m), make([]float32, n*k), make([]float32, m*k)
	for i := range g {
		g[i] = float32(i%7) * 0.1
	}
	for i := range x {
		x[i] = float32(i%5) * 0.1
	}
	flops := func(b *testing.B) {
		b.ReportMetric(float64(2*n*k*m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.Run("general", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			kern.Sgemm(maxThreads(), true, false, m, k, n, 1, g, m, x, k, 0, d, k)
		}
		flops(b)
	})
	b.Run("panels", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			linearWeightGradPanels(g, x, d, n, k, m)
		}
		flops(b)
	})
	b.Run("chosen", func(b *testing.B) { // non-temporal stores with AVX-512
		for i := 0; i < b.N; i++ {
			linearWeightGrad(g, x, d, n, k, m)
		}
		flops(b)
	})
}

// linearInputGrad gives the bits of g·w, on shapes around the tiles and
// the depth block, with guards around the gradient, on one thread and on
// all of them.
func TestLinearInputGrad(t *testing.T) {
	if kern.Active() < kern.AVX512 {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(93, 94))
	const guard = float32(-4321.5)
	for _, s := range []struct{ n, k, m int }{{1, 1, 1}, {3, 33, 25}, {32, 65, 300}, {32, 100, 47}, {7, 1024, 97}, {64, 31, 513}, {17, 12, 1}} {
		for _, threads := range []int{1, 0} {
			name := fmt.Sprintf("n=%d k=%d m=%d threads=%d", s.n, s.k, s.m, threads)
			g, w := make([]float32, s.n*s.m), make([]float32, s.m*s.k)
			for i := range g {
				g[i] = float32(rng.NormFloat64())
			}
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			want := make([]float32, s.n*s.k)
			kern.Sgemm(1, false, false, s.n, s.k, s.m, 1, g, s.m, w, s.k, 0, want, s.k)
			all := make([]float32, s.n*s.k+128)
			for i := range all {
				all[i] = guard
			}
			d := all[64 : 64+s.n*s.k]
			prev := SetMaxThreads(threads)
			linearInputGrad(g, w, d, s.n, s.k, s.m)
			SetMaxThreads(prev)
			for i, v := range all {
				if (i < 64 || i >= 64+len(d)) && v != guard {
					t.Fatalf("%s: wrote %v at %d outside the gradient", name, v, i-64)
				}
			}
			for i := range want {
				if math.Float32bits(d[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: [%d] = %v, want %v", name, i, d[i], want[i])
				}
			}
		}
	}
}

// The ConvNet's fc.0 input gradient (batch 32, 8192→1024) with the weight
// read in place against the general product, which packs all of it.
//
//	go test -run '^$' -bench LinearInputGrad ./graph
func BenchmarkLinearInputGrad(b *testing.B) {
	if kern.Active() < kern.AVX512 {
		b.Skip("no AVX-512")
	}
	const n, k, m = 32, 8192, 1024
	g, w, d := make([]float32, n*m), make([]float32, m*k), make([]float32, n*k)
	for i := range g {
		g[i] = float32(i%7) * 0.1
	}
	for i := range w {
		w[i] = float32(i%5) * 0.1
	}
	flops := func(b *testing.B) {
		b.ReportMetric(float64(2*n*k*m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.Run("general", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			kern.Sgemm(maxThreads(), false, false, n, k, m, 1, g, m, w, k, 0, d, k)
		}
		flops(b)
	})
	b.Run("inplace", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			linearInputGrad(g, w, d, n, k, m)
		}
		flops(b)
	})
}
