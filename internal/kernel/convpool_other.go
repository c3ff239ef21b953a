//go:build !amd64 || purego

package kernel

// ConvPoolFast reports whether ConvPool runs on a vector kernel at the
// active level; without one it is a plain Go loop, slower than an im2col
// product on gonum's Sgemm.
func ConvPoolFast() bool { return false }

func convPoolTile(p *ConvPool, a, xp, y, bias []float32, rows, cols int) {
	convPoolTileGo(p, a, xp, y, bias, rows, cols)
}
