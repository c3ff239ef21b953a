//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// guarded returns a buffer of n floats between guard regions, and a check
// that reports any guard float that changed.
func guarded(n int) (buf []float32, check func(t *testing.T, name string)) {
	g := newGuardedF32(n)
	return g.v(), g.check
}

// The micro-kernels against a pure-Go product of their packed panels: every
// tile height and width (partial tiles are masked or staged), depths
// around the unrolling, a leading dimension wider than the tile whose gap
// must stay untouched, and guard regions around C.
func TestSgemmMicroKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, arch := range []struct {
		name  string
		level Level
		a     *sgemmArch
	}{{"avx2", AVX2, sgemmAVX2}, {"avx512", AVX512, sgemmAVX512}} {
		t.Run(arch.name, func(t *testing.T) {
			if Supported() < arch.level {
				t.Skipf("the CPU has no %s", arch.name)
			}
			mr, nr := arch.a.mr, arch.a.nr
			var buf sgemmBuffers
			for _, k := range []int{0, 1, 2, 3, 7, 64, 257} {
				for rows := 1; rows <= mr; rows++ {
					for cols := 1; cols <= nr; cols++ {
						if cols%4 != 1 && cols != nr && cols != nr-1 && rows != mr && k != 3 {
							continue // every width at full height or k = 3, a sample of the rest
						}
						name := fmt.Sprintf("k=%d rows=%d cols=%d", k, rows, cols)
						a, b := randFloats(rng, max(k*mr, 1)), randFloats(rng, max(k*nr, 1))
						ldc := cols + 3
						c, check := guarded((rows-1)*ldc + cols)
						for i := range c {
							if i%ldc < cols {
								c[i] = float32(rng.NormFloat64())
							}
						}
						before := append([]float32(nil), c...)
						const alpha = 0.75
						set := (rows+cols)%2 == 0 // store instead of add on half the cases
						if set {
							name += " set"
							for i := range before {
								if i%ldc < cols {
									c[i], before[i] = float32(math.NaN()), 0 // must not be read
								}
							}
						}
						arch.a.add(&buf, k, a, b, c, ldc, alpha, rows, cols, set)
						check(t, name)
						for i := range c {
							r, j := i/ldc, i%ldc
							if j >= cols {
								if math.Float32bits(c[i]) != math.Float32bits(guard) {
									t.Fatalf("%s: wrote C[%d][%d] outside the tile", name, r, j)
								}
								continue
							}
							var s float64
							for p := 0; p < k; p++ {
								s += float64(a[p*mr+r]) * float64(b[p*nr+j])
							}
							want := float64(before[i]) + alpha*s
							if d := math.Abs(float64(c[i]) - want); d > 1e-5*float64(k+1)*math.Max(1, math.Abs(want)) {
								t.Fatalf("%s: C[%d][%d] = %v, want %v", name, r, j, c[i], want)
							}
						}
					}
				}
			}
			if arch.level == AVX2 { // the staging kernel writes a whole tile
				for _, k := range []int{0, 1, 5} {
					a, b := randFloats(rng, max(k*mr, 1)), randFloats(rng, max(k*nr, 1))
					c, check := guarded(mr * nr)
					sgemmKernel6x16(k, &a[0], &b[0], &c[0])
					check(t, fmt.Sprintf("sgemmKernel6x16 k=%d", k))
					for i, v := range c {
						var s float64
						for p := 0; p < k; p++ {
							s += float64(a[p*mr+i/nr]) * float64(b[p*nr+i%nr])
						}
						if d := math.Abs(float64(v) - s); d > 1e-5*float64(k+1)*math.Max(1, math.Abs(s)) {
							t.Fatalf("sgemmKernel6x16 k=%d: tile[%d] = %v, want %v", k, i, v, s)
						}
					}
				}
			}
		})
	}
}

// The vector activations against the scalar ones on every length up to a
// few vectors (the kernels take whole vectors, the wrappers the tail),
// with guard regions around the output.
func TestActivationKernelsGuarded(t *testing.T) {
	if Supported() < AVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, f := range []struct {
		name   string
		level  Level
		width  int
		kernel func(dst, src *float32, n int)
		wrap   func(dst, src []float32)
		ref    func(float32) float32
	}{
		{"tanhAVX", AVX2, 8, tanhAVX, Tanh, tanh32},
		{"sigmoidAVX", AVX2, 8, sigmoidAVX, Sigmoid, sigmoid32},
		{"tanhAVX512", AVX512, 16, tanhAVX512, Tanh, tanh32},
		{"sigmoidAVX512", AVX512, 16, sigmoidAVX512, Sigmoid, sigmoid32},
	} {
		if Supported() < f.level {
			continue
		}
		restore := Set(f.level)
		for n := 1; n <= 67; n++ {
			src := randFloats(rng, n)
			for i := range src {
				src[i] *= 4
			}
			for _, whole := range []bool{true, false} {
				dst, check := guarded(n)
				m := n
				if whole {
					m = n &^ (f.width - 1)
					if m == 0 {
						continue
					}
					f.kernel(&dst[0], &src[0], m)
				} else {
					f.wrap(dst, src)
				}
				name := fmt.Sprintf("%s n=%d whole=%v", f.name, n, whole)
				check(t, name)
				for i := range dst {
					if i >= m {
						if math.Float32bits(dst[i]) != math.Float32bits(guard) {
							t.Fatalf("%s: wrote dst[%d] past the %d values asked for", name, i, m)
						}
						continue
					}
					if d := math.Abs(float64(dst[i] - f.ref(src[i]))); d > 4e-7 {
						t.Fatalf("%s: dst[%d] = %v, scalar %v", name, i, dst[i], f.ref(src[i]))
					}
				}
			}
		}
		restore()
	}
}

// The AVX-512 activations give the AVX2 ones' bits (the same operations,
// twice as wide), so the LSTM's results do not depend on the path there.
func TestActivationPathsAgree(t *testing.T) {
	if Supported() < AVX512 {
		t.Skip("no AVX-512")
	}
	x := make([]float32, 4099)
	for i := range x {
		x[i] = float32(i-2049) * 7e-3
	}
	for _, f := range []func(dst, src []float32){Tanh, Sigmoid} {
		a, b := make([]float32, len(x)), make([]float32, len(x))
		r := Set(AVX2)
		f(a, x)
		r()
		r = Set(AVX512)
		f(b, x)
		r()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("x = %v: AVX2 %v, AVX-512 %v", x[i], a[i], b[i])
			}
		}
	}
}
