//go:build amd64 && !purego

package graph

// detectSIMD is the highest level the CPU and the OS support: AVX2 with
// FMA, and AVX-512 F, BW, DQ and VL with the OS saving the ZMM and opmask
// state.
func detectSIMD() simdLevel {
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&fma == 0 || ecx1&osxsave == 0 || ecx1&avx == 0 {
		return simdGeneric
	}
	xcr0, _ := xgetbv()
	if xcr0&6 != 6 { // the OS saves XMM and YMM state
		return simdGeneric
	}
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return simdGeneric
	}
	_, ebx7, _, _ := cpuid(7, 0)
	if ebx7&(1<<5) == 0 { // AVX2
		return simdGeneric
	}
	const avx512f, avx512dq, avx512bw, avx512vl = 1 << 16, 1 << 17, 1 << 30, 1 << 31
	const want = avx512f | avx512dq | avx512bw | avx512vl
	if ebx7&want != want || xcr0&0xe6 != 0xe6 { // opmask, ZMM0–15 upper halves, ZMM16–31
		return simdAVX2
	}
	return simdAVX512
}

// cpuid executes CPUID with the given leaf and sub-leaf.
//
//go:noescape
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register 0.
//
//go:noescape
func xgetbv() (eax, edx uint32)

// sgemmKernel6x16 writes to c (a 6×16 row-major tile) the product of a
// packed A panel (k depths of 6 values) and a packed B panel (k depths of
// 16 values): c[i][j] = Σ_p a[6p+i]·b[16p+j].
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32)

// sgemmKernel6x16Add is sgemmKernel6x16 adding alpha times the tile to the
// 6×16 block of C at c, whose rows are ldc floats apart.
//
//go:noescape
func sgemmKernel6x16Add(k int, a, b, c *float32, ldc int, alpha float32)

// tanhAVX writes tanh32 of the first n&^7 values of src to dst, eight at
// a time.
//
//go:noescape
func tanhAVX(dst, src *float32, n int)

// sigmoidAVX is tanhAVX for sigmoid32.
//
//go:noescape
func sigmoidAVX(dst, src *float32, n int)

// sgemmKernel12x32 adds alpha times the product of a packed A panel (k
// depths of 12 values) and a packed B panel (k depths of 32 values) to the
// first rows (1–12) rows and the columns set in mask0 (columns 0–15) and
// mask1 (16–31) of the block of C at c, whose rows are ldc floats apart.
// It reads and writes nothing of C outside them.
//
//go:noescape
func sgemmKernel12x32(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32)

// tanh32s writes tanh32(src) to dst (as long as src).
func tanh32s(dst, src []float32) {
	n := len(src) &^ 7
	if hasFMA && n > 0 {
		tanhAVX(&dst[0], &src[0], n)
	} else {
		n = 0
	}
	for i, v := range src[n:] {
		dst[n+i] = tanh32(v)
	}
}

// sigmoid32s writes sigmoid32(src) to dst (as long as src).
func sigmoid32s(dst, src []float32) {
	n := len(src) &^ 7
	if hasFMA && n > 0 {
		sigmoidAVX(&dst[0], &src[0], n)
	} else {
		n = 0
	}
	for i, v := range src[n:] {
		dst[n+i] = sigmoid32(v)
	}
}
