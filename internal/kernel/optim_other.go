//go:build !amd64 || purego

package kernel

func adam(w, g, m, v []float32, n int, c *AdamConsts) int { return 0 }

func sgdMomentum(w, g, buf []float32, n int, negLR, mom, keep float32) int { return 0 }

func sgd(w, g []float32, n int, negLR float32) int { return 0 }

func sumSquares(part *[SquareLanes]float64, g []float32) int { return 0 }
