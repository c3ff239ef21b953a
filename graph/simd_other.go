//go:build !amd64 || purego

package graph

func sgemmKernel6x16(k int, a, b, c *float32) { panic("graph: sgemmKernel6x16 without AVX2") }

func sgemmKernel6x16Add(k int, a, b, c *float32, ldc int, alpha float32) {
	panic("graph: sgemmKernel6x16Add without AVX2")
}

func sgemmKernel12x32(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32) {
	panic("graph: sgemmKernel12x32 without AVX-512")
}

func sgemmKernel6x16Set(k int, a, b, c *float32, ldc int, alpha float32) {
	panic("graph: sgemmKernel6x16Set without AVX2")
}

func sgemmKernel12x32Set(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32) {
	panic("graph: sgemmKernel12x32Set without AVX-512")
}

// tanh32s writes tanh32(src) to dst (as long as src).
func tanh32s(dst, src []float32) {
	for i, v := range src {
		dst[i] = tanh32(v)
	}
}

// sigmoid32s writes sigmoid32(src) to dst (as long as src).
func sigmoid32s(dst, src []float32) {
	for i, v := range src {
		dst[i] = sigmoid32(v)
	}
}
