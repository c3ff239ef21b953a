package kernel

import "math"

// absMaxBitsGo is AbsMaxBits in Go: four running maxima keep the loop free
// of branches and of one long chain of dependences.
func absMaxBitsGo(x []float32) uint32 {
	const abs = 0x7fffffff
	var m0, m1, m2, m3 uint32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		m0 = max(m0, math.Float32bits(x[i])&abs)
		m1 = max(m1, math.Float32bits(x[i+1])&abs)
		m2 = max(m2, math.Float32bits(x[i+2])&abs)
		m3 = max(m3, math.Float32bits(x[i+3])&abs)
	}
	for ; i < len(x); i++ {
		m0 = max(m0, math.Float32bits(x[i])&abs)
	}
	return max(m0, m1, m2, m3)
}
