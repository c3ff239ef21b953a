package kernel

// Transpose sets dst[c·ldd + r] = src[r·lds + c] for r < rows and c <
// cols: the transpose of a rows×cols matrix (rows lds apart) into a
// cols×rows one (rows ldd apart), writing nothing else of dst. With
// AVX-512, whole 16×16 blocks go through registers; the rest, and every
// other level, go one value at a time. It only moves values: every level
// gives the same bits.
func Transpose(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	_, _ = src[(rows-1)*lds+cols-1], dst[(cols-1)*ldd+rows-1]
	r16, c16 := rows&^15, cols&^15
	for r0 := 0; r0 < r16; r0 += 16 {
		if !transposeFast(dst[r0:], ldd, src[r0*lds:], lds, c16/16) {
			r16, c16 = 0, 0
			break
		}
	}
	for r := range rows {
		from := 0 // the columns of this row the blocks did not take
		if r < r16 {
			from = c16
		}
		for c, v := range src[r*lds+from : r*lds+cols] {
			dst[(from+c)*ldd+r] = v
		}
	}
}
