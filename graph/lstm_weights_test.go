package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	kern "github.com/tapeml/tapeml/internal/kernel"
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
			lstmGemmWeights(false, s.m, s.n, s.k, 1, a, s.k, &w64, 1, got64, s.n, false)
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
			lstmGemmWeights(false, s.m, s.n, s.k, 1, f32(a), s.k, &w32, 1, got32, s.n, true)
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

// The serving Linear's product with weights packed once in column stripes
// (one per thread), at every packed level, on every pair of batch and
// output sizes in the kernel tests' sizes list and depths around the
// unrolling, with and without a bias, against the float64 product, with
// guard regions around y; and with a GELU fused in, against GELU after it.
func TestPackedWeightsProductSizes(t *testing.T) {
	const gl = 16
	const guard = float32(-1234.5678)
	sizes := []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65}
	rng := rand.New(rand.NewPCG(67, 68))
	count := 0
	for l := kern.AVX2; l <= kern.Supported(); l++ {
		restore := kern.Set(l)
		for _, out := range append(sizes[:len(sizes):len(sizes)], 200) { // 200: several stripes
			for _, in := range []int{1, 3, 16, 17, 33} {
				w := randn32(rng, out*in)
				var pw packedWeights
				pw.pack(w, out, in)
				for _, m := range sizes {
					count++
					var bias []float32 // a bias on every other case
					if count%2 == 0 {
						bias = randn32(rng, out)
					}
					x := randn32(rng, m*in)
					all := make([]float32, m*out+2*gl)
					for i := range all {
						all[i] = guard
					}
					y := all[gl : gl+m*out]
					for i := range y {
						y[i] = float32(rng.NormFloat64())
					}
					pw.product(new(productSite), x, m, in, out, bias, y)
					for i, g := range all {
						c := i - gl
						if c < 0 || c >= m*out {
							if math.Float32bits(g) != math.Float32bits(guard) {
								t.Fatalf("%s %dx%dx%d: wrote %v at %d outside y", l, m, out, in, g, c)
							}
							continue
						}
						r, j := c/out, c%out
						var s, mag float64
						for p := 0; p < in; p++ {
							v := float64(x[r*in+p]) * float64(w[j*in+p])
							s, mag = s+v, mag+math.Abs(v)
						}
						if bias != nil {
							s, mag = s+float64(bias[j]), mag+math.Abs(float64(bias[j]))
						}
						if d := math.Abs(float64(g) - s); !(d <= 1e-6*float64(in+1)*mag+1e-30) {
							t.Fatalf("%s %dx%dx%d bias %v: y[%d][%d] = %v, want %v", l, m, out, in, bias != nil, r, j, g, s)
						}
					}
					// With GELU applied by the threads to their stripes
					// (LinearGELU): GELU of the product within the GELU
					// kernel's accuracy (whole vectors and tails round
					// differently), nothing written outside y.
					fused := slices.Clone(all)
					pw.productThen(new(productSite), x, m, in, out, bias, fused[gl:gl+m*out], func(row []float32) { kern.GELU(row, row) })
					for i := range all {
						c := i - gl
						if c < 0 || c >= m*out {
							if math.Float32bits(fused[i]) != math.Float32bits(guard) {
								t.Fatalf("%s %dx%dx%d: fused GELU wrote %v at %d outside y", l, m, out, in, fused[i], c)
							}
							continue
						}
						v := float64(all[i])
						if want := v * normalCDF(v); math.Abs(float64(fused[i])-want) > 1e-6*math.Max(1, math.Abs(v)) {
							t.Fatalf("%s %dx%dx%d bias %v: fused GELU gives %v at %d, want GELU(%v) = %v", l, m, out, in, bias != nil, fused[i], c, v, want)
						}
					}
				}
			}
		}
		restore()
	}
}

// lstmGemmWeights (the packed product at AVX2 and up, gemm at the generic
// level) at every level on the kernel tests' sizes list, both layouts of
// the weights and of A, β 0 and 1, with a leading dimension of C wider than
// n: against the float64 product, with guards around C and in its gaps.
func TestLSTMGemmWeightsSizes(t *testing.T) {
	const gl = 16
	const guard = float32(-1234.5678)
	sizes := []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65}
	rng := rand.New(rand.NewPCG(69, 70))
	count := 0
	for l := kern.Generic; l <= kern.Supported(); l++ {
		restore := kern.Set(l)
		for _, n := range sizes {
			for _, k := range []int{1, 3, 16, 17, 33} {
				for _, trans := range []bool{false, true} {
					rb, cb := k, n
					if trans {
						rb, cb = n, k
					}
					b := randn32(rng, rb*cb)
					var w lstmWeights[float32]
					w.set(trans, b, cb, k, n)
					if w.fast != (l >= kern.AVX2) {
						t.Fatalf("%s: fast %v", l, w.fast)
					}
					for _, m := range sizes {
						count++
						transA, beta := count%2 == 0, float32(count%3%2)
						lda := k
						if transA {
							lda = m
						}
						a := randn32(rng, m*k)
						ldc := n + 1 + count%3
						size := (m-1)*ldc + n
						all := make([]float32, size+2*gl)
						for i := range all {
							all[i] = guard
						}
						c := all[gl : gl+size]
						for i := range c {
							if i%ldc < n {
								c[i] = float32(rng.NormFloat64())
							}
						}
						c0 := slices.Clone(c)
						lstmGemmWeights(transA, m, n, k, 0.5, a, lda, &w, beta, c, ldc, m%2 == 1) // both column orders
						for i, g := range all {
							e := i - gl
							if e < 0 || e >= size || e%ldc >= n {
								if math.Float32bits(g) != math.Float32bits(guard) {
									t.Fatalf("%s %dx%dx%d: wrote %v at %d outside C", l, m, n, k, g, e)
								}
								continue
							}
							r, j := e/ldc, e%ldc
							var s, mag float64
							for p := 0; p < k; p++ {
								av, bv := a[r*k+p], b[p*n+j]
								if transA {
									av = a[p*m+r]
								}
								if trans {
									bv = b[j*k+p]
								}
								v := 0.5 * float64(av) * float64(bv)
								s, mag = s+v, mag+math.Abs(v)
							}
							s += float64(beta) * float64(c0[e])
							mag += math.Abs(float64(beta) * float64(c0[e]))
							if d := math.Abs(float64(g) - s); !(d <= 1e-6*float64(k+1)*mag+1e-30) {
								t.Fatalf("%s %dx%dx%d transA %v trans %v beta %v: C[%d][%d] = %v, want %v", l, m, n, k, transA, trans, beta, r, j, g, s)
							}
						}
					}
				}
			}
		}
		restore()
	}
}
