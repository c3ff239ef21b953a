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
