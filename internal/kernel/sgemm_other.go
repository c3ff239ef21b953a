//go:build !amd64 || purego

package kernel

func sgemmKernel6x16(k int, a, b, c *float32) { panic("kernel: sgemmKernel6x16 without AVX2") }

func sgemmKernel6x16Add(k int, a, b, c *float32, ldc int, alpha float32) {
	panic("kernel: sgemmKernel6x16Add without AVX2")
}

func sgemmKernel12x32(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32) {
	panic("kernel: sgemmKernel12x32 without AVX-512")
}

func sgemmKernel6x16Set(k int, a, b, c *float32, ldc int, alpha float32) {
	panic("kernel: sgemmKernel6x16Set without AVX2")
}

func sgemmKernel12x32Set(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32) {
	panic("kernel: sgemmKernel12x32Set without AVX-512")
}

func sgemmKernel12x32Strided(k int, a *float32, rs, ds int, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32, mode int, bias *float32) {
	panic("kernel: sgemmKernel12x32Strided without AVX-512")
}

func sgemmKernelNarrow(k int, a *float32, lda int, b *float32, bstride int, c *float32, ldc int, alpha float32, rows int, masks uint64, mode int, bias *float32) {
	panic("kernel: sgemmKernelNarrow without AVX-512")
}

func sgemmKernelRow(k int, a, b *float32, bstride int, c *float32, alpha float32, masks0, masks1 uint64, mode int, bias *float32) {
	panic("kernel: sgemmKernelRow without AVX-512")
}

func sgemmKernel12x32PA(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32, set bool) {
	panic("kernel: sgemmKernel12x32PA without AVX-512")
}
