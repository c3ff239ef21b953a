//go:build !amd64 || purego

package kernel

// Exp writes Exp32(src) to dst (as long as src; dst may be src).
func Exp(dst, src []float32) {
	for i, v := range src {
		dst[i] = Exp32(v)
	}
}
