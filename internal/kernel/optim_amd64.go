//go:build amd64 && !purego

package kernel

// lanes is how many float32 the active level's vectors hold (0: no vectors).
func lanes() int {
	switch active {
	case AVX512:
		return 16
	case AVX2:
		return 8
	}
	return 0
}

func adam(w, g, m, v []float32, n int, c *AdamConsts) int {
	l := lanes()
	if l == 0 || n < l {
		return 0
	}
	n &^= l - 1
	if l == 16 {
		adamAVX512(&w[0], &g[0], &m[0], &v[0], n, c)
	} else {
		adamAVX2(&w[0], &g[0], &m[0], &v[0], n, c)
	}
	return n
}

func sgdMomentum(w, g, buf []float32, n int, negLR, mom, keep float32) int {
	l := lanes()
	if l == 0 || n < l {
		return 0
	}
	n &^= l - 1
	if l == 16 {
		sgdMomentumAVX512(&w[0], &g[0], &buf[0], n, negLR, mom, keep)
	} else {
		sgdMomentumAVX2(&w[0], &g[0], &buf[0], n, negLR, mom, keep)
	}
	return n
}

func sgd(w, g []float32, n int, negLR float32) int {
	l := lanes()
	if l == 0 || n < l {
		return 0
	}
	n &^= l - 1
	if l == 16 {
		sgdAVX512(&w[0], &g[0], n, negLR)
	} else {
		sgdAVX2(&w[0], &g[0], n, negLR)
	}
	return n
}

//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, c *AdamConsts)

//go:noescape
func adamAVX512(w, grad, m, v *float32, n int, c *AdamConsts)

//go:noescape
func sgdMomentumAVX2(w, grad, buf *float32, n int, negLR, mom, keep float32)

//go:noescape
func sgdMomentumAVX512(w, grad, buf *float32, n int, negLR, mom, keep float32)

//go:noescape
func sgdAVX2(w, grad *float32, n int, negLR float32)

//go:noescape
func sgdAVX512(w, grad *float32, n int, negLR float32)

// sumSquares runs the vector loop of SumSquares over a prefix of g, a
// multiple of 16 long, and returns its length.
func sumSquares(part *[SquareLanes]float64, g []float32) int {
	n := len(g) &^ (SquareLanes - 1)
	if n == 0 {
		return 0
	}
	switch active {
	case AVX512:
		sumSquaresAVX512(part, &g[0], n)
	case AVX2:
		sumSquaresAVX2(part, &g[0], n)
	default:
		return 0
	}
	return n
}

//go:noescape
func sumSquaresAVX2(part *[SquareLanes]float64, grad *float32, n int)

//go:noescape
func sumSquaresAVX512(part *[SquareLanes]float64, grad *float32, n int)
