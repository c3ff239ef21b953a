package simd

// VNNI reports whether the CPU, the OS and the build support AVX-512 VNNI
// (the int8 dot-product instruction vpdpbusd). The int8 kernels use it when
// the active level is AVX512; it is not a level of its own, so TAPEML_SIMD
// still chooses between avx512, avx2 and generic.
func VNNI() bool { return vnni }
