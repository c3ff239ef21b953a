package graph

import (
	"sync"
	"sync/atomic"
	"testing"
)

// coverCall counts, per element of a range, the parts that covered it,
// and checks each part's range.
type coverCall struct {
	t      *testing.T
	counts []atomic.Int32
	parts  []atomic.Int32 // runs of each part index
	align  bool
	nested *forkSite[coverCall, *coverCall] // forks again from part 0, when set
	inner  *coverCall
}

func (c *coverCall) part(i, from, to int) {
	c.parts[i].Add(1)
	if c.align && from%16 != 0 {
		c.t.Errorf("part %d starts at %d, not a multiple of 16", i, from)
	}
	for e := from; e < to; e++ {
		c.counts[e].Add(1)
	}
	if i == 0 && c.nested != nil {
		c.nested.fork(len(c.inner.parts), *c.inner)
	}
}

// A forkSite's parts cover its range exactly once, under the split
// fork, chunks and elements make, whoever runs them: many goroutines, each
// with its sites reused round after round (and the fork jobs with them),
// some forking again from inside a part, some waiting asleep; and a warm
// site forks without allocating.
func TestForkSiteCoversOnce(t *testing.T) {
	defer SetMaxThreads(SetMaxThreads(0))
	const callers, rounds = 6, 150
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			var site, nested forkSite[coverCall, *coverCall]
			for r := range rounds {
				total := []int{0, 1, 5, 17, 64, 1000, 3*elementwiseGrain + 5}[(c+r)%7]
				mode := (c + r) % 3
				var n int
				switch mode {
				case 0:
					n = 1 + r%5
					total = n
				case 1:
					n = workers(total)
				case 2:
					n = elementWorkers(total)
				}
				call := coverCall{t: t, counts: make([]atomic.Int32, total), parts: make([]atomic.Int32, n), align: mode == 2}
				inner := coverCall{t: t, counts: make([]atomic.Int32, 3), parts: make([]atomic.Int32, 3)}
				if r%4 == 0 {
					call.nested, call.inner = &nested, &inner
				}
				site.sleep = r%2 == 1 // the caller sleeps, not polls, for the helpers' parts
				switch mode {
				case 0:
					site.fork(n, call)
				case 1:
					site.chunks(total, call)
				case 2:
					site.elements(total, call)
				}
				for i := range call.parts {
					if got := call.parts[i].Load(); got != 1 {
						t.Errorf("caller %d round %d: part %d of %d ran %d times", c, r, i, n, got)
						return
					}
				}
				for e := range call.counts {
					if got := call.counts[e].Load(); got != 1 {
						t.Errorf("caller %d round %d (mode %d): element %d of %d covered %d times", c, r, mode, e, total, got)
						return
					}
				}
				if call.nested != nil && total > 0 {
					for e := range inner.counts {
						if got := inner.counts[e].Load(); got != 1 {
							t.Errorf("caller %d round %d: nested part %d ran %d times", c, r, e, got)
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()

	var site forkSite[coverCall, *coverCall]
	call := coverCall{t: t, counts: make([]atomic.Int32, 64), parts: make([]atomic.Int32, 4)}
	site.fork(4, call) // warm: the site's function, a job
	for _, sleep := range []bool{false, true} {
		site.sleep = sleep
		if allocs := testing.AllocsPerRun(100, func() { site.chunks(64, call) }); allocs != 0 {
			t.Errorf("a warm forkSite (sleep %v) allocates %v times per fork", sleep, allocs)
		}
	}
}
