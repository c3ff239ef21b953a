package par

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fork runs every part exactly once and returns only when all are done,
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
				Fork(n, func(i int) {
					if r%3 == 0 {
						time.Sleep(20 * time.Microsecond) // parts that outlast the caller's
					}
					counts[i].Add(1)
					if i == 0 && r%7 == 0 { // a nested fork
						Fork(3, func(int) { inner.Add(1) })
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
	Fork(0, func(int) { t.Error("Fork(0) ran a part") })
}

// A Hold keeps the helpers polling through pauses far longer than
// helperSpin, and once released they fall asleep again.
func TestHoldKeepsHelpersAwake(t *testing.T) {
	boxes := helperBoxes(2)
	if len(boxes) == 0 {
		t.Skip("GOMAXPROCS is 1: no helpers")
	}
	asleep := func() bool { return boxes[0].sleep.Load() }
	waitFor := func(what string, cond func() bool) {
		for start := time.Now(); !cond(); time.Sleep(100 * time.Microsecond) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("the helper %s within 5 s", what)
			}
		}
	}
	waitFor("never fell asleep without a hold", asleep)
	release := Hold()
	waitFor("did not wake for the hold", func() bool { return !asleep() })
	for range 20 {
		time.Sleep(5 * helperSpin)
		if asleep() {
			release()
			t.Fatal("the helper fell asleep during a hold")
		}
		var ran atomic.Int32
		Fork(2, func(int) { ran.Add(1) })
		if ran.Load() != 2 {
			t.Fatalf("a fork during the hold ran %d parts of 2", ran.Load())
		}
	}
	release()
	waitFor("stayed awake after the hold's release", asleep)
}
