package graph

import "github.com/tapeml/tapeml/internal/par"

// Kernels fork through internal/par. A serving kernel forks through a
// forkSite, which allocates nothing per call.

// fork calls f(0), …, f(n−1) concurrently and returns when all are done
// (par.Fork). f escapes: a closure built for the call is allocated on
// every call.
func fork(n int, f func(i int)) { par.Fork(n, f) }

// wakeHelpers starts the fork helpers polling, so that the forks of a
// forward pass about to run find them awake (par.Wake).
func wakeHelpers() { par.Wake(maxThreads()) }

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
	// (par.ForkSleeping): for parts of a millisecond or more.
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
	if s.sleep {
		par.ForkSleeping(n, s.run)
	} else {
		par.Fork(n, s.run)
	}
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
