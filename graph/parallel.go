package graph

// Kernels split a batch (or a set of channels) into one contiguous chunk
// per thread. Work that sums across chunks adds the chunks' results in
// chunk order, so a given thread count always gives the same bits.

// perThread hands out one reusable scratch buffer per chunk of a batch, so
// a kernel allocates only on its first run.
type perThread[T float] struct{ bufs [][]T }

// workers is the number of chunks a batch of n examples is split into.
func workers(n int) int { return max(1, min(maxThreads(), n)) }

// run calls f once per chunk of the examples [0, n), concurrently, with
// that chunk's scratch buffer of size elements.
func (p *perThread[T]) run(n, size int, f func(chunk, from, to int, scratch []T)) {
	p.ensure(n, size)
	inChunks(n, func(c, from, to int) { f(c, from, to, p.bufs[c][:size]) })
}

// ensure makes sure every chunk of a batch of n has a buffer of size
// elements (bufs[chunk][:size]), for a kernel that splits the batch
// itself (forkSite.chunks).
func (p *perThread[T]) ensure(n, size int) {
	nw := workers(n)
	for len(p.bufs) < nw {
		p.bufs = append(p.bufs, nil)
	}
	for c := range nw {
		if cap(p.bufs[c]) < size {
			p.bufs[c] = make([]T, size)
		}
	}
}

// inChunks calls f concurrently on contiguous chunks of [0, n), one per
// thread (workers(n) of them), and waits for all of them.
func inChunks(n int, f func(chunk, from, to int)) {
	nw := workers(n)
	if nw == 1 {
		f(0, 0, n)
		return
	}
	fork(nw, func(c int) { f(c, c*n/nw, (c+1)*n/nw) })
}
