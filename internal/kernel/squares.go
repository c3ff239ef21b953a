package kernel

// SquareLanes is the number of partial sums SumSquares keeps.
const SquareLanes = 16

// SumSquares adds float64(g[i])² to part[i%16] for every i, each lane in
// the order of i. The squares of float32 values are exact in float64, so
// the vector loops (which fuse the multiply and the add) and the scalar one
// give the same bits on every level.
func SumSquares(part *[SquareLanes]float64, g []float32) {
	i := sumSquares(part, g)
	for ; i < len(g); i++ {
		x := float64(g[i])
		part[i%SquareLanes] += x * x
	}
}

// ReduceLanes sums the partial sums in a fixed order.
func ReduceLanes(part *[SquareLanes]float64) float64 {
	p := *part
	for w := SquareLanes / 2; w >= 1; w /= 2 {
		for i := 0; i < w; i++ {
			p[i] += p[i+w]
		}
	}
	return p[0]
}
