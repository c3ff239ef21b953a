package graph

import "math"

// The gate nonlinearities are the LSTM's only transcendental functions and,
// once the matrix products are fast, a visible share of its time. float64
// (gradient checks, parity tests) uses the math package; float32 uses a
// rational approximation of tanh (the one Eigen and TensorFlow use,
// accurate to a few float32 ulps) and σ(x) = ½ + ½·tanh(x/2), which
// compile to straight-line arithmetic, eight values at a time with AVX2
// (simd_amd64.s).

// lstmActivateGates applies σ to the i, f and o blocks and tanh to the g
// block of one row of pre-activations [i f g o], each h wide, in place.
func lstmActivateGates[T float](g []T, h int) {
	switch g := any(g).(type) {
	case []float32:
		sigmoid32s(g[:2*h], g[:2*h])
		tanh32s(g[2*h:3*h], g[2*h:3*h])
		sigmoid32s(g[3*h:4*h], g[3*h:4*h])
	case []float64:
		for j, v := range g[:2*h] {
			g[j] = sigmoidOf(v)
		}
		for j, v := range g[2*h : 3*h] {
			g[2*h+j] = math.Tanh(v)
		}
		for j, v := range g[3*h : 4*h] {
			g[3*h+j] = sigmoidOf(v)
		}
	}
}

// lstmTanh writes tanh(src) to dst.
func lstmTanh[T float](dst, src []T) {
	switch d := any(dst).(type) {
	case []float32:
		tanh32s(d, any(src).([]float32)[:len(d)])
	case []float64:
		s := any(src).([]float64)
		for j, v := range s[:len(d)] {
			d[j] = math.Tanh(v)
		}
	}
}

// tanh32 is tanh for float32 by a [13/6] rational approximation on
// [−7.9, 7.9], where it reaches ±1 in float32.
func tanh32(x float32) float32 {
	const clamp = 7.90531110763549805
	x = min(max(x, -clamp), clamp)
	x2 := x * x
	p := x2*-2.76076847742355e-16 + 2.00018790482477e-13
	p = x2*p + -8.60467152213735e-11
	p = x2*p + 5.12229709037114e-08
	p = x2*p + 1.48572235717979e-05
	p = x2*p + 6.37261928875436e-04
	p = x2*p + 4.89352455891786e-03
	p *= x
	q := x2*1.19825839466702e-06 + 1.18534705686654e-04
	q = x2*q + 2.26843463243900e-03
	q = x2*q + 4.89352518554385e-03
	return p / q
}

// sigmoid32 is the logistic function for float32.
func sigmoid32(x float32) float32 { return 0.5 + 0.5*tanh32(0.5*x) }
