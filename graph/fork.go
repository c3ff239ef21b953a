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
//
// A fork allocates nothing once warm: its job comes from a free list
// (jobs), and a serving kernel hands fork a function built once
// (forkSite) rather than a closure that would escape to the heap on
// every call.

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
		j.release()
	}
}

// fork calls f(0), …, f(n−1) concurrently and returns when all are done;
// the caller runs parts itself (see above). Parts may fork in turn. f
// escapes: a closure built for the call is allocated on every call (a
// serving kernel forks through a forkSite instead).
func fork(n int, f func(i int)) { forkWith(n, f, false) }

// forkWith is fork; with sleep, the caller, out of parts, sleeps until
// the helpers' parts are done instead of polling: for parts of a
// millisecond or more (an LSTM's two directions), where polling would
// hold a core that a helper may need on a loaded machine.
func forkWith(n int, f func(i int), sleep bool) {
	if n <= 1 {
		if n == 1 {
			f(0)
		}
		return
	}
	j := newJob(n, f, sleep)
	for _, ch := range helperJobs(n) {
		j.refs.Add(1)
		select {
		case ch <- j:
		default: // busy with another fork's job: the caller takes its share
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

// A forkSite is one fork call site of a kernel, made allocation-free: the
// call's arguments are copied into the site, whose function for the
// helpers is built once, on its first fork, so that no closure escapes per
// call. The arguments' type A says what a part does: its pointer type P
// has part(i, from, to), part i of the call's range [from, to). (A func
// literal would not do: in a generic kernel it captures the type's
// dictionary, so it is allocated at every call even when it captures
// nothing else.)
//
// A site belongs to one kernel of one machine, which runs on one
// goroutine at a time; parts that run side by side and fork in turn each
// need a site of their own.
type forkSite[A any, P interface {
	*A
	part(i, from, to int)
}] struct {
	args     A
	n, total int  // parts, and the range [0, total) they split
	align    bool // ranges start at multiples of 16 (elements)
	run      func(i int)
	// sleep makes the site's forks wait for the helpers' parts asleep
	// (forkWith): for parts of a millisecond or more.
	sleep bool
}

// part runs part i of the site's current call.
func (s *forkSite[A, P]) part(i int) {
	from, to := i*s.total/s.n, (i+1)*s.total/s.n
	if s.align {
		from, to = from&^15, to&^15
		if i == s.n-1 {
			to = s.total
		}
	}
	P(&s.args).part(i, from, to)
}

// split runs n parts over [0, total) with args, concurrently, and returns
// when all are done.
func (s *forkSite[A, P]) split(n, total int, align bool, args A) {
	if s.run == nil {
		s.run = s.part
	}
	s.args, s.n, s.total, s.align = args, n, total, align
	forkWith(n, s.run, s.sleep)
	var zero A
	s.args = zero // let go of the call's buffers
}

// fork is fork(n, f) with f(i) = args.part(i, i, i+1).
func (s *forkSite[A, P]) fork(n int, args A) { s.split(n, n, false, args) }

// chunks is inChunks(total, f) with f(chunk, from, to) = args.part(chunk,
// from, to).
func (s *forkSite[A, P]) chunks(total int, args A) { s.split(workers(total), total, false, args) }

// elements is splitElements(total, f) with f(from, to) = args.part(_,
// from, to).
func (s *forkSite[A, P]) elements(total int, args A) {
	s.split(elementWorkers(total), total, true, args)
}
