//go:build !amd64 || purego

package kernel

// DirectConvFast reports whether ConvPool and Conv run on a vector kernel
// at the active level; without one they are plain Go loops, slower than
// an im2col product on gonum's Sgemm.
func DirectConvFast() bool { return false }

func convTile(p *Conv, a, xp, y, bias []float32, rows, cols int, lower bool) {
	convTileGo(p, a, xp, y, bias, rows, cols, lower)
}

func convPoolTile(p *ConvPool, a, xp, y, bias []float32, rows, cols int) {
	convPoolTileGo(p, a, xp, y, bias, rows, cols)
}
