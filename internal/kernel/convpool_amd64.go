//go:build amd64 && !purego

package kernel

// convPool12x32 is one ConvPool tile with AVX-512: the 12×32 product of
// the packed weight panel a (c·kh·kw depths of 12 values) and the padded
// input at x, depth (c, i, j) reading lanes 0–15 at x + c·plane + i·row +
// j and lanes 16–31 one row further (plane and row in floats); then, for
// each of the first rows rows, the 2×2 maxima of the tile's lanes (lane
// pairs 2t, 2t+1 of both halves), plus bias[r], rectified, stored under
// mask (pooled columns 0–7) at y + r·ldy. Lanes outside mask may read
// anything; they are never stored.
//
//go:noescape
func convPool12x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy int, bias *float32, rows int, mask uint32)

// convPool8x32 is convPool12x32 for rows ≤ 8: the last panel of a layer
// whose output channels are not a multiple of 12 (the ConvNet's 64 and
// 128), without the multiply-adds of its empty rows. The same bits.
//
//go:noescape
func convPool8x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy int, bias *float32, rows int, mask uint32)

// convPool4x32 is convPool12x32 for rows ≤ 4: the last panel of the
// ConvNet's first layer (64 output channels: 5·12 + 4), without the
// multiply-adds of 8 empty rows. The same bits.
//
//go:noescape
func convPool4x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy int, bias *float32, rows int, mask uint32)

// DirectConvFast reports whether ConvPool and Conv run on a vector kernel
// at the active level (AVX-512); without one they are plain Go loops,
// slower than an im2col product on the packed or gonum Sgemm.
func DirectConvFast() bool { return active >= AVX512 }

//go:noescape
func conv12x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy, ow int, bias *float32, rows int, mask0, mask1 uint32)

// conv8x32 and conv4x32 are conv12x32 for rows ≤ 8 and ≤ 4: a last panel
// of output channels (the ConvNet's 64 = 5·12 + 4 and 128 = 10·12 + 8)
// without the multiply-adds of its empty rows. The same bits.
//
//go:noescape
func conv8x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy, ow int, bias *float32, rows int, mask0, mask1 uint32)

//go:noescape
func conv4x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy, ow int, bias *float32, rows int, mask0, mask1 uint32)

func convTile(p *Conv, a, xp, y, bias []float32, rows, cols int, lower bool) {
	if active < AVX512 {
		convTileGo(p, a, xp, y, bias, rows, cols, lower)
		return
	}
	// The furthest value the tile reads: the last depth's lower row.
	_ = xp[((p.c-1)*p.hp+p.kh-1+1)*p.wp+p.kw-1+15]
	_ = a[p.k*convRows-1]
	mask0 := uint32(1)<<cols - 1
	var mask1 uint32
	if lower {
		mask1 = mask0
	}
	switch {
	case rows <= 4:
		conv4x32(&a[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &y[0], p.oh*p.ow, p.ow, &bias[0], rows, mask0, mask1)
	case rows <= 8:
		conv8x32(&a[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &y[0], p.oh*p.ow, p.ow, &bias[0], rows, mask0, mask1)
	default:
		conv12x32(&a[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &y[0], p.oh*p.ow, p.ow, &bias[0], rows, mask0, mask1)
	}
}

func convPoolTile(p *ConvPool, a, xp, y, bias []float32, rows, cols int) {
	if active < AVX512 {
		convPoolTileGo(p, a, xp, y, bias, rows, cols)
		return
	}
	// The furthest value the tile reads: the last depth's lower row.
	_ = xp[((p.c-1)*p.hp+p.kh-1+1)*p.wp+p.kw-1+15]
	_ = a[p.k*convRows-1]
	if rows <= 4 {
		convPool4x32(&a[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &y[0], p.ph*p.pw, &bias[0], rows, uint32(1)<<cols-1)
		return
	}
	if rows <= 8 {
		convPool8x32(&a[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &y[0], p.ph*p.pw, &bias[0], rows, uint32(1)<<cols-1)
		return
	}
	convPool12x32(&a[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &y[0], p.ph*p.pw, &bias[0], rows, uint32(1)<<cols-1)
}
