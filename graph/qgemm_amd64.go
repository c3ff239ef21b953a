//go:build amd64 && !purego

package graph

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
