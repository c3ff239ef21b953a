//go:build amd64 && !purego

package kernel

// affineVec, batchNormSumsVec and batchNormGradVec run the vector loops of
// batchnorm.go over a prefix, whole blocks of sixteen with AVX-512, and
// return its length (0 at the other levels).
func affineVec(dst, x []float32, scale, shift float64) int {
	n := len(x) &^ 15
	if n == 0 || active < AVX512 {
		return 0
	}
	affineAVX512(&dst[0], &x[0], n, scale, shift)
	return n
}

func batchNormSumsVec(sumG, sumGX *[SquareLanes]float64, g, x []float32, mean float64) int {
	n := len(g) &^ 15
	if n == 0 || active < AVX512 {
		return 0
	}
	batchNormSumsAVX512(sumG, sumGX, &g[0], &x[0], n, mean)
	return n
}

func batchNormGradVec(dst, x, g []float32, scale, a, mean, b float64) int {
	n := len(g) &^ 15
	if n == 0 || active < AVX512 {
		return 0
	}
	batchNormGradAVX512(&dst[0], &x[0], &g[0], n, scale, a, mean, b)
	return n
}

//go:noescape
func affineAVX512(dst, x *float32, n int, scale, shift float64)

//go:noescape
func batchNormSumsAVX512(sumG, sumGX *[SquareLanes]float64, grad, x *float32, n int, mean float64)

//go:noescape
func batchNormGradAVX512(dst, x, grad *float32, n int, scale, a, mean, b float64)
