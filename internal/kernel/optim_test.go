package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

const guardLen = 32

// guard marks the floats after each buffer and past the prefix a vector
// loop reports; a finite value, so a stray read-modify-write changes it.
var guard = float32(-1234.5678)

// guarded returns n random floats (positive when pos) followed by guardLen
// guard floats; the returned slice has length n.
func guarded(rng *rand.Rand, n int, pos bool) []float32 {
	full := make([]float32, n+guardLen)
	for i := range full {
		full[i] = guard
	}
	for i := range full[:n] {
		x := float32(rng.NormFloat64())
		if pos {
			x = x * x
		}
		full[i] = x
	}
	return full[:n]
}

// checkGuard fails if anything after the first done floats of got differs
// from before (the caller's scalar loop owns them), including the guard
// region past the end.
func checkGuard(t *testing.T, name string, got, before []float32, done int) {
	t.Helper()
	full, orig := got[:cap(got)], before[:cap(before)]
	for i := done; i < len(full); i++ {
		if math.Float32bits(full[i]) != math.Float32bits(orig[i]) {
			t.Fatalf("%s: element %d changed beyond the %d the loop reported (length %d)", name, i, done, len(got))
		}
	}
}

func clone(v []float32) []float32 { return append(make([]float32, 0, cap(v)), v[:cap(v)]...)[:len(v)] }

// fma32 is a·b + c in float64 rounded to float32: the reference, within an
// ulp of the single rounding of a vector FMA.
func fma32(a, b, c float32) float32 { return float32(float64(a)*float64(b) + float64(c)) }

func near(a, b float32) bool {
	return math.Abs(float64(a-b)) <= 2e-7*math.Max(1e-30, math.Abs(float64(b)))
}

// levels runs f at every level the CPU has.
func levels(t *testing.T, f func(t *testing.T, l Level)) {
	for l := Generic; l <= Supported(); l++ {
		t.Run(l.String(), func(t *testing.T) {
			defer Set(l)()
			f(t, l)
		})
	}
}

// The optimizer loops against scalar references on lengths around the
// vector widths, with guard regions after every buffer.
func TestOptimizerLoops(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(1, 2))
		for n := 0; n <= 70; n++ {
			name := fmt.Sprintf("n=%d", n)
			w, g, m, v := guarded(rng, n, false), guarded(rng, n, false), guarded(rng, n, false), guarded(rng, n, true)
			w0, m0, v0 := clone(w), clone(m), clone(v)
			c := AdamConsts{Beta1: 0.9, OneMinusBeta1: 0.1, Beta2: 0.999, OneMinusBeta2: 0.001, NegStep: -0.01, Bc2Sqrt: 0.3, Eps: 1e-8}
			done := Adam(w, g, m, v, &c)
			if l == Generic && done != 0 || done > n || l > Generic && n-done >= 16 {
				t.Fatalf("adam %s: did %d of %d at %s", name, done, n, l)
			}
			for _, b := range []struct {
				name      string
				got, orig []float32
			}{{"w", w, w0}, {"m", m, m0}, {"v", v, v0}} {
				checkGuard(t, "adam "+name+" "+b.name, b.got, b.orig, done)
			}
			for i := 0; i < done; i++ {
				mi := fma32(c.OneMinusBeta1, g[i], m0[i]*c.Beta1)
				vi := fma32(c.OneMinusBeta2*g[i], g[i], v0[i]*c.Beta2)
				d := float32(math.Sqrt(float64(vi)))/c.Bc2Sqrt + c.Eps
				wi := w0[i] + c.NegStep*mi/d
				if !near(m[i], mi) || !near(v[i], vi) || !near(w[i], wi) {
					t.Fatalf("adam %s [%d]: (w, m, v) = (%v, %v, %v), want (%v, %v, %v)", name, i, w[i], m[i], v[i], wi, mi, vi)
				}
			}

			w, g, buf := guarded(rng, n, false), guarded(rng, n, false), guarded(rng, n, false)
			w0, b0 := clone(w), clone(buf)
			const negLR, mom, keep = -0.01, 0.9, 0.75
			done = SGDMomentum(w, g, buf, negLR, mom, keep)
			checkGuard(t, "sgd momentum "+name+" w", w, w0, done)
			checkGuard(t, "sgd momentum "+name+" buf", buf, b0, done)
			for i := 0; i < done; i++ {
				bi := fma32(keep, g[i], mom*b0[i])
				wi := fma32(negLR, bi, w0[i])
				if !near(buf[i], bi) || !near(w[i], wi) {
					t.Fatalf("sgd momentum %s [%d]: (w, buf) = (%v, %v), want (%v, %v)", name, i, w[i], buf[i], wi, bi)
				}
			}

			w0 = clone(w)
			done = SGD(w, g, negLR)
			checkGuard(t, "sgd "+name, w, w0, done)
			for i := 0; i < done; i++ {
				if wi := fma32(negLR, g[i], w0[i]); !near(w[i], wi) {
					t.Fatalf("sgd %s [%d] = %v, want %v", name, i, w[i], wi)
				}
			}
		}
	})
}

func TestChoose(t *testing.T) {
	for _, c := range []struct {
		env       string
		supported Level
		want      Level
	}{
		{"", AVX512, AVX512},
		{"avx2", AVX512, AVX2},
		{" AVX512 ", AVX512, AVX512},
		{"generic", AVX2, Generic},
		{"avx512", AVX2, AVX2},
		{"sse", AVX2, AVX2},
		{"avx512", Generic, Generic},
	} {
		if got := Choose(c.env, c.supported); got != c.want {
			t.Errorf("Choose(%q, %s) = %s, want %s", c.env, c.supported, got, c.want)
		}
	}
}

// SumSquares gives the same bits at every level, with lanes of its own,
// and leaves g alone.
func TestSumSquares(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 15, 16, 17, 33, 1000} {
		g := guarded(rng, n, false)
		var want [SquareLanes]float64
		for i, v := range g {
			want[i%SquareLanes] += float64(v) * float64(v)
		}
		levels(t, func(t *testing.T, l Level) {
			before := clone(g)
			var part [SquareLanes]float64
			SumSquares(&part, g)
			checkGuard(t, fmt.Sprintf("n=%d", n), g, before, 0)
			if part != want {
				t.Fatalf("n=%d: partial sums %v, want %v", n, part, want)
			}
		})
	}
	p := [SquareLanes]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	if got := ReduceLanes(&p); got != 136 || p[0] != 1 {
		t.Fatalf("ReduceLanes = %v (part %v)", got, p)
	}
}
