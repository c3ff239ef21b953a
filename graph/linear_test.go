package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// linearWeightGrad (and its packed-panel form) and linearInputGrad give
// the general product's bits, on shapes around their panels, tiles and
// depth blocks (heights not a multiple of 24 or 12, widths not a multiple
// of 32, one row), with a guard before and after the gradient, on one
// thread and on all of them.
func TestLinearGrads(t *testing.T) {
	if !kern.Packed() {
		t.Skip("no packed product at this level")
	}
	rng := rand.New(rand.NewPCG(91, 92))
	random := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for _, s := range []struct{ n, k, m int }{{1, 1, 1}, {3, 33, 25}, {32, 65, 24}, {32, 65, 300}, {32, 100, 47}, {7, 1024, 97}, {64, 31, 513}, {256, 31, 49}, {17, 8, 1}, {17, 12, 1}} {
		g, x, w := random(s.n*s.m), random(s.n*s.k), random(s.m*s.k)
		wantW, wantX := make([]float32, s.m*s.k), make([]float32, s.n*s.k)
		kern.Sgemm(1, true, false, s.m, s.k, s.n, 1, g, s.m, x, s.k, 0, wantW, s.k)
		kern.Sgemm(1, false, false, s.n, s.k, s.m, 1, g, s.m, w, s.k, 0, wantX, s.k)
		cases := []struct {
			name string
			want []float32
			run  func(d []float32)
		}{
			{"weight", wantW, func(d []float32) { linearWeightGrad(g, x, d, s.n, s.k, s.m) }},
			{"weight panels", wantW, func(d []float32) { linearWeightGradPanels(g, x, d, s.n, s.k, s.m) }},
		}
		if kern.Active() >= kern.AVX512 {
			cases = append(cases, struct {
				name string
				want []float32
				run  func(d []float32)
			}{"input", wantX, func(d []float32) { linearInputGrad(g, w, d, s.n, s.k, s.m) }})
		}
		for _, c := range cases {
			for _, threads := range []int{1, 0} {
				name := fmt.Sprintf("%s n=%d k=%d m=%d threads=%d", c.name, s.n, s.k, s.m, threads)
				const guard = float32(-4321.5)
				all := make([]float32, len(c.want)+128)
				for i := range all {
					all[i] = guard
				}
				d := all[64 : 64+len(c.want)]
				prev := SetMaxThreads(threads)
				c.run(d)
				SetMaxThreads(prev)
				for i, v := range all {
					if (i < 64 || i >= 64+len(d)) && v != guard {
						t.Fatalf("%s: wrote %v at %d outside the gradient", name, v, i-64)
					}
				}
				for i, want := range c.want {
					if math.Float32bits(d[i]) != math.Float32bits(want) {
						t.Fatalf("%s: [%d] = %v, want %v", name, i, d[i], want)
					}
				}
			}
		}
	}
}

// The ConvNet's fc.0 gradients (batch 32, 8192→1024), on all threads:
// the weight gradient by the general product, by packed panels and as
// chosen (non-temporal stores with AVX-512); the input gradient by the
// general product, which packs all of the weight, and with the weight
// read in place.
//
//	go test -run '^$' -bench LinearGrad ./graph
func BenchmarkLinearGrad(b *testing.B) {
	const n, k, m = 32, 8192, 1024
	fill := func(size, mod int) []float32 {
		v := make([]float32, size)
		for i := range v {
			v[i] = float32(i%mod) * 0.1
		}
		return v
	}
	g, x, w := fill(n*m, 7), fill(n*k, 5), fill(m*k, 5)
	dw, dx := make([]float32, m*k), make([]float32, n*k)
	for _, c := range []struct {
		name   string
		avx512 bool
		run    func()
	}{
		{"weight/general", false, func() { kern.Sgemm(maxThreads(), true, false, m, k, n, 1, g, m, x, k, 0, dw, k) }},
		{"weight/panels", false, func() { linearWeightGradPanels(g, x, dw, n, k, m) }},
		{"weight/chosen", false, func() { linearWeightGrad(g, x, dw, n, k, m) }},
		{"input/general", false, func() { kern.Sgemm(maxThreads(), false, false, n, k, m, 1, g, m, w, k, 0, dx, k) }},
		{"input/inplace", true, func() { linearInputGrad(g, w, dx, n, k, m) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			if !kern.Packed() || c.avx512 && kern.Active() < kern.AVX512 {
				b.Skip("not at this level")
			}
			for i := 0; i < b.N; i++ {
				c.run()
			}
			b.ReportMetric(float64(2*n*k*m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
