package graph

import (
	"runtime"
	"sync/atomic"
)

// threadLimit caps the goroutines one kernel call splits its work over;
// 0 means GOMAXPROCS.
var threadLimit atomic.Int32

// SetMaxThreads caps the goroutines each kernel (product, convolution,
// pooling) splits one call over, for the whole process; n ≤ 0 restores
// the default, GOMAXPROCS. A server that runs one batch per core sets it
// to 1: its cores are already busy with separate batches, and a kernel's
// fork-join would only wait behind the server's other goroutines. It
// returns the previous setting.
func SetMaxThreads(n int) int {
	return int(threadLimit.Swap(int32(max(n, 0))))
}

// sideThreads is the number of goroutines a product may use when parts
// of the graph already run side by side (the two directions of a layer).
func sideThreads(sideBySide int) int { return max(1, maxThreads()/sideBySide) }

func maxThreads() int {
	if n := int(threadLimit.Load()); n > 0 {
		return min(n, runtime.GOMAXPROCS(0))
	}
	return runtime.GOMAXPROCS(0)
}

// elementwiseGrain is the fewest elements an elementwise loop hands to a
// goroutine: below it the fork-join costs more than the work (a GELU
// element is ~0.5 ns with AVX-512, ~1 ns with AVX2 and ~15 ns in Go, so a
// range is at least ~8 µs; a goroutine's start and join take a few µs).
const elementwiseGrain = 1 << 14

// splitElements runs f over contiguous ranges [from, to) covering [0, n),
// on up to maxThreads goroutines, each range at least elementwiseGrain
// long; the ranges are disjoint and start at multiples of 16, so an
// elementwise f gives the same result whatever the split, even one that
// takes whole vectors of 8 or 16 and the rest of its range one at a time
// (the vector kernels round differently from their Go tails).
func splitElements(n int, f func(from, to int)) {
	workers := elementWorkers(n)
	if workers == 1 {
		f(0, n)
		return
	}
	fork(workers, func(w int) {
		from, to := w*n/workers&^15, (w+1)*n/workers&^15
		if w == workers-1 {
			to = n
		}
		f(from, to)
	})
}

// elementWorkers is the number of ranges splitElements splits n elements
// into.
func elementWorkers(n int) int { return max(1, min(maxThreads(), n/elementwiseGrain)) }
