package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// geluRef and geluGradRef are x·Φ(x) and Φ(x) + x·φ(x) in float64, Φ by
// math.Erfc so that its tail keeps its relative accuracy.
func geluRef(x float64) float64 { return x * cdfRef(x) }

func geluGradRef(x float64) float64 {
	return cdfRef(x) + x*math.Exp(-0.5*x*x)*invSqrt2Pi
}

func cdfRef(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// geluErf32 and geluGradErf32 are the float32 GELU graph used before the
// GELU kernels, through the scalar Erf32 and Exp32: the baseline the
// kernels' accuracy must match.
func geluErf32(x float32) float32 { return x * (0.5 + 0.5*Erf32(x*math.Sqrt2/2)) }

func geluGradErf32(x float32) float32 {
	cdf := float64(0.5 + 0.5*Erf32(x*math.Sqrt2/2))
	pdf := float64(Exp32(-0.5*x*x) * invSqrt2Pi)
	return float32(cdf + float64(x)*pdf)
}

// geluErrors are the worst errors of a GELU against float64 over a sweep:
// absolute in units of max(1, |x|) (for GELU the error of Φ itself) and
// relative where the reference is at least 1e-30 and x is not in
// (−2, 0), where the gradient crosses 0 (at x ≈ −0.75).
type geluErrors struct{ abs, rel float64 }

func (e *geluErrors) add(got, want, x float64) {
	e.abs = math.Max(e.abs, math.Abs(got-want)/math.Max(1, math.Abs(x)))
	if math.Abs(want) >= 1e-30 && !(x > -2 && x < 0) {
		e.rel = math.Max(e.rel, math.Abs(got-want)/math.Abs(want))
	}
}

// geluSweep is a dense grid over [−16, 16], where Φ goes from 0 to 1, and
// a log grid of magnitudes from 1e-38 to 1e30 with both signs.
func geluSweep() []float32 {
	var xs []float32
	for i := -400000; i <= 400000; i++ {
		xs = append(xs, float32(i)*4e-5)
	}
	for e := -38.0; e <= 30; e += 2e-3 {
		v := float32(math.Pow(10, e))
		xs = append(xs, v, -v)
	}
	return xs
}

// GELU and GELUGrad at every level against float64 over a dense sweep:
// their worst errors are stated below, and the absolute ones are at most
// those of the Erf32 formula they replace, measured here on the same
// sweep. Erf32's tail is where they win most: 1 + erf(x/√2) cancels, so
// below x ≈ −5.7 it gives 0 (relative error 1), where Φ's tail form keeps
// a few float32 ulps.
func TestGELUAccuracy(t *testing.T) {
	xs := geluSweep()
	var oldFwd, oldGrad geluErrors
	for _, x := range xs {
		oldFwd.add(float64(geluErf32(x)), geluRef(float64(x)), float64(x))
		oldGrad.add(float64(geluGradErf32(x)), geluGradRef(float64(x)), float64(x))
	}
	t.Logf("Erf32 formula: GELU worst abs %.3g rel %.3g; gradient worst abs %.3g rel %.3g", oldFwd.abs, oldFwd.rel, oldGrad.abs, oldGrad.rel)
	// The bounds the kernels keep (measured: see the log).
	const fwdAbs, fwdRel, gradAbs, gradRel = 1.3e-7, 5e-6, 1.7e-7, 5e-6
	levels(t, func(t *testing.T, l Level) {
		y, d := make([]float32, len(xs)), make([]float32, len(xs))
		ones := make([]float32, len(xs))
		for i := range ones {
			ones[i] = 1
		}
		GELU(y, xs)
		GELUGrad(d, xs, ones)
		var fwd, grad geluErrors
		for i, x := range xs {
			fwd.add(float64(y[i]), geluRef(float64(x)), float64(x))
			grad.add(float64(d[i]), geluGradRef(float64(x)), float64(x))
		}
		t.Logf("GELU worst abs %.3g rel %.3g; gradient worst abs %.3g rel %.3g", fwd.abs, fwd.rel, grad.abs, grad.rel)
		if fwd.abs > fwdAbs || fwd.rel > fwdRel || fwd.abs > oldFwd.abs {
			t.Errorf("GELU: worst abs %.3g (want ≤ %.3g and ≤ Erf32's %.3g), rel %.3g (want ≤ %.3g)", fwd.abs, fwdAbs, oldFwd.abs, fwd.rel, fwdRel)
		}
		if grad.abs > gradAbs || grad.rel > gradRel || grad.abs > oldGrad.abs {
			t.Errorf("GELUGrad: worst abs %.3g (want ≤ %.3g and ≤ Erf32's %.3g), rel %.3g (want ≤ %.3g)", grad.abs, gradAbs, oldGrad.abs, grad.rel, gradRel)
		}
	})
}

// GELU and GELUGrad at the edges: signed zeros, subnormals, the split
// and the cut-off, ±∞ (the limits), NaN (NaN), at every level and in
// every lane (each value is repeated to fill whole vectors and tails).
func TestGELUEdges(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	cases := []struct{ x, y, d float32 }{
		{0, 0, 0.5},
		{negZero, negZero, 0.5},
		{inf, inf, 1},
		{-inf, 0, 0},
		{1e30, 1e30, 1},
		{-1e30, 0, 0},
		{20, 20, 1},
		{-20, 0, 0},
		{-100, 0, 0},
	}
	levels(t, func(t *testing.T, l Level) {
		for _, c := range cases {
			for _, n := range []int{1, 7, 8, 16, 17, 33} {
				src, g := make([]float32, n), make([]float32, n)
				for i := range src {
					src[i], g[i] = c.x, 1
				}
				y, d := make([]float32, n), make([]float32, n)
				GELU(y, src)
				GELUGrad(d, src, g)
				for i := range y {
					if y[i] != c.y || math.Signbit(float64(y[i])) != math.Signbit(float64(c.y)) && c.y != 0 {
						t.Fatalf("n=%d: GELU(%v)[%d] = %v, want %v", n, c.x, i, y[i], c.y)
					}
					if y[i] == 0 && c.x < 0 && !math.Signbit(float64(y[i])) && c.x != -inf && c.x > -20 {
						t.Fatalf("n=%d: GELU(%v)[%d] = +0, want −0", n, c.x, i)
					}
					if d[i] != c.d {
						t.Fatalf("n=%d: GELUGrad(%v)[%d] = %v, want %v", n, c.x, i, d[i], c.d)
					}
				}
			}
		}
		for _, x := range []float32{nan, 1e-45, -1e-45, 1e-40, -1e-40, 1e-30, 1.5, -1.5, math.Nextafter32(1.5, 0), math.Nextafter32(-1.5, 0), 12.5, -12.5, math.Nextafter32(12.5, 13), math.Nextafter32(-12.5, -13)} {
			src, ones := make([]float32, 33), make([]float32, 33)
			for i := range src {
				src[i], ones[i] = x, 1
			}
			y, d := make([]float32, 33), make([]float32, 33)
			GELU(y, src)
			GELUGrad(d, src, ones)
			for i := range y {
				if x != x {
					if y[i] == y[i] || d[i] == d[i] {
						t.Fatalf("GELU(NaN)[%d] = %v, GELUGrad = %v, want NaN", i, y[i], d[i])
					}
					continue
				}
				want, wantD := geluRef(float64(x)), geluGradRef(float64(x))
				// The sweep's bounds (relative above 1e-30 only).
				if e := math.Abs(float64(y[i]) - want); e > 1.3e-7*math.Max(1, math.Abs(float64(x))) || e > 5e-6*math.Abs(want) && math.Abs(want) >= 1e-30 {
					t.Fatalf("GELU(%v)[%d] = %v, want %v", x, i, y[i], want)
				}
				if e := math.Abs(float64(d[i]) - wantD); e > 1.7e-7 {
					t.Fatalf("GELUGrad(%v)[%d] = %v, want %v", x, i, d[i], wantD)
				}
			}
		}
	})
}

// GELU and GELUGrad at every level against the scalar gelu32 and
// geluGrad32 (bit for bit at the generic level, within 2e-7 of
// max(1, |x|) with vectors), on every length in sizes and a few beyond,
// with guards around dst, in place (dst = src; dst = x and dst = g), and
// leaving the inputs as they were.
func TestGELUReference(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, n := range append(sizes[:len(sizes):len(sizes)], 100, 1000) {
			x, g := randFloats(rng, n), randFloats(rng, n)
			for i := range x {
				x[i] *= 4
			}
			x0, g0 := append([]float32(nil), x...), append([]float32(nil), g...)
			name := fmt.Sprintf("n=%d", n)
			y, d := newGuardedF32(n), newGuardedF32(n)
			GELU(y.v(), x)
			GELUGrad(d.v(), x, g)
			y.check(t, name+" GELU")
			d.check(t, name+" GELUGrad")
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(x0[i]) || math.Float32bits(g[i]) != math.Float32bits(g0[i]) {
					t.Fatalf("%s: an input changed at %d", name, i)
				}
			}
			check := func(what string, got, want []float32, scale func(i int) float64) {
				t.Helper()
				for i := range got {
					if l == Generic && math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s %s: [%d] = %v, scalar %v", name, what, i, got[i], want[i])
					}
					if dd := math.Abs(float64(got[i] - want[i])); !(dd <= 2e-7*scale(i)) {
						t.Fatalf("%s %s: [%d] = %v for %v, scalar %v", name, what, i, got[i], x[i], want[i])
					}
				}
			}
			wantY, wantD := make([]float32, n), make([]float32, n)
			for i, v := range x {
				wantY[i], wantD[i] = gelu32(v), g[i]*geluGrad32(v)
			}
			check("GELU", y.v(), wantY, func(i int) float64 { return math.Max(1, math.Abs(float64(x[i]))) })
			check("GELUGrad", d.v(), wantD, func(i int) float64 { return math.Max(1, math.Abs(float64(g[i]))) })
			inPlace := append([]float32(nil), x...)
			GELU(inPlace, inPlace)
			check("GELU in place", inPlace, y.v(), func(int) float64 { return 0 })
			inX, inG := append([]float32(nil), x...), append([]float32(nil), g...)
			GELUGrad(inX, inX, g)
			GELUGrad(inG, x, inG)
			check("GELUGrad into x", inX, d.v(), func(int) float64 { return 0 })
			check("GELUGrad into g", inG, d.v(), func(int) float64 { return 0 })
		}
	})
}

// BenchmarkGELU times the kernels at every level against the Erf32
// formula they replace (the graph's float32 loop before them), on 4096
// values of spread 3; ns/element is the figure to compare.
func BenchmarkGELU(b *testing.B) {
	x := randFloats(rand.New(rand.NewPCG(1, 2)), 1<<12)
	for i := range x {
		x[i] *= 3
	}
	y, g := make([]float32, len(x)), make([]float32, len(x))
	perElement := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(x)), "ns/element")
	}
	b.Run("Erf32", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				y[i] = geluErf32(v)
			}
		}
		perElement(b)
	})
	b.Run("Erf32Grad", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				y[i] = g[i] * geluGradErf32(v)
			}
		}
		perElement(b)
	})
	for l := Generic; l <= Supported(); l++ {
		b.Run("GELU/"+l.String(), func(b *testing.B) {
			defer Set(l)()
			for b.Loop() {
				GELU(y, x)
			}
			perElement(b)
		})
		b.Run("GELUGrad/"+l.String(), func(b *testing.B) {
			defer Set(l)()
			for b.Loop() {
				GELUGrad(y, x, g)
			}
			perElement(b)
		})
	}
}
