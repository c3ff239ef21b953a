package kernel

// Batch normalization's float32 plane loops (a channel of an [N, C, H, W]
// tensor is N planes of H·W values): the statistics in SquareLanes
// partial sums as MeanVar's, the affine map of the forward pass and the
// input gradient, in float64 as the Go loops they replace, vector loops
// with AVX-512 (Go at the other levels). The vector loops neither fuse nor
// reorder the operations of a lane: every level gives the same bits.

// SumLanes adds float64(x[i]) to part[i%16] for every i.
func SumLanes(part *[SquareLanes]float64, x []float32) { sumLanes(part, x) }

// SqDevLanes adds (float64(x[i]) − mean)² to part[i%16] for every i.
func SqDevLanes(part *[SquareLanes]float64, x []float32, mean float64) { sqDevLanes(part, x, mean) }

// Affine writes float32(float64(x[i])·scale + shift) to dst (as long as x;
// dst may be x).
func Affine(dst, x []float32, scale, shift float64) {
	dst = dst[:len(x)]
	for i := affineVec(dst, x, scale, shift); i < len(x); i++ {
		dst[i] = float32(float64(float64(x[i])*scale) + shift)
	}
}

// BatchNormSums adds float64(g[i]) to sumG[i%16] and float64(g[i])·
// (float64(x[i]) − mean) to sumGX[i%16] for every i (x as long as g).
func BatchNormSums(sumG, sumGX *[SquareLanes]float64, g, x []float32, mean float64) {
	x = x[:len(g)]
	for i := batchNormSumsVec(sumG, sumGX, g, x, mean); i < len(g); i++ {
		gv := float64(g[i])
		sumG[i%SquareLanes] += gv
		sumGX[i%SquareLanes] += float64(gv * (float64(x[i]) - mean))
	}
}

// BatchNormGrad writes float32(scale·((g[i] − a) − (x[i] − mean)·b)) to
// dst, in float64: the input gradient of a batch normalization in
// training (x, g and dst as long as each other; dst may be g).
func BatchNormGrad(dst, x, g []float32, scale, a, mean, b float64) {
	x, dst = x[:len(g)], dst[:len(g)]
	for i := batchNormGradVec(dst, x, g, scale, a, mean, b); i < len(g); i++ {
		t := float64((float64(x[i]) - mean) * b)
		dst[i] = float32(scale * (float64(g[i]) - a - t))
	}
}
