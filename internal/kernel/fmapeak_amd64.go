//go:build amd64 && !purego

package kernel

// fmaLoopAVX512 and fmaLoopAVX2 issue n rounds of fmaChains independent
// multiply-adds on zmm and ymm registers.
//
//go:noescape
func fmaLoopAVX512(n int)

//go:noescape
func fmaLoopAVX2(n int)

// fmaRounds runs n rounds at the active level and returns its lanes per
// multiply-add (0 when nothing ran).
func fmaRounds(n int) int {
	if n <= 0 {
		return 0
	}
	switch {
	case active >= AVX512:
		fmaLoopAVX512(n)
		return 16
	case active >= AVX2:
		fmaLoopAVX2(n)
		return 8
	}
	return 0
}
