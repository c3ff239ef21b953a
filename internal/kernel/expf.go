package kernel

import "math"

// Scalar float32 exp and erf. Exp32 is the exponential of the vector
// kernels' Go paths and tails (Exp, ExpSum, GELU, GELUGrad); Erf32 was the
// float32 GELU's erf before the GELU kernels, and stays as the baseline
// their accuracy test measures them against.

// Exp32 is e^x in float32 by Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2,
// e^r by a degree-7 polynomial, scaled by 2^n. Within 2 float32 ulps of
// e^x; 0 below −87.3 (where e^x is subnormal), +Inf above 88.7, NaN for
// NaN.
func Exp32(x float32) float32 {
	const (
		hi    = 88.72283905206835
		lo    = -87.33654475
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	switch {
	case x != x:
		return x
	case x > hi:
		return float32(math.Inf(1))
	case x < lo:
		return 0
	}
	// n = ⌊x·log2e + ½⌋ by truncating a positive value: math.Floor is a
	// call on amd64 without SSE4.1 in the build (GOAMD64=v1) and cost as
	// much as the rest; the rounding of the sum near 256 moves r past
	// ±ln2/2 by at most 2e-5, which the polynomial covers.
	n := float32(int32(x*log2e+128.5) - 128)
	r := x - n*c1 - n*c2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	// n ∈ [−126, 128]: 2^n in two steps when it is not a normal float32.
	e := int32(n)
	if e > 127 {
		return p * 2 * math.Float32frombits(uint32(e-1+127)<<23)
	}
	if e < -126 {
		return p * math.Float32frombits(uint32(e+1+127)<<23) * 0.5
	}
	return p * math.Float32frombits(uint32(e+127)<<23)
}

// Erf32 is erf(x) in float32, within 2e-7 of erf (float32 spacing near 1 is
// 6e-8): the Maclaurin series below 0.5 and Abramowitz and Stegun 7.1.26,
// 1 − t·P(t)·e^(−x²) with t = 1/(1+p|x|), above, the exponential from
// Exp32.
func Erf32(x float32) float32 {
	ax := x
	if ax < 0 {
		ax = -ax
	}
	if ax != ax {
		return x
	}
	if ax > 4 { // erf(4) = 1 − 1.5e-8: 1 in float32
		if x < 0 {
			return -1
		}
		return 1
	}
	if ax < 0.5 {
		// erf(x) = x·(2/√π)·(1 − x²/3 + x⁴/10 − x⁶/42 + x⁸/216 − x¹⁰/1320 + …)
		x2 := float64(x) * float64(x)
		s := 1 + x2*(-1.0/3+x2*(1.0/10+x2*(-1.0/42+x2*(1.0/216+x2*(-1.0/1320+x2*(1.0/9360))))))
		return float32(float64(x) * 1.1283791670955126 * s)
	}
	t := 1 / (1 + erfP*float64(ax))
	poly := t * (erfCoef[0] + t*(erfCoef[1]+t*(erfCoef[2]+t*(erfCoef[3]+t*erfCoef[4]))))
	y := float32(1 - poly*float64(Exp32(-ax*ax)))
	if x < 0 {
		return -y
	}
	return y
}

// erfP and erfCoef are Abramowitz and Stegun 7.1.26 (absolute error below
// 1.5e-7 over x ≥ 0); Erf32 uses them for |x| ≥ 0.5 only, where the
// relative error of 1 − erf stays small enough for float32.
const erfP = 0.3275911

var erfCoef = [5]float64{0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429}

// expSumGo is ExpSum's Go loop.
func expSumGo(dst, src []float32, shift float32) float32 {
	var sum float32
	for i, v := range src {
		e := Exp32(v - shift)
		dst[i] = e
		sum += e
	}
	return sum
}

// maxGo is the largest of best and the values of x, skipping NaN.
func maxGo(best float32, x []float32) float32 {
	for _, v := range x {
		if v > best {
			best = v
		}
	}
	return best
}
