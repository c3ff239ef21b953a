//go:build amd64 && !purego

package kernel

// qgemmVNNI6x32 writes to tile (6×32 int32, row-major) the products of 6
// rows of offset bytes (rows lda apart; rows past the first `rows` repeat
// row 0) and a packed panel of signed bytes, kq groups of four depths.
//
//go:noescape
func qgemmVNNI6x32(kq int, a *byte, lda, rows int, b *byte, tile *int32)

// qgemmAVX2x6x16 is qgemmVNNI6x32 for int16 values, 6×16 tiles and kq
// groups of two depths.
//
//go:noescape
func qgemmAVX2x6x16(kq int, a *byte, lda, rows int, b *byte, tile *int32)

func qgemmKernelVNNI(kq int, a []byte, lda, rows int, b []byte, tile []int32) {
	_ = b[kq*4*32-1]
	_ = tile[6*32-1]
	_ = a[(rows-1)*lda+kq*4-1]
	qgemmVNNI6x32(kq, &a[0], lda, rows, &b[0], &tile[0])
}

func qgemmKernelAVX2(kq int, a []byte, lda, rows int, b []byte, tile []int32) {
	_ = b[kq*4*16-1]
	_ = tile[6*16-1]
	_ = a[(rows-1)*lda+kq*4-1]
	qgemmAVX2x6x16(kq, &a[0], lda, rows, &b[0], &tile[0])
}

//go:noescape
func dequantAVX2(dst *float32, src, offs *int32, sw, bias *float32, sx float32, n int, add bool)

// zeroOffs is offs for rows without offsets.
var zeroOffs = make([]int32, 64)

// dequantRow sets dst[j] = float32(src[j] − offs[j])·(sx·sw[j]) + bias[j],
// or adds the product to dst[j] when add (bias unread); offs may be nil.
func dequantRow(dst []float32, src, offs []int32, sw, bias []float32, sx float32, add bool) {
	n := len(dst) &^ 7
	if active >= AVX2 && n > 0 {
		_, _, _ = src[n-1], sw[n-1], dst[n-1]
		b := &sw[0] // unread when add
		if !add {
			_ = bias[n-1]
			b = &bias[0]
		}
		o := offs
		if o == nil {
			o = zeroOffs
			if len(o) < n {
				o = make([]int32, n)
			}
		}
		_ = o[n-1]
		dequantAVX2(&dst[0], &src[0], &o[0], &sw[0], b, sx, n, add)
	} else {
		n = 0
	}
	dequantGo(dst[n:], src[n:], offs, sw[n:], bias, n, sx, add)
}

//go:noescape
func dequantTile512(dst *float32, ldd int, tile *int32, rows int, offs *int32, sw, sx, bias *float32, add bool)

// DequantTile runs dequantRow over rows rows of a tile (rows ldt apart)
// into dst (rows ldd apart), sx[r] for row r: for a 32-column tile with
// AVX-512 in one call, else row by row.
func DequantTile(dst []float32, ldd int, tile []int32, ldt, rows, cols int, offs []int32, sw, sx, bias []float32, add bool) {
	if cols == 32 && ldt == 32 && active >= AVX512 && rows > 0 {
		_, _, _ = tile[rows*32-1], sw[31], sx[rows-1]
		_ = dst[(rows-1)*ldd+31]
		o := offs
		if o == nil {
			o = zeroOffs
		}
		_ = o[31]
		b := &sw[0]
		if !add {
			_ = bias[31]
			b = &bias[0]
		}
		dequantTile512(&dst[0], ldd, &tile[0], rows, &o[0], &sw[0], &sx[0], b, add)
		return
	}
	for r := 0; r < rows; r++ {
		dequantRow(dst[r*ldd:][:cols], tile[r*ldt:][:cols], offs, sw, bias, sx[r], add)
	}
}

//go:noescape
func quantEncode512(dst *byte, src *float32, n int, inv float32)

// QuantEncode writes the +128 encoding of Quantize(src[i]·inv) to dst for
// the first len(src)&^15 values with AVX-512 and returns how many it wrote
// (0 without AVX-512); src must hold finite values.
func QuantEncode(dst []byte, src []float32, inv float32) int {
	n := len(src) &^ 15
	if active < AVX512 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	quantEncode512(&dst[0], &src[0], n, inv)
	return n
}
