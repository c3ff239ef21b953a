package bench

import (
	"sync"
	"time"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// SgemmPeak is the machine's sgemm peak as the report measures it
// (Machine.SgemmGFLOPs): tapeml's float32 product at 1024² on threads, the
// best of 10 rounds, in GFLOP/s. tools/inferbench sets inference against it.
func SgemmPeak(threads int) float64 { return sgemmPeak(threads, peakSize, 10) }

// FMAPeak is the machine's arithmetic limit (Machine.FMAGFLOPs): the
// active kernel level's widest multiply-add on registers only
// (kernel.FMARounds), on threads goroutines at once, the best of 5 rounds
// of about 20 ms, in GFLOP/s; 0 when the level has no vector multiply-add.
// The sgemm peak is a fraction of it (packing, loads, edges); no model can
// exceed it.
func FMAPeak(threads int) float64 {
	const rounds = 200_000 // ≈ 20 ms at 3.5 GHz with two pipes
	threads = max(threads, 1)
	best := 0.0
	for range 5 {
		var wg sync.WaitGroup
		flops := make([]float64, threads)
		start := time.Now()
		for i := range threads {
			wg.Go(func() { flops[i] = kern.FMARounds(rounds) })
		}
		wg.Wait()
		el := time.Since(start).Seconds()
		sum := 0.0
		for _, f := range flops {
			sum += f
		}
		best = max(best, sum/el/1e9)
	}
	return best
}
