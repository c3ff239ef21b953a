//go:build amd64 && !purego

package kernel

import "math"

// expAVX512 writes e^x of the first n values of src (n a multiple of 16)
// to dst, sixteen at a time.
//
//go:noescape
func expAVX512(dst, src *float32, n int)

// Exp writes Exp32(src) to dst (as long as src; dst may be src): whole
// vectors of sixteen with AVX-512 (within 2 ulps of e^x like Exp32, but
// not always its bits; subnormal results where Exp32 gives 0), the rest,
// and every value at lower levels, with Exp32.
func Exp(dst, src []float32) {
	n := 0
	if active >= AVX512 {
		if n = len(src) &^ 15; n > 0 {
			expAVX512(&dst[0], &src[0], n)
		}
	}
	for i, v := range src[n:] {
		dst[n+i] = Exp32(v)
	}
}

// expSumAVX512 is expAVX512 of src − shift that also returns the sum of
// what it writes, for any n: the last n mod 16 values under a mask.
//
//go:noescape
func expSumAVX512(dst, src *float32, n int, shift float32) float32

// maxAVX512 is the largest of the first n values of x (any n: the last
// n mod 16 under a mask), skipping NaN: −∞ if all are NaN.
//
//go:noescape
func maxAVX512(x *float32, n int) float32

// ExpSum writes e^(src − shift) to dst (as long as src; dst may be src)
// and returns their sum in float32 (the softmax's exponentials and their
// normalizer in one pass): with AVX-512, vectors of sixteen as Exp does,
// the last partial one under a mask (a softmax row is rarely a multiple
// of sixteen long, and the Go tail was a third of the softmax's time),
// summed in sixteen lanes; at lower levels with Exp32, summed in order.
func ExpSum(dst, src []float32, shift float32) float32 {
	dst = dst[:len(src)]
	if active >= AVX512 && len(src) > 0 {
		return expSumAVX512(&dst[0], &src[0], len(src), shift)
	}
	return expSumGo(dst, src, shift)
}

// maxAVX is maxAVX512 eight at a time (n a multiple of 8).
//
//go:noescape
func maxAVX(x *float32, n int) float32

// Max returns the largest value of x, skipping NaN: −∞ if x is empty or
// all NaN. Vectors of sixteen with AVX-512 (the last one masked), whole
// vectors of eight with AVX2 and the rest, and every value at the generic
// level, in Go; the result does not depend on the level.
func Max(x []float32) float32 {
	best, n := float32(math.Inf(-1)), 0
	switch {
	case active >= AVX512:
		if n = len(x); n > 0 {
			best = maxAVX512(&x[0], n)
		}
	case active >= AVX2:
		if n = len(x) &^ 7; n > 0 {
			best = maxAVX(&x[0], n)
		}
	}
	return maxGo(best, x[n:])
}
