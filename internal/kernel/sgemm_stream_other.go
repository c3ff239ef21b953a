//go:build !amd64 || purego

package kernel

func sgemmKernel12x32Stream(k int, a, b, c *float32, ldc int, alpha float32) {
	panic("kernel: sgemmKernel12x32Stream without AVX-512")
}

func sgemmSfence() {}
