package graph

import (
	"fmt"
	"os"
	"strings"
)

// simdLevel is a set of vector instructions the kernels may use; each
// level includes the ones below it.
type simdLevel int

const (
	simdGeneric simdLevel = iota // pure Go (and gonum)
	simdAVX2                     // AVX2 and FMA: the 6×16 sgemm kernel, tanh and sigmoid
	simdAVX512                   // AVX-512 F, BW, DQ and VL: the 12×32 sgemm kernel
)

var simdNames = [...]string{simdGeneric: "generic", simdAVX2: "avx2", simdAVX512: "avx512"}

func (l simdLevel) String() string { return simdNames[l] }

// simdEnv is the environment variable that forces a kernel path.
const simdEnv = "TAPEML_SIMD"

// simdSupported is the highest level the CPU, the OS and the build allow;
// simdActive is the one the kernels use, read once at start-up.
var (
	simdSupported = detectSIMD()
	simdActive    = chooseSIMD(os.Getenv(simdEnv), simdSupported)
	hasFMA        = simdActive >= simdAVX2
	sgemmCur      = sgemmArchFor(simdActive)
)

// chooseSIMD is the level named by the value of TAPEML_SIMD, capped at
// what is supported; empty means the highest supported. A value that names
// no level, or a level that is not supported, is reported on standard
// error once: the process still runs, on the highest supported level.
func chooseSIMD(env string, supported simdLevel) simdLevel {
	env = strings.ToLower(strings.TrimSpace(env))
	if env == "" {
		return supported
	}
	for l, name := range simdNames {
		if env != name {
			continue
		}
		if simdLevel(l) > supported {
			fmt.Fprintf(os.Stderr, "tapeml: %s=%s is not supported by this CPU or build; using %s\n", simdEnv, env, supported)
			return supported
		}
		return simdLevel(l)
	}
	fmt.Fprintf(os.Stderr, "tapeml: %s=%q is not one of avx512, avx2, generic; using %s\n", simdEnv, env, supported)
	return supported
}

// setSIMD switches the kernels to level l (at most simdSupported) and
// returns a function that switches them back. Tests use it to run every
// path the CPU has in one process; it must not race with running kernels.
func setSIMD(l simdLevel) (restore func()) {
	if l > simdSupported {
		panic(fmt.Sprintf("graph: SIMD level %s is not supported (at most %s)", l, simdSupported))
	}
	old := simdActive
	apply := func(l simdLevel) {
		simdActive, hasFMA, sgemmCur = l, l >= simdAVX2, sgemmArchFor(l)
	}
	apply(l)
	return func() { apply(old) }
}

// SIMD names the kernel path in use ("avx512", "avx2" or "generic") and
// the highest one this CPU and build support.
func SIMD() (active, supported string) { return simdActive.String(), simdSupported.String() }
