package graph

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// The threaded GELU loops give exactly the single-thread values on a
// length that splits unevenly, and write nothing past their range (a
// guard region after the output stays untouched).
func TestSplitElementsGELU(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: nothing is split")
	}
	const n, guard = 3*elementwiseGrain + 7, 16
	rng := rand.New(rand.NewPCG(1, 2))
	x, g := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], g[i] = float32(rng.NormFloat64()*3), float32(rng.NormFloat64())
	}
	run := func(threads int) (y, d []float32) {
		defer SetMaxThreads(SetMaxThreads(threads))
		y, d = make([]float32, n+guard), make([]float32, n+guard)
		for i := n; i < n+guard; i++ {
			y[i], d[i] = 42, 42
		}
		gelu32(new(geluSite), y[:n], x)
		geluBackward32(d[:n], x, g)
		return y, d
	}
	y1, d1 := run(1)
	y2, d2 := run(2)
	for i := range y1 {
		if y1[i] != y2[i] || d1[i] != d2[i] {
			t.Fatalf("element %d: forward %v vs %v, backward %v vs %v on 1 and 2 threads", i, y1[i], y2[i], d1[i], d2[i])
		}
		if i >= n && (y2[i] != 42 || d2[i] != 42) {
			t.Fatalf("guard element %d overwritten", i)
		}
	}
}

// The int8 products split over the threads SetMaxThreads allows, like
// the float32 ones.
func TestInt8ThreadsFollowSetMaxThreads(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: nothing is split")
	}
	const m, n, k = 64, 256, 256 // large enough to split
	if got := qthreads(m, n, k); got != runtime.GOMAXPROCS(0) {
		t.Fatalf("qthreads = %d with no limit, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
	defer SetMaxThreads(SetMaxThreads(1))
	if got := qthreads(m, n, k); got != 1 {
		t.Fatalf("qthreads = %d under SetMaxThreads(1), want 1", got)
	}
}
