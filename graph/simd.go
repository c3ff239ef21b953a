package graph

import kern "github.com/tapeml/tapeml/internal/kernel"

// QGemmPath names the int8 kernel in use ("avx512vnni", "avx2" or
// "generic").
func QGemmPath() string { return kern.QGemmArch().Name() }

// SIMD names the kernel path in use ("avx512", "avx2" or "generic") and
// the highest one this CPU and build support.
func SIMD() (active, supported string) { return kern.Active().String(), kern.Supported().String() }
