package kernel

import "math"

// The exact (erf) GELU of BERT and PyTorch's F.gelu, x·Φ(x), and its
// derivative Φ(x) + x·φ(x), in float32, without math.Erf or a call per
// element: Φ is computed directly (not as ½ + ½·erf(x/√2)), so its tail
// keeps its relative accuracy where 1 + erf(x/√2) would cancel:
//
//	|x| < 1.5:  Φ(x) = ½ + x·P(x²), P of degree 6;
//	|x| ≥ 1.5:  Φ(−|x|) = t·e^(−x²/2)·S(t), t = 1/(1 + |x|/2), S of degree 7
//	            (the form of Numerical Recipes' erfcc); Φ(|x|) = 1 − Φ(−|x|);
//	            0 beyond |x| = 12.5, where Φ(−|x|) < 4e-36;
//	φ(x) = e^(−x²/2)/√(2π), the exponential shared with Φ's tail.
//
// P and S are Chebyshev fits (mpmath's chebyfit, 40 digits) of
// (Φ(x) − ½)/x on x² ∈ [0, 2.25] and of Φ(−x)·e^(x²/2)/t on t ∈ [1/7.25,
// 1/1.75], rounded to float32: relative errors 1e-9 and 9e-9 before
// rounding. Every level does the same operations; the vector levels fuse
// multiply-adds the Go code rounds twice and round the n of e^h = 2ⁿ·e^r
// to even where Exp32 rounds halves up, so they may differ from gelu32
// and geluGrad32 in the last bits (AVX2 and AVX-512 give the same bits). TestGELUAccuracy states the
// errors against float64.

const (
	cdfSplit   = 1.5  // the polynomial below, the tail form above
	cdfZero    = 12.5 // Φ(−|x|) is 0 beyond
	invSqrt2Pi = 0.3989422804014327
)

// cdfSmall32 is Φ(x) for |x| < 1.5.
func cdfSmall32(x float32) float32 {
	s := x * x
	p := float32(4.12977727e-07)
	p = p*s - 8.72800865e-06
	p = p*s + 0.000114381291
	p = p*s - 0.001186518
	p = p*s + 0.00997325685
	p = p*s - 0.0664903373
	p = p*s + 0.398942292
	return 0.5 + x*p
}

// cdfTail32 is Φ(−a) for 1.5 ≤ a ≤ 12.5, given e = e^(−a²/2).
func cdfTail32(a, e float32) float32 {
	t := 1 / (1 + 0.5*a)
	s := float32(-0.150654748)
	s = s*t + 0.431444973
	s = s*t - 0.400499761
	s = s*t + 0.0385626405
	s = s*t + 0.0282250755
	s = s*t + 0.152427107
	s = s*t + 0.199265271
	s = s*t + 0.199477568
	return s * t * e
}

// gauss32 is e^(−x²/2) for |x| ≤ 12.5 and 0 beyond (and for NaN).
func gauss32(x float32) float32 {
	if !(abs32(x) <= cdfZero) {
		return 0
	}
	return Exp32(-0.5 * x * x)
}

// cdf32 is Φ(x), given e = gauss32(x) (used only for |x| ≥ 1.5); NaN for
// NaN, 0 and 1 at −∞ and +∞.
func cdf32(x, e float32) float32 {
	a := abs32(x)
	if !(a >= cdfSplit) { // NaN too
		return cdfSmall32(x)
	}
	c := float32(0)
	if a <= cdfZero {
		c = cdfTail32(a, e)
	}
	if x > 0 {
		return 1 - c
	}
	return c
}

// gelu32 is x·Φ(x): −0 below −20 (and at −∞), +∞ at +∞.
func gelu32(x float32) float32 {
	e := float32(0)
	if abs32(x) >= cdfSplit {
		e = gauss32(x)
	}
	return max(x, -20) * cdf32(x, e)
}

// geluGrad32 is Φ(x) + x·φ(x): 0 at −∞, 1 at +∞.
func geluGrad32(x float32) float32 {
	e := gauss32(x)
	xc := min(max(x, -cdfZero), cdfZero) // ±∞·0 would be NaN
	return cdf32(x, e) + xc*e*invSqrt2Pi
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
