package graph

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Kernels fork work over long-lived helper goroutines that claim parts
// from a shared counter, instead of a fresh goroutine per part.
//
// At batch 1 a transformer's products take 10–100 µs each and a forward
// pass forks about ten times. Waking a sleeping thread costs a futex call
// and, on a virtual machine, an idle vCPU's wake-up: the same order as
// the work, so two threads were slower than one on a loaded machine. Here
// the caller runs parts itself until none is left and only waits for
// parts a helper has already started, so a helper that is slow to wake
// costs nothing but its share. Which goroutine runs a part never changes
// what the part computes, so the results are the same bits whoever runs
// it. The helpers sleep between jobs: keeping them spinning for 100 µs
// after each job made batch 1 slower on a loaded machine (see the
// README's transformer figures).

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

// helper runs the jobs sent to it.
func helper(jobs chan *forkJob) {
	for j := range jobs {
		j.claim()
	}
}

// fork calls f(0), …, f(n−1) concurrently and returns when all are done;
// the caller runs parts itself (see above). Parts may fork in turn.
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
