//go:build !amd64 || purego

package kernel

// GELU writes x·Φ(x) of src to dst (as long as src; dst may be src).
func GELU(dst, src []float32) {
	for i, v := range src {
		dst[i] = gelu32(v)
	}
}

// GELUGrad writes g·(Φ(x) + x·φ(x)) to dst (as long as x; dst may be x
// or g).
func GELUGrad(dst, x, g []float32) {
	g = g[:len(x)]
	for i, v := range x {
		dst[i] = g[i] * geluGrad32(v)
	}
}
