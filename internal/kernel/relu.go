package kernel

// ReLU sets dst[i] = max(src[i], 0) with Go's max: −0 gives +0 and NaN
// stays NaN (src at least as long as dst). Every level gives the same bits.
func ReLU(dst, src []float32) {
	src = src[:len(dst)]
	for i := relu(dst, src); i < len(dst); i++ {
		dst[i] = max(src[i], 0)
	}
}

// ReLUGrad sets d[i] = g[i] where x[i] > 0 and +0 elsewhere (NaN
// included): ReLU's gradient. x and g are at least as long as d. Every
// level gives the same bits.
func ReLUGrad(d, x, g []float32) {
	x, g = x[:len(d)], g[:len(d)]
	for i := reluGrad(d, x, g); i < len(d); i++ {
		if x[i] > 0 {
			d[i] = g[i]
		} else {
			d[i] = 0
		}
	}
}

// Fill sets every element of dst to v.
func Fill(dst []float32, v float32) {
	for i := fill(dst, v); i < len(dst); i++ {
		dst[i] = v
	}
}
