package graph

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Kernels fork work over helper goroutines that stay awake (spinning) for
// a short while after each task, instead of a fresh goroutine per part.
//
// At batch 1 a transformer's products take 10–100 µs each and a forward
// pass forks about ten times. Waking a sleeping thread costs a futex call
// and, on a virtual machine, an idle vCPU's wake-up: the same order as
// the work, so two threads were slower than one on a loaded machine. Here
// the parts are claimed from a shared counter: the caller runs parts
// itself until none is left and only waits for parts a helper has already
// started, so a helper that is slow to wake costs nothing but its share.
// Which goroutine runs a part never changes what the part computes, so
// the results are the same bits whoever runs it.

// helperSpin is how long an idle helper keeps polling for work before it
// sleeps: longer than the gaps between a forward pass's forks (a
// LayerNorm, a softmax), short enough that an idle server does not burn a
// core for long (at most this much CPU per helper after each fork).
const helperSpin = 100 * time.Microsecond

// forkJob is one fork's parts, claimed by index.
type forkJob struct {
	f    func(i int)
	n    int32
	next atomic.Int32 // next part to claim
	done atomic.Int32 // parts finished
}

// claim runs parts until none is left.
func (j *forkJob) claim() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.f(int(i))
		j.done.Add(1)
	}
}

// helpers are the process's helper goroutines, started on first use, one
// fewer than the largest fork seen so far.
var helpers struct {
	mu   sync.Mutex
	jobs []chan *forkJob
}

// helperJobs returns at least n−1 helpers' job queues (fewer only when n
// exceeds GOMAXPROCS, where extra helpers would only wait for a P).
func helperJobs(n int) []chan *forkJob {
	n = min(n, runtime.GOMAXPROCS(0)) - 1
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	for len(helpers.jobs) < n {
		ch := make(chan *forkJob, 1)
		helpers.jobs = append(helpers.jobs, ch)
		go helper(ch)
	}
	return helpers.jobs[:max(n, 0)]
}

// helper runs the jobs sent to it; between jobs it polls its queue for
// helperSpin before it blocks on it.
func helper(jobs chan *forkJob) {
	for {
		var j *forkJob
		select {
		case j = <-jobs:
		default:
			j = spinFor(jobs)
		}
		j.claim()
	}
}

// spinFor polls jobs for helperSpin, then blocks until a job comes.
func spinFor(jobs chan *forkJob) *forkJob {
	start := time.Now()
	for i := 1; ; i++ {
		select {
		case j := <-jobs:
			return j
		default:
		}
		if i%64 == 0 && time.Since(start) > helperSpin {
			return <-jobs
		}
	}
}

// fork calls f(0), …, f(n−1) concurrently and returns when all are done;
// the caller runs parts itself (see above).
func fork(n int, f func(i int)) {
	if n <= 1 {
		if n == 1 {
			f(0)
		}
		return
	}
	j := &forkJob{f: f, n: int32(n)}
	for _, ch := range helperJobs(n) {
		select {
		case ch <- j:
		default: // busy with another fork's job: the caller takes its share
		}
	}
	j.claim()
	// The parts still running were started by a helper, which is awake.
	for i := 1; j.done.Load() < j.n; i++ {
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
}
