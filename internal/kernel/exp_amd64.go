//go:build amd64 && !purego

package kernel

// expAVX512 writes e^x of the first n values of src (n a multiple of 16)
// to dst, sixteen at a time.
//
//go:noescape
func expAVX512(dst, src *float32, n int)

// Exp writes Exp32(src) to dst (as long as src; dst may be src): whole
// vectors of sixteen with AVX-512 (within 2 ulps of e^x like Exp32, but
// not always its bits; subnormal results where Exp32 gives 0), the rest,
// and every value at lower levels, with Exp32.
func Exp(dst, src []float32) {
	n := 0
	if active >= AVX512 {
		if n = len(src) &^ 15; n > 0 {
			expAVX512(&dst[0], &src[0], n)
		}
	}
	for i, v := range src[n:] {
		dst[n+i] = Exp32(v)
	}
}
