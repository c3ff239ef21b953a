package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randGuarded is newGuardedF32(n) holding random floats, positive when pos.
func randGuarded(rng *rand.Rand, n int, pos bool) guardedF32 {
	g := newGuardedF32(n)
	for i := range g.v() {
		x := float32(rng.NormFloat64())
		if pos {
			x = x * x
		}
		g.v()[i] = x
	}
	return g
}

func (g guardedF32) clone() guardedF32 { return guardedF32{append([]float32(nil), g.all...), g.n} }

// checkUntouched fails if anything of got but its first done floats
// differs from before: the guard regions, and the tail the caller's scalar
// loop owns.
func checkUntouched(t *testing.T, name string, got, before guardedF32, done int) {
	t.Helper()
	for i := range got.all {
		if i >= guardLen && i < guardLen+done {
			continue
		}
		if math.Float32bits(got.all[i]) != math.Float32bits(before.all[i]) {
			t.Fatalf("%s: element %d changed outside the %d the loop reported (length %d)", name, i-guardLen, done, got.n)
		}
	}
}

// fma32 is a·b + c in float64 rounded to float32: the reference, within an
// ulp of the single rounding of a vector FMA.
func fma32(a, b, c float32) float32 { return float32(float64(a)*float64(b) + float64(c)) }

func near(a, b float32) bool {
	return math.Abs(float64(a-b)) <= 2e-7*math.Max(1e-30, math.Abs(float64(b)))
}

// The optimizer loops against scalar references on lengths around the
// vector widths, with guard regions around every buffer.
func TestOptimizerLoops(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(1, 2))
		for n := 0; n <= 70; n++ {
			name := fmt.Sprintf("n=%d", n)
			wg, gg, mg, vg := randGuarded(rng, n, false), randGuarded(rng, n, false), randGuarded(rng, n, false), randGuarded(rng, n, true)
			w0g, g0g, m0g, v0g := wg.clone(), gg.clone(), mg.clone(), vg.clone()
			w, g, m, v := wg.v(), gg.v(), mg.v(), vg.v()
			w0, m0, v0 := w0g.v(), m0g.v(), v0g.v()
			c := AdamConsts{Beta1: 0.9, OneMinusBeta1: 0.1, Beta2: 0.999, OneMinusBeta2: 0.001, NegStep: -0.01, Bc2Sqrt: 0.3, Eps: 1e-8}
			done := Adam(w, g, m, v, &c)
			if l == Generic && done != 0 || done > n || l > Generic && n-done >= 16 {
				t.Fatalf("adam %s: did %d of %d at %s", name, done, n, l)
			}
			for _, b := range []struct {
				name      string
				got, orig guardedF32
				done      int
			}{{"w", wg, w0g, done}, {"g", gg, g0g, 0}, {"m", mg, m0g, done}, {"v", vg, v0g, done}} {
				checkUntouched(t, "adam "+name+" "+b.name, b.got, b.orig, b.done)
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

			wg, gg, bg := randGuarded(rng, n, false), randGuarded(rng, n, false), randGuarded(rng, n, false)
			w0g, g0g, b0g := wg.clone(), gg.clone(), bg.clone()
			w, g, buf := wg.v(), gg.v(), bg.v()
			w0, b0 := w0g.v(), b0g.v()
			const negLR, mom, keep = -0.01, 0.9, 0.75
			done = SGDMomentum(w, g, buf, negLR, mom, keep)
			checkUntouched(t, "sgd momentum "+name+" w", wg, w0g, done)
			checkUntouched(t, "sgd momentum "+name+" g", gg, g0g, 0)
			checkUntouched(t, "sgd momentum "+name+" buf", bg, b0g, done)
			for i := 0; i < done; i++ {
				bi := fma32(keep, g[i], mom*b0[i])
				wi := fma32(negLR, bi, w0[i])
				if !near(buf[i], bi) || !near(w[i], wi) {
					t.Fatalf("sgd momentum %s [%d]: (w, buf) = (%v, %v), want (%v, %v)", name, i, w[i], buf[i], wi, bi)
				}
			}

			w0g = wg.clone()
			w0 = w0g.v()
			done = SGD(w, g, negLR)
			checkUntouched(t, "sgd "+name, wg, w0g, done)
			checkUntouched(t, "sgd "+name+" g", gg, g0g, 0)
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
	for _, n := range append(sizes[:len(sizes):len(sizes)], 1000) {
		gg := randGuarded(rng, n, false)
		g := gg.v()
		var want [SquareLanes]float64
		for i, v := range g {
			want[i%SquareLanes] += float64(v) * float64(v)
		}
		levels(t, func(t *testing.T, l Level) {
			before := gg.clone()
			var part [SquareLanes]float64
			SumSquares(&part, g)
			checkUntouched(t, fmt.Sprintf("n=%d", n), gg, before, 0)
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
