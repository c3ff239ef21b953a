package tapeml

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
)

// runner runs a network's serving graph (graph.Infer) for any number of
// callers at once. Compiled machines are not safe for concurrent use, so
// each call borrows one from a pool. Batch sizes are bucketed to powers of
// two up to MaxBatch — a batch of 5 runs on the machine for 8, its spare
// rows zero — and each bucket keeps at most MachinesPerBucket machines,
// so however many sizes and callers arrive, at most
// len(buckets)·MachinesPerBucket graphs are ever compiled.
type runner struct {
	build  graph.BuildFunc
	params *graph.Params
	widths []int // values per example of each input, known after the first compile
	out    int   // output values per example

	buckets []int // ascending; the last is the largest batch run at once
	pools   []*bucketPool

	compileMu sync.Mutex // Gorgonia's graph construction is not safe for concurrent use
}

// bucketPool holds one bucket's idle machines; made counts those that
// exist, idle or lent out, and never exceeds cap(idle).
type bucketPool struct {
	n    int
	idle chan *servingMachine
	mu   sync.Mutex
	made int
}

// servingMachine is a compiled machine with the input tensors it reads.
type servingMachine struct {
	m  *graph.Machine
	in []*tensor.Dense
}

func newRunner(build graph.BuildFunc, params *graph.Params, maxBatch, perBucket int) (*runner, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("MaxBatch must be at least 1, got %d", maxBatch)
	}
	if perBucket < 1 {
		perBucket = runtime.GOMAXPROCS(0)
	}
	r := &runner{build: build, params: params}
	for n := 1; ; n *= 2 {
		r.buckets = append(r.buckets, min(n, maxBatch))
		if n >= maxBatch {
			break
		}
	}
	for _, n := range r.buckets {
		r.pools = append(r.pools, &bucketPool{n: n, idle: make(chan *servingMachine, perBucket)})
	}
	// The output width comes from the smallest machine, which also proves
	// the graph compiles before any caller waits on it.
	sm, err := r.get(context.Background(), 0)
	if err != nil {
		return nil, err
	}
	if err := sm.m.Run(sm.in, nil); err != nil {
		return nil, err
	}
	r.out = sm.m.Output().Shape().TotalSize() / r.buckets[0]
	r.put(0, sm)
	return r, nil
}

// bucket returns the index of the smallest bucket that holds n examples.
func (r *runner) bucket(n int) int {
	for i, b := range r.buckets {
		if b >= n {
			return i
		}
	}
	return len(r.buckets) - 1
}

// get borrows a machine of bucket i: an idle one, a new one while the
// bucket has room, or else the next one returned.
func (r *runner) get(ctx context.Context, i int) (*servingMachine, error) {
	p := r.pools[i]
	select {
	case sm := <-p.idle:
		return sm, nil
	default:
	}
	p.mu.Lock()
	if p.made < cap(p.idle) {
		p.made++
		p.mu.Unlock()
		sm, err := r.compile(p.n)
		if err != nil {
			p.mu.Lock()
			p.made--
			p.mu.Unlock()
			return nil, err
		}
		return sm, nil
	}
	p.mu.Unlock()
	select {
	case sm := <-p.idle:
		return sm, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *runner) put(i int, sm *servingMachine) { r.pools[i].idle <- sm }

func (r *runner) compile(n int) (*servingMachine, error) {
	r.compileMu.Lock()
	defer r.compileMu.Unlock()
	m, err := graph.Compile(r.build, nil, r.params, nil, n, graph.Infer)
	if err != nil {
		return nil, fmt.Errorf("compiling the serving graph for %d examples: %w", n, err)
	}
	sm := &servingMachine{m: m}
	shapes := m.InputShapes()
	if r.widths == nil { // the first compile, before any caller shares r
		for _, s := range shapes {
			r.widths = append(r.widths, tensor.Shape(s[1:]).TotalSize())
		}
	}
	for _, s := range shapes {
		sm.in = append(sm.in, tensor.New(tensor.WithShape(s...), tensor.Of(tensor.Float32)))
	}
	return sm, nil
}

// compiled is the number of machines that exist, across buckets.
func (r *runner) compiled() int {
	total := 0
	for _, p := range r.pools {
		p.mu.Lock()
		total += p.made
		p.mu.Unlock()
	}
	return total
}

// run computes the outputs of n examples, given one flat slice of n·width
// values per input, in batches of at most the largest bucket. It returns
// n·r.out values; ctx is checked before each batch.
func (r *runner) run(ctx context.Context, inputs [][]float32, n int) ([]float32, error) {
	if len(inputs) != len(r.widths) {
		return nil, fmt.Errorf("the model takes %d inputs, got %d", len(r.widths), len(inputs))
	}
	for k, in := range inputs {
		if len(in) != n*r.widths[k] {
			return nil, fmt.Errorf("input %d holds %d values, expected %d examples of %d", k, len(in), n, r.widths[k])
		}
	}
	out := make([]float32, n*r.out)
	largest := r.buckets[len(r.buckets)-1]
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
func (r *runner) batch(ctx context.Context, inputs [][]float32, from, to int, out []float32) error {
	i := r.bucket(to - from)
	sm, err := r.get(ctx, i)
	if err != nil {
		return err
	}
	defer r.put(i, sm)
	rows := to - from
	for k, t := range sm.in {
		w := r.widths[k]
		dst := t.Float32s()
		copy(dst, inputs[k][from*w:to*w])
		clear(dst[rows*w:]) // spare rows: zeros are valid ids, pixels and indices
	}
	if err := sm.m.Run(sm.in, nil); err != nil {
		return err
	}
	copy(out[from*r.out:to*r.out], sm.m.Output().Float32s()[:rows*r.out])
	return nil
}
