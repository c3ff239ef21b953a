package graph

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fork runs every part exactly once and returns only when all are done,
// whether the helpers are awake, asleep or busy with other forks: many
// goroutines fork at once, some from inside a part, some after a pause
// long enough for the helpers to sleep, some with parts slower than the
// caller's own.
func TestForkRunsEveryPartOnce(t *testing.T) {
	const callers, rounds = 8, 200
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for r := range rounds {
				n := 1 + (c+r)%5
				counts := make([]atomic.Int32, n)
				var inner atomic.Int32
				fork(n, func(i int) {
					if r%3 == 0 {
						time.Sleep(20 * time.Microsecond) // parts that outlast the caller's
					}
					counts[i].Add(1)
					if i == 0 && r%7 == 0 { // a nested fork
						fork(3, func(int) { inner.Add(1) })
					}
				})
				for i := range counts {
					if got := counts[i].Load(); got != 1 {
						t.Errorf("caller %d round %d: part %d of %d ran %d times", c, r, i, n, got)
						return
					}
				}
				if want := int32(0); r%7 == 0 {
					want = 3
					if got := inner.Load(); got != want {
						t.Errorf("caller %d round %d: nested fork ran %d parts, want %d", c, r, got, want)
						return
					}
				}
				if r%50 == 0 {
					time.Sleep(time.Millisecond) // let the helpers fall asleep
				}
			}
		})
	}
	wg.Wait()
	fork(0, func(int) { t.Error("fork(0) ran a part") })
}
