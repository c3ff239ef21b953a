//go:build amd64 && !purego

package simd

// vnni reports AVX-512 VNNI (vpdpbusd on ZMM registers), which the int8
// kernels use at level AVX512; it needs the AVX512 level's OS state too.
var vnni = func() bool {
	if supported < AVX512 {
		return false
	}
	_, _, ecx7, _ := cpuid(7, 0)
	return ecx7&(1<<11) != 0
}()
