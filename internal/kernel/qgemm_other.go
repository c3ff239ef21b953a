//go:build !amd64 || purego

package kernel

func qgemmKernelVNNI(kq int, a []byte, lda, rows int, b []byte, tile []int32) {
	panic("kernel: int8 VNNI kernel without amd64")
}

func qgemmKernelAVX2(kq int, a []byte, lda, rows int, b []byte, tile []int32) {
	panic("kernel: int8 AVX2 kernel without amd64")
}

// dequantRow sets dst[j] = float32(src[j])·(sx·sw[j]) + bias[j], or adds
// the product to dst[j] when add (bias unread), with src[j] − offs[j] when
// offs is not nil.
func dequantRow(dst []float32, src, offs []int32, sw, bias []float32, sx float32, add bool) {
	dequantGo(dst, src, offs, sw, bias, 0, sx, add)
}

// DequantTile runs dequantRow over rows rows of a tile (rows ldt apart)
// into dst (rows ldd apart), sx[r] for row r.
func DequantTile(dst []float32, ldd int, tile []int32, ldt, rows, cols int, offs []int32, sw, sx, bias []float32, add bool) {
	for r := 0; r < rows; r++ {
		dequantRow(dst[r*ldd:][:cols], tile[r*ldt:][:cols], offs, sw, bias, sx[r], add)
	}
}

// QuantEncode encodes nothing without AVX-512: it returns 0.
func QuantEncode(dst []byte, src []float32, inv float32) int { return 0 }
