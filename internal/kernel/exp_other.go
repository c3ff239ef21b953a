//go:build !amd64 || purego

package kernel

import "math"

// Exp writes Exp32(src) to dst (as long as src; dst may be src).
func Exp(dst, src []float32) {
	for i, v := range src {
		dst[i] = Exp32(v)
	}
}

// ExpSum writes Exp32(src − shift) to dst (as long as src; dst may be
// src) and returns their sum in float32.
func ExpSum(dst, src []float32, shift float32) float32 {
	return expSumGo(dst[:len(src)], src, shift)
}

// Max returns the largest value of x, skipping NaN: −∞ if x is empty or
// all NaN.
func Max(x []float32) float32 { return maxGo(float32(math.Inf(-1)), x) }
