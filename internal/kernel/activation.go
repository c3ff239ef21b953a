package kernel

// The LSTM's gate nonlinearities in float32: a rational approximation of
// tanh (the one Eigen and TensorFlow use, accurate to a few float32 ulps)
// and σ(x) = ½ + ½·tanh(x/2), which compile to straight-line arithmetic,
// eight values at a time with AVX2 (avx2_amd64.s) and sixteen with AVX-512
// (avx512_amd64.s). The two vector levels do the same operations and give
// the same bits; they fuse the multiply-adds that Go rounds twice, so they
// may differ from the Go code in the last bits.

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
