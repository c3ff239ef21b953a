//go:build !amd64 || purego

package kernel

// AbsMaxBits is the largest of x's values' bits without their sign: the
// bits of max |x| when no value is NaN, and above +Inf's (0x7f800000) when
// one is (non-negative floats order as their bits); 0 for an empty x.
func AbsMaxBits(x []float32) uint32 { return absMaxBitsGo(x) }
