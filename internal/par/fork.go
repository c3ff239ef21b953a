package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Kernels fork work over long-lived helper goroutines that claim parts
// from a shared counter, instead of a fresh goroutine per part.
//
// At batch 1 a transformer's products take 10–100 µs each and a forward
// pass forks about ten times. Waking a sleeping thread costs a futex call
// and, on a virtual machine, an idle vCPU's wake-up: the same order as
// the work, or far more (on a 2-vCPU virtual machine, 60% of a ConvNet
// training step's wakes took 0.1 ms or more). A fresh goroutine per part
// is worse: it
// is queued behind the forking goroutine on the forker's processor until
// an idle one steals it. Between jobs the helpers poll for a while, then
// sleep (helperBox); Hold keeps them polling through a longer run of
// forks.
//
// A fork allocates nothing once warm: its job comes from a free list
// (jobs), and a kernel that hands Fork a function built once allocates
// nothing per call.

// forkJob is one fork's parts, claimed by index. A job is held by the
// forking goroutine and by each helper it was sent to, and goes back to
// the free list when the last of them lets go: a helper that receives a
// job late, after the fork returned, finds its parts all claimed, never a
// later fork's.
type forkJob struct {
	f     func(i int)
	n     int32
	sleep bool          // the forking goroutine sleeps until the parts are done
	wake  chan struct{} // with sleep: the last part to finish sends one token
	next  atomic.Int32  // next part to claim
	done  atomic.Int32  // parts finished
	refs  atomic.Int32  // holders
	free  *forkJob      // the next job on the free list
}

// jobs is the free list of fork jobs. Unlike a sync.Pool's, its jobs
// survive garbage collections: a warm server forks without allocating.
var jobs struct {
	mu   sync.Mutex
	free *forkJob
}

// newJob returns a job of n parts running f, held once (by the caller).
func newJob(n int, f func(i int), sleep bool) *forkJob {
	jobs.mu.Lock()
	j := jobs.free
	if j != nil {
		jobs.free, j.free = j.free, nil
	}
	jobs.mu.Unlock()
	if j == nil {
		j = &forkJob{wake: make(chan struct{}, 1)}
	}
	j.f, j.n, j.sleep = f, int32(n), sleep
	j.next.Store(0)
	j.done.Store(0)
	j.refs.Store(1)
	return j
}

// release lets go of one hold on j, returning it to the free list with
// the last.
func (j *forkJob) release() {
	if j.refs.Add(-1) != 0 {
		return
	}
	j.f = nil // not kept alive by an idle job
	jobs.mu.Lock()
	j.free, jobs.free = jobs.free, j
	jobs.mu.Unlock()
}

// claim runs parts until none is left.
func (j *forkJob) claim() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.f(int(i))
		if j.done.Add(1) == j.n && j.sleep {
			j.wake <- struct{}{} // one token per job: the buffer has room
		}
	}
}

// helpers are the process's helper goroutines, started on first use, one
// fewer than the largest fork seen so far.
var helpers struct {
	mu    sync.Mutex
	boxes []*helperBox
}

// holds counts the Holds not yet released; released is when the last one
// was (UnixNano), from which the helpers poll helperSpin more: the next
// training step, which holds again, usually starts within it.
var (
	holds    atomic.Int32
	released atomic.Int64
)

// A helperBox hands one helper its jobs. After a job the helper polls
// the box for helperSpin (or while a Hold lasts) before it sleeps: the
// forks of one forward pass follow each other within microseconds, and a
// sleeping helper woke too late for most of them (a ConvNet image at
// batch 1 forks four times; its helper, woken for each, ran 27% of the
// parts instead of half, so two cores were barely faster than one). ONNX
// Runtime's and OpenMP's thread pools spin after a job in the same way.
// The cost is up to helperSpin of a core after each burst of forks, which
// a loaded machine feels: 100 µs of polling made a transformer's batch 1
// slower at load 6 (README).
type helperBox struct {
	job   atomic.Pointer[forkJob]
	sleep atomic.Bool   // the helper is asleep, or about to be, on wake
	wake  chan struct{} // a token wakes the helper; one buffered
}

// helperSpin is how long a helper polls its box for the next job before
// it sleeps, outside a Hold.
const helperSpin = 50 * time.Microsecond

// helperBoxes returns at least n−1 helpers' boxes (fewer only when n
// exceeds GOMAXPROCS, where extra helpers would only wait for a P).
func helperBoxes(n int) []*helperBox {
	n = min(n, runtime.GOMAXPROCS(0)) - 1
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	for len(helpers.boxes) < n {
		h := &helperBox{wake: make(chan struct{}, 1)}
		helpers.boxes = append(helpers.boxes, h)
		go h.run()
	}
	return helpers.boxes[:max(n, 0)]
}

// offer puts j in the box unless it holds another job (its helper has
// not taken that one yet: the caller takes this one's share), and wakes
// a sleeping helper. It reports whether the box took j.
func (h *helperBox) offer(j *forkJob) bool {
	if !h.job.CompareAndSwap(nil, j) {
		return false
	}
	// Both sides store, then load the other's flag (sequentially
	// consistent atomics): either the helper sees the job before it
	// sleeps, or this sees it asleep and sends the token.
	if h.sleep.Load() {
		h.nudge()
	}
	return true
}

// nudge wakes the helper if it sleeps; a stale token only makes it poll
// its box once more before sleeping again.
func (h *helperBox) nudge() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// run runs the jobs put in the box.
func (h *helperBox) run() {
	for {
		j := h.next()
		j.claim()
		j.release()
	}
}

// next waits for a job: polling for helperSpin, while a Hold lasts and
// for helperSpin after the last Hold's release, then asleep.
func (h *helperBox) next() *forkJob {
	for {
		start := time.Now()
		for i := 1; ; i++ {
			if h.job.Load() != nil {
				return h.job.Swap(nil)
			}
			if i%256 == 0 {
				if holds.Load() == 0 && time.Since(start) > helperSpin && time.Now().UnixNano()-released.Load() > int64(helperSpin) {
					break
				}
				runtime.Gosched() // the P's other goroutines go first
			}
		}
		h.sleep.Store(true)
		if j := h.job.Swap(nil); j != nil {
			h.sleep.Store(false)
			return j
		}
		<-h.wake
		h.sleep.Store(false)
	}
}

// Wake starts the helpers a fork over threads parts would use polling for
// jobs, so that the forks about to come find them awake: a sleeping
// helper takes tens of microseconds to wake, about a batch-1
// convolution's time.
func Wake(threads int) {
	for _, h := range helperBoxes(threads) {
		if h.sleep.Load() {
			h.nudge()
		}
	}
}

// Hold keeps the helpers polling for jobs, without sleeping, until the
// returned release is called; it wakes those asleep. It is for a run of
// forks with serial stretches between them longer than a helper polls,
// such as a training step: without it a ConvNet step's helper slept
// through eight of its nineteen forks, and the input gradient of its
// largest layer ran on one core. It starts no helper: those the forks
// have started (as many as their thread count asks) are the ones held.
// Holds nest; release must be called once.
func Hold() (release func()) {
	holds.Add(1)
	helpers.mu.Lock()
	for _, h := range helpers.boxes {
		if h.sleep.Load() {
			h.nudge()
		}
	}
	helpers.mu.Unlock()
	return func() {
		released.Store(time.Now().UnixNano())
		holds.Add(-1)
	}
}

// Fork calls f(0), …, f(n−1) concurrently and returns when all are done;
// the caller runs parts itself (see above), then polls for the parts
// helpers started. Parts may fork in turn. A closure built for the call
// escapes to the heap: a kernel that must not allocate passes a function
// built once.
func Fork(n int, f func(i int)) { fork(n, f, false) }

// ForkSleeping is Fork, but the caller, out of parts, sleeps until the
// helpers' parts are done instead of polling: for parts of a millisecond
// or more (an LSTM's two directions), where polling would hold a core
// that a helper may need on a loaded machine.
func ForkSleeping(n int, f func(i int)) { fork(n, f, true) }

func fork(n int, f func(i int), sleep bool) {
	if n <= 1 {
		if n == 1 {
			f(0)
		}
		return
	}
	j := newJob(n, f, sleep)
	for _, h := range helperBoxes(n) {
		j.refs.Add(1)
		if !h.offer(j) { // the helper has another fork's job: the caller takes its share
			j.refs.Add(-1)
		}
	}
	j.claim()
	if sleep {
		<-j.wake
		j.release()
		return
	}
	// The parts still running were started by a helper, which is awake.
	for i := 1; j.done.Load() < j.n; i++ {
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
	j.release()
}
