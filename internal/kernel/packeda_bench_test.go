package kernel

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// BenchmarkSgemmPackedAXt is the serving ConvNet's 8192→1024 layer at a
// batch of 32 as yᵀ = W·xᵀ: W in one row stripe per thread, streamed from
// memory (32 MB, larger than the caches), xᵀ packed by each thread a block
// at a time, as the serving graph runs it.
func BenchmarkSgemmPackedAXt(b *testing.B) {
	if !PackedAStreams() {
		b.Skip("no streaming packed product at this level")
	}
	const out, in, batch = 1024, 8192, 32
	rng := rand.New(rand.NewPCG(8192, 1024))
	w, x := randFloats(rng, out*in), randFloats(rng, batch*in)
	for _, threads := range []int{1, 2} {
		stripes := make([]PackedA, threads)
		ys, bufs := make([][]float32, threads), make([][]float32, threads)
		for t := range stripes {
			from, to := t*out/threads, (t+1)*out/threads
			stripes[t].Pack(w[from*in:], in, to-from, in)
			ys[t], bufs[t] = make([]float32, (to-from)*batch), make([]float32, PackedXtLen(batch))
		}
		b.Run(fmt.Sprintf("threads%d", threads), func(b *testing.B) {
			var wg sync.WaitGroup
			for b.Loop() {
				for t := 1; t < threads; t++ {
					wg.Go(func() { SgemmPackedAXt(&stripes[t], x, in, batch, bufs[t], ys[t], batch, true) })
				}
				SgemmPackedAXt(&stripes[0], x, in, batch, bufs[0], ys[0], batch, true)
				wg.Wait()
			}
			b.ReportMetric(2*float64(out*in*batch)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
