//go:build amd64 && !purego

package kernel

// transpose16 sets dst[(16b+q)·ldd + i] = src[i·lds + 16b + q] for
// b < blocks and i, q < 16 with AVX-512: sixteen rows of src, 16·blocks
// values long, into 16·blocks rows of dst, sixteen values long.
//
//go:noescape
func transpose16(dst *float32, ldd int, src *float32, lds int, blocks int)

// transposeFast is transpose16 when the active level has it: it reports
// whether it did the work.
func transposeFast(dst []float32, ldd int, src []float32, lds int, blocks int) bool {
	if active < AVX512 || blocks == 0 {
		return false
	}
	_ = src[15*lds+16*blocks-1]
	_ = dst[(16*blocks-1)*ldd+15]
	transpose16(&dst[0], ldd, &src[0], lds, blocks)
	return true
}
