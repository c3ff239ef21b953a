package kernel

// AddTo sets dst += src (src at least as long as dst): whole vectors
// through SGD's loop with a step of 1, since fma(1, s, d) is d + s rounded
// once, as Go rounds it; the rest in Go. Every level gives the same bits.
func AddTo(dst, src []float32) {
	done := SGD(dst, src, 1)
	for i := done; i < len(dst); i++ {
		dst[i] += src[i]
	}
}
