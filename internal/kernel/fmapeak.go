package kernel

// The FMA peak is the machine's arithmetic limit: the active level's
// widest multiply-add issued back to back on registers, with no memory
// operand, enough independent chains to cover the instruction's latency.
// No product can run faster; benchmarks set the sgemm and whole models
// against it to show how much of the machine's arithmetic they use.

// fmaChains is the number of independent accumulators in the peak loops:
// two pipes × four cycles of latency needs eight; twelve leaves headroom
// for CPUs with longer latency.
const fmaChains = 12

// FMARounds runs n rounds of fmaChains multiply-adds of the active level's
// widest vectors (16 float32 lanes with AVX-512, 8 with AVX2) from the
// calling goroutine and returns the floating-point operations done (a
// multiply-add counts two). It returns 0 at the Generic level, whose Go
// loops have no vector multiply-add to measure.
func FMARounds(n int) float64 {
	lanes := fmaRounds(n)
	return 2 * float64(fmaChains) * float64(lanes) * float64(max(n, 0))
}
