//go:build amd64 && !purego

package kernel

// sumLanesVec, sqDevLanesVec and normalize run the vector loops of
// sumLanes, sqDevLanes and Normalize over a prefix of x, whole blocks of
// sixteen with AVX-512 or AVX2, and return its length (0 at the generic
// level).
func sumLanesVec(part *[SquareLanes]float64, x []float32) int {
	n := len(x) &^ 15
	switch {
	case n == 0 || active < AVX2:
		return 0
	case active >= AVX512:
		sumLanesAVX512(part, &x[0], n)
	default:
		sumLanesAVX(part, &x[0], n)
	}
	return n
}

func sqDevLanesVec(part *[SquareLanes]float64, x []float32, mean float64) int {
	n := len(x) &^ 15
	switch {
	case n == 0 || active < AVX2:
		return 0
	case active >= AVX512:
		sqDevLanesAVX512(part, &x[0], n, mean)
	default:
		sqDevLanesAVX(part, &x[0], n, mean)
	}
	return n
}

func normalize(dst, x, gamma, beta []float32, mean, inv float64) int {
	n := len(x) &^ 15
	switch {
	case n == 0 || active < AVX2:
		return 0
	case active >= AVX512:
		normalizeAVX512(&dst[0], &x[0], &gamma[0], &beta[0], n, mean, inv)
	default:
		normalizeAVX(&dst[0], &x[0], &gamma[0], &beta[0], n, mean, inv)
	}
	return n
}

//go:noescape
func sumLanesAVX512(part *[SquareLanes]float64, x *float32, n int)

//go:noescape
func sqDevLanesAVX512(part *[SquareLanes]float64, x *float32, n int, mean float64)

//go:noescape
func normalizeAVX512(dst, x, gamma, beta *float32, n int, mean, inv float64)

//go:noescape
func sumLanesAVX(part *[SquareLanes]float64, x *float32, n int)

//go:noescape
func sqDevLanesAVX(part *[SquareLanes]float64, x *float32, n int, mean float64)

//go:noescape
func normalizeAVX(dst, x, gamma, beta *float32, n int, mean, inv float64)
