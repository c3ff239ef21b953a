package checkpoint

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadWhileTraining reads a run's best and latest checkpoints while a
// training saves epochs into it, rotating with Keep 1 and moving the best
// every other epoch: no read may fail or see a mixed checkpoint.
func TestReadWhileTraining(t *testing.T) {
	d := Dir{Root: t.TempDir(), Keep: 1}
	if _, err := d.Save(sample(1, false), 1, true); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	for _, pick := range []Pick{PickBest, PickLatest} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				c, err := Open(d.Root, pick)
				if err != nil {
					t.Errorf("pick %d: %v", pick, err)
					return
				}
				// sample(e) stores e in fc.weight's last value and in the
				// meta: a mixed read would disagree.
				w, _ := c.Weights[0].Float32s()
				if int(w[5]) != c.Meta.Epoch {
					t.Errorf("pick %d: meta says epoch %d, weights say %v", pick, c.Meta.Epoch, w[5])
					return
				}
				reads.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	epoch := 2
	for ; time.Now().Before(deadline); epoch++ {
		if _, err := d.Save(sample(epoch, false), epoch, epoch%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d saves, %d reads", epoch-2, reads.Load())
}
