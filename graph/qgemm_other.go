//go:build !amd64 || purego

package graph

func qgemmKernelVNNI(kq int, a []byte, lda, rows int, b []byte, tile []int32) {
	panic("graph: int8 VNNI kernel without amd64")
}

func qgemmKernelAVX2(kq int, a []byte, lda, rows int, b []byte, tile []int32) {
	panic("graph: int8 AVX2 kernel without amd64")
}

// dequantRow sets dst[j] = float32(src[j])·(sx·sw[j]) + bias[j], or adds
// the product to dst[j] when add (bias unread), with src[j] − offs[j] when
// offs is not nil.
func dequantRow(dst []float32, src, offs []int32, sw, bias []float32, sx float32, add bool) {
	dequantGo(dst, src, offs, sw, bias, 0, sx, add)
}
