//go:build amd64 && !purego

package kernel

// geluAVX writes gelu32 of the first n values of src (n a multiple of 8)
// to dst, eight at a time.
//
//go:noescape
func geluAVX(dst, src *float32, n int)

// geluGradAVX writes grad·geluGrad32(x) of the first n values (n a multiple
// of 8) to dst, eight at a time.
//
//go:noescape
func geluGradAVX(dst, x, grad *float32, n int)

// geluAVX512 is geluAVX sixteen at a time (n a multiple of 16).
//
//go:noescape
func geluAVX512(dst, src *float32, n int)

// geluGradAVX512 is geluGradAVX sixteen at a time (n a multiple of 16).
//
//go:noescape
func geluGradAVX512(dst, x, grad *float32, n int)

// GELU writes x·Φ(x) of src to dst (as long as src; dst may be src):
// whole vectors with the active level's instructions, the rest in Go.
func GELU(dst, src []float32) {
	dst = dst[:len(src)]
	n := 0
	if active >= AVX512 {
		if n = len(src) &^ 15; n > 0 {
			geluAVX512(&dst[0], &src[0], n)
		}
	}
	if m := len(src) &^ 7; active >= AVX2 && m > n {
		geluAVX(&dst[n], &src[n], m-n)
		n = m
	}
	for i, v := range src[n:] {
		dst[n+i] = gelu32(v)
	}
}

// GELUGrad writes g·(Φ(x) + x·φ(x)) to dst (as long as x; dst may be x
// or g): whole vectors with the active level's instructions, the rest in
// Go.
func GELUGrad(dst, x, g []float32) {
	dst, g = dst[:len(x)], g[:len(x)]
	n := 0
	if active >= AVX512 {
		if n = len(x) &^ 15; n > 0 {
			geluGradAVX512(&dst[0], &x[0], &g[0], n)
		}
	}
	if m := len(x) &^ 7; active >= AVX2 && m > n {
		geluGradAVX(&dst[n], &x[n], &g[n], m-n)
		n = m
	}
	for i, v := range x[n:] {
		dst[n+i] = g[n+i] * geluGrad32(v)
	}
}
