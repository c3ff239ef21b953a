// Package kernel holds tapeml's numeric kernels and chooses the vector
// instructions they use.
//
// The level is detected once with golang.org/x/sys/cpu, and may be lowered
// with the environment variable TAPEML_SIMD (avx512, avx2 or generic),
// read once at start-up; builds with the purego tag, and other
// architectures, always use generic Go. Different levels round some
// operations differently (a fused multiply-add is rounded once in a vector
// register and twice in the scalar fallback), so results are bit-identical
// only for the same binary, level and thread count.
package kernel
