//go:build amd64 && !purego

package kernel

// The vector loops below handle a prefix of whole vectors and return its
// length; the exported functions finish the rest in Go.

func relu(dst, src []float32) int {
	l := lanes()
	if l == 0 || len(dst) < l {
		return 0
	}
	n := len(dst) &^ (l - 1)
	if l == 16 {
		reluAVX512(&dst[0], &src[0], n)
	} else {
		reluAVX2(&dst[0], &src[0], n)
	}
	return n
}

func reluGrad(d, x, g []float32) int {
	l := lanes()
	if l == 0 || len(d) < l {
		return 0
	}
	n := len(d) &^ (l - 1)
	if l == 16 {
		reluGradAVX512(&d[0], &x[0], &g[0], n)
	} else {
		reluGradAVX2(&d[0], &x[0], &g[0], n)
	}
	return n
}

func fill(dst []float32, v float32) int {
	l := lanes()
	if l == 0 || len(dst) < l {
		return 0
	}
	n := len(dst) &^ (l - 1)
	if l == 16 {
		fillAVX512(&dst[0], n, v)
	} else {
		fillAVX2(&dst[0], n, v)
	}
	return n
}

//go:noescape
func reluAVX2(dst, src *float32, n int)

//go:noescape
func reluAVX512(dst, src *float32, n int)

//go:noescape
func reluGradAVX2(d, x, grad *float32, n int)

//go:noescape
func reluGradAVX512(d, x, grad *float32, n int)

//go:noescape
func fillAVX2(dst *float32, n int, v float32)

//go:noescape
func fillAVX512(dst *float32, n int, v float32)
