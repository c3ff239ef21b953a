package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// The packed float32 product against gonum's, for every transposition,
// shapes that leave partial micro-tiles and blocks, leading dimensions
// wider than the matrices, alpha and beta, and 1 or 3 threads; and the
// same bits whatever the thread count, since each element is summed by one
// thread in a fixed order.
func TestSgemmMatchesGonum(t *testing.T) {
	for l := AVX2; l <= Supported(); l++ {
		t.Run(l.String(), func(t *testing.T) {
			defer Set(l)()
			testSgemmMatchesGonum(t)
		})
	}
}

func testSgemmMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for _, s := range []struct{ m, n, k int }{
		{1, 1, 1}, {6, 16, 3}, {7, 17, 5}, {12, 32, 2}, {13, 33, 9}, {25, 31, 1}, {32, 1024, 256}, {5, 33, 300}, {100, 20, 513}, {130, 1030, 7}, {2, 3, 0},
	} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, threads := range []int{1, 3} {
					beta := float32(0.25)
					if threads == 3 && ta == tb { // beta 0 ignores what C held, NaN included
						beta = 0
					}
					name := fmt.Sprintf("%dx%dx%d ta=%v tb=%v threads=%d beta=%v", s.m, s.n, s.k, ta, tb, threads, beta)
					ra, ca := s.m, s.k
					if ta {
						ra, ca = s.k, s.m
					}
					rb, cb := s.k, s.n
					if tb {
						rb, cb = s.n, s.k
					}
					lda, ldb, ldc := ca+3, cb+1, s.n+2
					a, b := fill(max(ra*lda, 1)), fill(max(rb*ldb, 1))
					c := fill(s.m*ldc + 16) // the last 16: a guard region
					if beta == 0 {
						for i := 0; i < s.m; i++ {
							for j := 0; j < s.n; j++ {
								c[i*ldc+j] = float32(math.NaN())
							}
						}
					}
					want := append([]float32(nil), c...)
					serial := append([]float32(nil), c...)
					Sgemm(threads, ta, tb, s.m, s.n, s.k, 0.5, a, lda, b, ldb, beta, c, ldc)
					Sgemm(1, ta, tb, s.m, s.n, s.k, 0.5, a, lda, b, ldb, beta, serial, ldc)
					blas32.Implementation().Sgemm(blasTrans(ta), blasTrans(tb), s.m, s.n, s.k, 0.5, a, lda, b, ldb, beta, want, ldc)
					if !slices.Equal(c, serial) {
						t.Fatalf("%s: the result depends on the thread count", name)
					}
					for i := range c {
						tol := 1e-5 * float64(s.k+1)
						if d := math.Abs(float64(c[i] - want[i])); d > tol*math.Max(1, math.Abs(float64(want[i]))) {
							t.Fatalf("%s: C[%d] = %v, gonum %v", name, i, c[i], want[i])
						}
						if j := i % ldc; (j >= s.n || i >= s.m*ldc) && c[i] != want[i] {
							t.Fatalf("%s: wrote C[%d] outside the matrix", name, i)
						}
					}
				}
			}
		}
	}
}

// BenchmarkSgemm compares the packed products (AVX-512, AVX2) with gonum's on the
// reference model's shapes: the input projection of layer 1, a recurrent
// step, and a weight gradient.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range []struct {
		name    string
		ta, tb  bool
		m, n, k int
	}{
		{"projection", false, true, 3200, 1024, 512},
		{"step", false, true, 32, 1024, 256},
		{"stepBackward", false, false, 32, 256, 1024},
		{"weightGrad", true, false, 1024, 512, 3200},
		{"inputGrad", false, false, 3200, 512, 1024},
	} {
		a, bb, c := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
		for i := range a {
			a[i] = float32(i%7) * 0.1
		}
		for i := range bb {
			bb[i] = float32(i%5) * 0.1
		}
		lda, ldb := s.k, s.n
		if s.ta {
			lda = s.m
		}
		if s.tb {
			ldb = s.k
		}
		flops := 2 * float64(s.m*s.n*s.k)
		for _, impl := range []string{"avx512", "avx2", "gonum"} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", s.name, impl, threads), func(b *testing.B) {
					switch impl {
					case "avx512":
						if Supported() < AVX512 {
							b.Skip("no AVX-512")
						}
						defer Set(AVX512)()
					case "avx2":
						if Supported() < AVX2 {
							b.Skip("no AVX2")
						}
						defer Set(AVX2)()
					default: // gonum splits the work its own way
						defer Set(Generic)()
						defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
					}
					for i := 0; i < b.N; i++ {
						Sgemm(threads, s.ta, s.tb, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// The float32 activations, scalar and eight at a time, are within 4e-7 of
// the exact ones (float32 has 6e-8 between values just below 1).
func TestFloat32Activations(t *testing.T) {
	const n = 400003 // [−20, 20], with a tail after the last group of eight
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i-n/2) * 1e-4
	}
	x = append(x, float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30)
	tv, sv := make([]float32, len(x)), make([]float32, len(x))
	Tanh(tv, x)
	Sigmoid(sv, x)
	var worst [4]float64 // tanh32, sigmoid32, tanh32s, sigmoid32s
	for i, v := range x {
		wt, ws := math.Tanh(float64(v)), sigmoid64(float64(v))
		for j, got := range []float32{tanh32(v), sigmoid32(v), tv[i], sv[i]} {
			want := wt
			if j%2 == 1 {
				want = ws
			}
			worst[j] = math.Max(worst[j], math.Abs(float64(got)-want))
		}
	}
	for j, name := range []string{"tanh32", "sigmoid32", "tanh32s", "sigmoid32s"} {
		if !(worst[j] <= 4e-7) {
			t.Errorf("%s: worst absolute error %.3g, want ≤ 4e-7", name, worst[j])
		}
	}
	t.Logf("worst absolute errors (tanh32, sigmoid32, tanh32s, sigmoid32s): %.3g", worst)
}

// sigmoid64 is the logistic function, without overflow for large |x|.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// blasTrans is gonum's name for a transpose flag.
func blasTrans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// BenchmarkSgemmPackedSteps is a batch of one's recurrence: h [1, H]·W_hhᵀ
// with the packed weights of the reference LSTM (H 256: 4H×H floats, 1 MiB,
// about a core's L2), step after step, every step in the same column order
// or alternating with SgemmPackedReverse; and a batch of 32's step for
// comparison (12-row tiles). GB/s counts the weights read per step.
func BenchmarkSgemmPackedSteps(b *testing.B) {
	if !Packed() {
		b.Skip("no packed product")
	}
	const h = 256
	w := make([]float32, 4*h*h)
	for i := range w {
		w[i] = float32(i%5) * 0.01
	}
	var p PackedB
	p.Pack(true, w, h, h, 4*h)
	for _, s := range []struct {
		name      string
		m         int
		alternate bool
	}{{"batch=1/same", 1, false}, {"batch=1/alternate", 1, true}, {"batch=4/alternate", 4, true}, {"batch=32/same", 32, false}} {
		b.Run(s.name, func(b *testing.B) {
			x, c := make([]float32, s.m*h), make([]float32, s.m*4*h)
			for i := range x {
				x[i] = float32(i%3) * 0.1
			}
			for i := 0; i < b.N; i++ {
				if s.alternate && i%2 == 1 {
					SgemmPackedReverse(false, s.m, 4*h, h, 1, x, h, &p, 1, c, 4*h)
				} else {
					SgemmPacked(false, s.m, 4*h, h, 1, x, h, &p, 1, c, 4*h)
				}
			}
			b.ReportMetric(float64(len(w)*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// SgemmPart over all of SgemmParts' parts gives Sgemm's bits on as many
// threads, at every level, on the sizes list's sides (with transposes,
// beta 0 and 1) and writes nothing outside C.
func TestSgemmPartsMatchSgemm(t *testing.T) {
	const guard = 5
	const sentinel = float32(-12345)
	rng := rand.New(rand.NewPCG(7, 8))
	levels(t, func(t *testing.T, l Level) {
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range []int{1, 7, 33} {
					for _, threads := range []int{2, 3} {
						transA, transB := (m+n)%2 == 1, (n+k)%2 == 0
						beta := float32((m + k) % 2)
						lda, ldb, ldc := k+1, n+2, n+guard
						if transA {
							lda = m + 1
						}
						if transB {
							ldb = k + 2
						}
						a, b := make([]float32, max(m, k)*lda), make([]float32, max(k, n)*ldb)
						for i := range a {
							a[i] = float32(rng.NormFloat64())
						}
						for i := range b {
							b[i] = float32(rng.NormFloat64())
						}
						want, got := make([]float32, m*ldc+guard), make([]float32, m*ldc+guard)
						for i := range want {
							want[i] = sentinel
							if i < m*ldc && i%ldc < n {
								want[i] = float32(i % 7)
							}
						}
						copy(got, want)
						Sgemm(threads, transA, transB, m, n, k, 1.5, a, lda, b, ldb, beta, want, ldc)
						parts := SgemmParts(threads, m, n)
						for p := range parts {
							SgemmPart(p, parts, transA, transB, m, n, k, 1.5, a, lda, b, ldb, beta, got, ldc)
						}
						for i := range want {
							if (i >= m*ldc || i%ldc >= n) && got[i] != sentinel {
								t.Fatalf("%s %dx%dx%d threads %d: wrote %v at %d outside C", l, m, n, k, threads, got[i], i)
							}
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s %dx%dx%d threads %d: C[%d] = %v, Sgemm's %v", l, m, n, k, threads, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}
