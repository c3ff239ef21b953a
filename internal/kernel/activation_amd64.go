//go:build amd64 && !purego

package kernel

// tanhAVX writes tanh32 of the first n&^7 values of src to dst, eight at
// a time.
//
//go:noescape
func tanhAVX(dst, src *float32, n int)

// sigmoidAVX is tanhAVX for sigmoid32.
//
//go:noescape
func sigmoidAVX(dst, src *float32, n int)

// tanhAVX512 is tanhAVX sixteen at a time (n a multiple of 16).
//
//go:noescape
func tanhAVX512(dst, src *float32, n int)

// sigmoidAVX512 is sigmoidAVX sixteen at a time (n a multiple of 16).
//
//go:noescape
func sigmoidAVX512(dst, src *float32, n int)

// Tanh writes tanh32(src) to dst (as long as src; dst may be src): whole
// vectors with the active level's instructions, the rest in Go.
func Tanh(dst, src []float32) {
	n := 0
	if active >= AVX512 {
		if n = len(src) &^ 15; n > 0 {
			tanhAVX512(&dst[0], &src[0], n)
		}
	}
	if m := len(src) &^ 7; active >= AVX2 && m > n {
		tanhAVX(&dst[n], &src[n], m-n)
		n = m
	}
	for i, v := range src[n:] {
		dst[n+i] = tanh32(v)
	}
}

// Sigmoid is Tanh for sigmoid32.
func Sigmoid(dst, src []float32) {
	n := 0
	if active >= AVX512 {
		if n = len(src) &^ 15; n > 0 {
			sigmoidAVX512(&dst[0], &src[0], n)
		}
	}
	if m := len(src) &^ 7; active >= AVX2 && m > n {
		sigmoidAVX(&dst[n], &src[n], m-n)
		n = m
	}
	for i, v := range src[n:] {
		dst[n+i] = sigmoid32(v)
	}
}
