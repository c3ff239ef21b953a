//go:build amd64 && !purego

package kernel

// absMaxBitsAVX512 is absMaxBitsGo of the first n values of x (n a
// multiple of 16), sixteen lanes of unsigned maxima at a time.
//
//go:noescape
func absMaxBitsAVX512(x *float32, n int) uint32

// AbsMaxBits is the largest of x's values' bits without their sign: the
// bits of max |x| when no value is NaN, and above +Inf's (0x7f800000) when
// one is (non-negative floats order as their bits); 0 for an empty x.
// Whole vectors of sixteen with AVX-512, the rest, and every value at
// lower levels, in Go; the result does not depend on the level.
func AbsMaxBits(x []float32) uint32 {
	var m uint32
	n := 0
	if active >= AVX512 {
		if n = len(x) &^ 15; n > 0 {
			m = absMaxBitsAVX512(&x[0], n)
		}
	}
	return max(m, absMaxBitsGo(x[n:]))
}
