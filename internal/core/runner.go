package core

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/graph"
)

// Runner runs a network's serving graph (graph.Infer) for any number of
// callers at once. Compiled machines are not safe for concurrent use, so
// each call borrows one from a pool. Batch sizes are bucketed to powers of
// two up to the largest batch — a batch of 5 runs on the machine for 8,
// its spare rows zero — and each bucket keeps at most perBucket machines,
// so however many sizes and callers arrive, at most
// len(Buckets)·perBucket graphs are ever compiled.
type Runner struct {
	build  graph.BuildFunc
	params *graph.Params
	widths []int // values per example of each input, known after the first compile
	out    int   // output values per example

	buckets []int // ascending; the last is the largest batch run at once
	pools   []*Pool[*Machine]

	// CompileMu serializes graph construction, which Gorgonia does not
	// make safe for concurrent use; the attribution machines take it too.
	CompileMu sync.Mutex
}

// Machine is a compiled serving machine with the input tensors it reads.
type Machine struct {
	M  *graph.Machine
	In []*tensor.Dense
}

// NewRunner compiles the smallest bucket's machine at once: it gives the
// output width and proves the graph compiles before any caller waits on it.
func NewRunner(build graph.BuildFunc, params *graph.Params, maxBatch, perBucket int) (*Runner, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("MaxBatch must be at least 1, got %d", maxBatch)
	}
	if perBucket < 1 {
		perBucket = runtime.GOMAXPROCS(0)
	}
	r := &Runner{build: build, params: params}
	for n := 1; ; n *= 2 {
		r.buckets = append(r.buckets, min(n, maxBatch))
		if n >= maxBatch {
			break
		}
	}
	for _, n := range r.buckets {
		r.pools = append(r.pools, NewPool(perBucket, func() (*Machine, error) { return r.compile(n) }))
	}
	sm, err := r.pools[0].Get(context.Background())
	if err != nil {
		return nil, err
	}
	if err := sm.M.Run(sm.In, nil); err != nil {
		return nil, err
	}
	r.out = sm.M.Output().Shape().TotalSize() / r.buckets[0]
	r.pools[0].Put(sm)
	return r, nil
}

// Buckets are the batch sizes machines are compiled for, ascending.
func (r *Runner) Buckets() []int { return r.buckets }

// MaxBatch is the largest batch run at once.
func (r *Runner) MaxBatch() int { return r.buckets[len(r.buckets)-1] }

// Widths are the values per example of each input.
func (r *Runner) Widths() []int { return r.widths }

// OutputWidth is the number of outputs per example.
func (r *Runner) OutputWidth() int { return r.out }

// Pool is bucket i's machine pool.
func (r *Runner) Pool(i int) *Pool[*Machine] { return r.pools[i] }

// bucket returns the index of the smallest bucket that holds n examples.
func (r *Runner) bucket(n int) int {
	for i, b := range r.buckets {
		if b >= n {
			return i
		}
	}
	return len(r.buckets) - 1
}

func (r *Runner) compile(n int) (*Machine, error) {
	r.CompileMu.Lock()
	defer r.CompileMu.Unlock()
	m, err := graph.Compile(r.build, nil, r.params, nil, n, graph.Infer)
	if err != nil {
		return nil, fmt.Errorf("compiling the serving graph for %d examples: %w", n, err)
	}
	sm := &Machine{M: m}
	shapes := m.InputShapes()
	if r.widths == nil { // the first compile, before any caller shares r
		for _, s := range shapes {
			r.widths = append(r.widths, tensor.Shape(s[1:]).TotalSize())
		}
	}
	for _, s := range shapes {
		sm.In = append(sm.In, tensor.New(tensor.WithShape(s...), tensor.Of(tensor.Float32)))
	}
	return sm, nil
}

// Compiled is the number of machines that exist, across buckets.
func (r *Runner) Compiled() int {
	total := 0
	for _, p := range r.pools {
		total += p.Made()
	}
	return total
}

// Forward computes the outputs of n examples, given one flat slice of
// n·width values per input, in batches of at most the largest bucket. It
// returns n·OutputWidth values; ctx is checked before each batch. An
// output that is NaN or infinite is an *api.NonFiniteError.
func (r *Runner) Forward(ctx context.Context, inputs [][]float32, n int) ([]float32, error) {
	if len(inputs) != len(r.widths) {
		return nil, fmt.Errorf("the model takes %d inputs, got %d", len(r.widths), len(inputs))
	}
	for k, in := range inputs {
		// n is compared by division first: n·width could overflow.
		if w := r.widths[k]; n < 1 || w < 1 || n > len(in)/w || len(in) != n*w {
			return nil, fmt.Errorf("input %d holds %d values, expected %d examples of %d", k, len(in), n, r.widths[k])
		}
	}
	out := make([]float32, n*r.out)
	largest := r.MaxBatch()
	for from := 0; from < n; from += largest {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		to := min(from+largest, n)
		if err := r.batch(ctx, inputs, from, to, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// batch runs examples [from, to) on one borrowed machine.
func (r *Runner) batch(ctx context.Context, inputs [][]float32, from, to int, out []float32) error {
	p := r.pools[r.bucket(to-from)]
	sm, err := p.Get(ctx)
	if err != nil {
		return err
	}
	defer p.Put(sm)
	rows := to - from
	for k, t := range sm.In {
		w := r.widths[k]
		dst := t.Float32s()
		copy(dst, inputs[k][from*w:to*w])
		clear(dst[rows*w:]) // spare rows: zeros are valid ids, pixels and indices
	}
	if err := sm.M.Run(sm.In, nil); err != nil {
		return err
	}
	dst := out[from*r.out : to*r.out]
	copy(dst, sm.M.Output().Float32s()[:rows*r.out])
	return api.CheckFinite("", dst, r.out, from)
}

// Warm compiles and runs min(k, the pool's capacity) machines of every
// bucket, so that k calls at once, of any size, meet no compilation.
func (r *Runner) Warm(ctx context.Context, k int) error {
	for i, n := range r.buckets {
		p := r.pools[i]
		held := make([]*Machine, 0, k)
		var err error
		for range min(k, p.Cap()) {
			if err = ctx.Err(); err != nil {
				break
			}
			var sm *Machine
			if sm, err = p.Get(ctx); err != nil {
				break
			}
			held = append(held, sm)
			for _, t := range sm.In {
				clear(t.Float32s())
			}
			if err = sm.M.Run(sm.In, nil); err != nil {
				err = fmt.Errorf("warming up batch %d: %w", n, err)
				break
			}
			// All-zero inputs are valid ones (padding ids, the mean
			// image's neighbour, index 0): a model that cannot answer them
			// is broken, and must not be served.
			if err = api.CheckFinite("", sm.M.Output().Float32s(), r.out, 0); err != nil {
				err = fmt.Errorf("warming up batch %d on zero inputs: %w", n, err)
				break
			}
		}
		for _, sm := range held {
			p.Put(sm)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
