//go:build amd64 && !purego

package kernel

// sumLanesVec, sqDevLanesVec and normalize run the vector loops of
// sumLanes, sqDevLanes and Normalize over a prefix of x, whole vectors of
// sixteen with AVX-512, and return its length (0 at lower levels).
func sumLanesVec(part *[SquareLanes]float64, x []float32) int {
	n := len(x) &^ 15
	if active < AVX512 || n == 0 {
		return 0
	}
	sumLanesAVX512(part, &x[0], n)
	return n
}

func sqDevLanesVec(part *[SquareLanes]float64, x []float32, mean float64) int {
	n := len(x) &^ 15
	if active < AVX512 || n == 0 {
		return 0
	}
	sqDevLanesAVX512(part, &x[0], n, mean)
	return n
}

func normalize(dst, x, gamma, beta []float32, mean, inv float64) int {
	n := len(x) &^ 15
	if active < AVX512 || n == 0 {
		return 0
	}
	normalizeAVX512(&dst[0], &x[0], &gamma[0], &beta[0], n, mean, inv)
	return n
}

//go:noescape
func sumLanesAVX512(part *[SquareLanes]float64, x *float32, n int)

//go:noescape
func sqDevLanesAVX512(part *[SquareLanes]float64, x *float32, n int, mean float64)

//go:noescape
func normalizeAVX512(dst, x, gamma, beta *float32, n int, mean, inv float64)
