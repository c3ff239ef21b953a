//go:build amd64 && !purego

package kernel

// packBT16 packs sixteen columns of a transposed op(B) into a panel of
// 32 (dst[p·32+j] = b[j·ldb+p], j < 16) for the first kc &^ 15 depths
// with AVX-512 and returns how many depths it packed (0 at the other
// levels).
func packBT16(dst, b []float32, ldb, kc int) int {
	n := kc &^ 15
	if n == 0 || active < AVX512 {
		return 0
	}
	_, _ = dst[(n-1)*32+15], b[15*ldb+n-1]
	sgemmPackBT16AVX512(&dst[0], &b[0], ldb, n)
	return n
}

//go:noescape
func sgemmPackBT16AVX512(dst, b *float32, ldb, kc int)
