//go:build !amd64 || purego

package kernel

// Tanh writes tanh32(src) to dst (as long as src; dst may be src).
func Tanh(dst, src []float32) {
	for i, v := range src {
		dst[i] = tanh32(v)
	}
}

// Sigmoid writes sigmoid32(src) to dst (as long as src; dst may be src).
func Sigmoid(dst, src []float32) {
	for i, v := range src {
		dst[i] = sigmoid32(v)
	}
}
