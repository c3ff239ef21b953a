package graph

import kern "github.com/tapeml/tapeml/internal/kernel"

// simdLevel is a set of vector instructions the kernels may use; each
// level includes the ones below it (internal/simd detects them and reads
// TAPEML_SIMD).
type simdLevel = kern.Level

const (
	simdGeneric = kern.Generic // pure Go (and gonum)
	simdAVX2    = kern.AVX2    // AVX2 and FMA: the 6×16 sgemm kernel, tanh and sigmoid
	simdAVX512  = kern.AVX512  // AVX-512 F, BW, DQ and VL: the 12×32 sgemm kernel
)

// simdSupported is the highest level the CPU, the OS and the build allow;
// simdActive is the one the kernels use, read once at start-up.
var (
	simdSupported = kern.Supported()
	simdActive    = kern.Active()
	hasFMA        = simdActive >= simdAVX2
	sgemmCur      = sgemmArchFor(simdActive)
)

// setSIMD switches the kernels (and internal/simd's) to level l, at most
// simdSupported, and returns a function that switches them back. Tests use
// it to run every path the CPU has in one process; it must not race with
// running kernels.
func setSIMD(l simdLevel) (restore func()) {
	old := simdActive
	restoreSIMD := kern.Set(l)
	apply := func(l simdLevel) {
		simdActive, hasFMA, sgemmCur = l, l >= simdAVX2, sgemmArchFor(l)
	}
	apply(l)
	return func() { restoreSIMD(); apply(old) }
}

// SIMD names the kernel path in use ("avx512", "avx2" or "generic") and
// the highest one this CPU and build support.
func SIMD() (active, supported string) { return simdActive.String(), simdSupported.String() }
