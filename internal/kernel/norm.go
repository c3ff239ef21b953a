package kernel

// Layer normalization's float32 row loops: a row's mean and variance, and
// the normalized row, in float64 as the Go loops they replace, vector
// loops with AVX-512 and AVX2. The sums run in SquareLanes partial sums, lane i%16
// in the order of i, reduced by ReduceLanes, and the vector loops neither
// fuse nor reorder the operations of a lane: every level gives the same
// bits.

// MeanVar returns the mean of x and its biased variance Σ(x − mean)²/n
// (NaN for an empty x), the sums in float64.
func MeanVar(x []float32) (mean, variance float64) {
	var part [SquareLanes]float64
	sumLanes(&part, x)
	mean = ReduceLanes(&part) / float64(len(x))
	part = [SquareLanes]float64{}
	sqDevLanes(&part, x, mean)
	return mean, ReduceLanes(&part) / float64(len(x))
}

// Normalize writes float32(((x − mean)·inv)·γ + β) to dst (as long as x;
// dst may be x), in float64 as Go evaluates it.
func Normalize(dst, x, gamma, beta []float32, mean, inv float64) {
	dst, gamma, beta = dst[:len(x)], gamma[:len(x)], beta[:len(x)]
	for i := normalize(dst, x, gamma, beta, mean, inv); i < len(x); i++ {
		dst[i] = float32((float64(x[i])-mean)*inv*float64(gamma[i]) + float64(beta[i]))
	}
}

// sumLanes adds float64(x[i]) to part[i%16] for every i.
func sumLanes(part *[SquareLanes]float64, x []float32) {
	for i := sumLanesVec(part, x); i < len(x); i++ {
		part[i%SquareLanes] += float64(x[i])
	}
}

// sqDevLanes adds (float64(x[i]) − mean)² to part[i%16] for every i.
func sqDevLanes(part *[SquareLanes]float64, x []float32, mean float64) {
	for i := sqDevLanesVec(part, x, mean); i < len(x); i++ {
		d := float64(x[i]) - mean
		part[i%SquareLanes] += d * d
	}
}
