// Package simd chooses the vector instructions tapeml's kernels use and
// holds the vectorized loops shared by more than one package (the
// optimizers' fused updates).
//
// The level is detected once from CPUID and the OS's saved register state,
// and may be lowered with the environment variable TAPEML_SIMD (avx512,
// avx2 or generic), read once at start-up; builds with the purego tag, and
// other architectures, always use generic Go. Different levels round some
// operations differently (a fused multiply-add is rounded once in a vector
// register and twice in the scalar fallback), so results are bit-identical
// only for the same binary, level and thread count.
package simd
