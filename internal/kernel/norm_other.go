//go:build !amd64 || purego

package kernel

func sumLanesVec(part *[SquareLanes]float64, x []float32) int { return 0 }

func sqDevLanesVec(part *[SquareLanes]float64, x []float32, mean float64) int { return 0 }

func normalize(dst, x, gamma, beta []float32, mean, inv float64) int { return 0 }
