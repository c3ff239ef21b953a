package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Exp32 and Erf32 against float64 math over a dense grid and the edges.
func TestExp32Erf32(t *testing.T) {
	worstExp, worstErf := 0.0, 0.0
	for i := -400000; i <= 400000; i++ {
		x := float32(i) * 2.2e-4 // [−88, 88]
		want := math.Exp(float64(x))
		got := float64(Exp32(x))
		if want >= 1.2e-38 { // normal float32 results
			worstExp = math.Max(worstExp, math.Abs(got-want)/want)
		} else if got != 0 && math.Abs(got-want) > 1.2e-38 {
			t.Fatalf("Exp32(%v) = %v, want %v", x, got, want)
		}
		y := float32(i) * 1.5e-5 // [−6, 6]
		worstErf = math.Max(worstErf, math.Abs(float64(Erf32(y))-math.Erf(float64(y))))
	}
	if worstExp > 2.5e-7 {
		t.Errorf("Exp32: worst relative error %.3g, want ≤ 2.5e-7 (2 ulps)", worstExp)
	}
	if worstErf > 2e-7 {
		t.Errorf("Erf32: worst absolute error %.3g, want ≤ 2e-7", worstErf)
	}
	t.Logf("Exp32 worst relative error %.3g, Erf32 worst absolute error %.3g", worstExp, worstErf)
	for _, c := range []struct{ x, exp, erf float32 }{
		{float32(math.Inf(1)), float32(math.Inf(1)), 1},
		{float32(math.Inf(-1)), 0, -1},
		{100, float32(math.Inf(1)), 1},
		{-100, 0, -1},
		{0, 1, 0},
	} {
		if got := Exp32(c.x); got != c.exp {
			t.Errorf("Exp32(%v) = %v, want %v", c.x, got, c.exp)
		}
		if got := Erf32(c.x); got != c.erf {
			t.Errorf("Erf32(%v) = %v, want %v", c.x, got, c.erf)
		}
	}
	nan := float32(math.NaN())
	if e, f := Exp32(nan), Erf32(nan); e == e || f == f {
		t.Errorf("Exp32(NaN) = %v, Erf32(NaN) = %v, want NaN", e, f)
	}
}

// Exp at every level against math.Exp, on every length around the vector
// width, with non-finite and out-of-range values, in place and not.
func TestExpVector(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		for _, n := range []int{0, 1, 15, 16, 17, 33, 1000} {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(i%97)*1.9 - 100 // [−100, 82]
			}
			if n > 4 {
				src[0], src[1], src[2], src[3] = float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN()), 1e6
			}
			dst := make([]float32, n)
			Exp(dst, src)
			for i, x := range src {
				want := math.Exp(float64(x))
				got := float64(dst[i])
				switch {
				case x != x:
					if got == got {
						t.Fatalf("n=%d: Exp(NaN) = %v", n, got)
					}
				case math.IsInf(want, 1):
					if !math.IsInf(got, 1) {
						t.Fatalf("n=%d: Exp(%v) = %v, want +Inf", n, x, got)
					}
				case want < 1.2e-38:
					if got > 1.2e-38 {
						t.Fatalf("n=%d: Exp(%v) = %v, want %v", n, x, got, want)
					}
				case math.Abs(got-want) > 2.5e-7*want:
					t.Fatalf("n=%d: Exp(%v) = %v, want %v", n, x, got, want)
				}
			}
			Exp(src, src)
			for i := range src {
				if src[i] != dst[i] && src[i] == src[i] {
					t.Fatalf("n=%d: in place %v, out of place %v", n, src[i], dst[i])
				}
			}
		}
	})
}

// ExpSum and Max at every level against their Go loops on every length
// in sizes and a few beyond, with guards around dst and in place: ExpSum's
// values within 2 ulps of e^(x−shift), its sum within 1e-6 of the float64
// sum of what it wrote; Max exactly, skipping NaN, with −∞ for an empty or
// all-NaN x.
func TestExpSumMax(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(51, 52))
		inf, nan := float32(math.Inf(1)), float32(math.NaN())
		for _, n := range append(sizes[:len(sizes):len(sizes)], 100, 128, 1000) {
			src := randFloats(rng, n)
			for i := range src {
				src[i] *= 5
			}
			if n > 20 { // masked keys (−∞) and a very small value, in a vector and in the tail
				src[3], src[5], src[n-1], src[n-2] = -inf, -200, -inf, -1e30
			}
			name := fmt.Sprintf("n=%d", n)
			shift := Max(src)
			want := maxGo(-inf, src)
			if shift != want {
				t.Fatalf("%s: Max = %v, want %v", name, shift, want)
			}
			dst := newGuardedF32(n)
			sum := ExpSum(dst.v(), src, shift)
			dst.check(t, name)
			var total float64
			for i, v := range dst.v() {
				total += float64(v)
				ref := math.Exp(float64(src[i] - shift)) // the difference in float32, as ExpSum takes it
				if d := math.Abs(float64(v) - ref); d > 2.5e-7*ref && d > 1.2e-38 {
					t.Fatalf("%s: [%d] = %v, want %v", name, i, v, ref)
				}
			}
			if math.Abs(float64(sum)-total) > 1e-6*total {
				t.Fatalf("%s: sum %v, want %v", name, sum, total)
			}
			inPlace := append([]float32(nil), src...)
			if s := ExpSum(inPlace, inPlace, shift); s != sum {
				t.Fatalf("%s: in place sum %v, out of place %v", name, s, sum)
			}
			for i := range inPlace {
				if inPlace[i] != dst.v()[i] {
					t.Fatalf("%s: in place [%d] = %v, out of place %v", name, i, inPlace[i], dst.v()[i])
				}
			}
			if n > 20 { // NaN is skipped by Max and kept by ExpSum
				src[7], src[n-3] = nan, nan
				if got := Max(src); got != want {
					t.Fatalf("%s: Max with NaN = %v, want %v", name, got, want)
				}
				d := make([]float32, n)
				if s := ExpSum(d, src, shift); s == s || d[7] == d[7] || d[n-3] == d[n-3] {
					t.Fatalf("%s: ExpSum with NaN: sum %v, [7] %v, [%d] %v", name, s, d[7], n-3, d[n-3])
				}
			}
		}
		for _, n := range []int{0, 5, 16, 40} {
			x := make([]float32, n)
			for i := range x {
				x[i] = nan
			}
			if got := Max(x); got != -inf {
				t.Fatalf("Max of %d NaN = %v, want −∞", n, got)
			}
		}
	})
}

// Exp at every level against the scalar Exp32 on every length in sizes and
// a few vectors beyond (whole vectors and tails), out of place with guard
// regions around dst and in place: bit for bit at the generic level,
// within 2 ulps of Exp32 (both within 2 ulps of e^x) with vectors, where a
// subnormal result may stand for Exp32's 0.
func TestExpReference(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(35, 36))
		for _, n := range append(sizes[:len(sizes):len(sizes)], 100, 1000) {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(rng.Float64()*180 - 92) // [−92, 88]: underflow, overflow
			}
			if n > 4 {
				src[0], src[1], src[2], src[n-1] = float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN()), -87.5
			}
			src0 := append([]float32(nil), src...)
			dst := newGuardedF32(n)
			Exp(dst.v(), src)
			name := fmt.Sprintf("n=%d", n)
			dst.check(t, name)
			inPlace := append([]float32(nil), src...)
			Exp(inPlace, inPlace)
			for i, x := range src {
				if math.Float32bits(x) != math.Float32bits(src0[i]) {
					t.Fatalf("%s: src[%d] changed", name, i)
				}
				got, want := dst.v()[i], Exp32(x)
				if math.Float32bits(inPlace[i]) != math.Float32bits(got) {
					t.Fatalf("%s: in place [%d] = %v, out of place %v", name, i, inPlace[i], got)
				}
				switch {
				case math.Float32bits(got) == math.Float32bits(want):
				case l == Generic:
					t.Fatalf("%s: [%d] = %v for %v, Exp32 %v", name, i, got, x, want)
				case want == 0 && got >= 0 && got < 1.2e-38: // subnormal for Exp32's 0
				case math.Abs(float64(got-want)) > 2.4e-7*float64(want):
					t.Fatalf("%s: [%d] = %v for %v, Exp32 %v", name, i, got, x, want)
				}
			}
		}
	})
}
