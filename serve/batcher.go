package serve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
)

// job is one request's examples waiting for a batch: its inputs, n rows
// each, and its context — a batch runs while any of its jobs' contexts
// lives.
type job struct {
	ctx    context.Context
	n      int
	in     []api.Tensor
	form   string // the input names, in order: only jobs of one form merge
	queued time.Time
	done   chan jobResult // buffered: the batcher never blocks on a caller gone
}

type jobResult struct {
	out []api.Tensor
	err error
}

// batcher merges concurrent requests to one model version into batches
// of up to maxBatch examples, waiting at most maxDelay after a batch's
// first request for others to join. Batches run on up to workers
// goroutines: while all are busy, requests queue up and the next batch
// fills, so batches grow with the load and stay small when it is light.
type batcher struct {
	model    *tapeml.Model
	maxBatch int
	maxDelay time.Duration
	jobs     chan *job
	workers  chan struct{} // a token per idle worker
	quit     chan struct{}
	stopped  chan struct{}
	obs      batchObserver
}

// batchObserver receives the batcher's measurements (metrics).
type batchObserver interface {
	queued(d time.Duration)
	executed(examples int, d time.Duration)
}

func newBatcher(m *tapeml.Model, maxBatch int, maxDelay time.Duration, workers int, obs batchObserver) *batcher {
	b := &batcher{
		model: m, maxBatch: maxBatch, maxDelay: maxDelay,
		jobs:    make(chan *job, 4*maxBatch),
		workers: make(chan struct{}, workers),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		obs:     obs,
	}
	for range workers {
		b.workers <- struct{}{}
	}
	go b.loop()
	return b
}

// do answers a request's inputs. A request of more than maxBatch rows
// runs as chunks of maxBatch, one after the other: the requests that
// arrive meanwhile run between its chunks instead of waiting for all of
// it, and a request whose client has left stops at its next chunk.
func (b *batcher) do(ctx context.Context, in []api.Tensor) ([]api.Tensor, error) {
	n := in[0].Rows()
	if n <= b.maxBatch {
		return b.one(ctx, in, n)
	}
	var outs [][]api.Tensor
	for from := 0; from < n; from += b.maxBatch {
		to := min(from+b.maxBatch, n)
		out, err := b.one(ctx, sliceRows(in, n, from, to), to-from)
		if err != nil {
			var nf *api.NonFiniteError
			if errors.As(err, &nf) {
				e := *nf
				e.Example += from
				err = &e
			}
			return nil, err
		}
		outs = append(outs, out)
	}
	return concatRows(outs, n)
}

// one queues n rows of inputs as one job and waits for its outputs.
func (b *batcher) one(ctx context.Context, in []api.Tensor, n int) ([]api.Tensor, error) {
	j := &job{ctx: ctx, n: n, in: in, queued: time.Now(), done: make(chan jobResult, 1)}
	for _, t := range in {
		j.form += t.Name + "\x00"
	}
	select {
	case b.jobs <- j:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.stopped:
		return nil, errDraining
	}
	select {
	case r := <-j.done:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var errDraining = fmt.Errorf("model version is being unloaded")

// stop ends the batcher once its queue is empty; callers drain the
// version (no request in flight) before stopping it.
func (b *batcher) stop() {
	close(b.quit)
	<-b.stopped
	for range cap(b.workers) { // wait for running batches
		<-b.workers
	}
}

func (b *batcher) loop() {
	defer close(b.stopped)
	var carry *job // a job that did not fit the previous batch
	for {
		// Form a batch only when a worker is free to run it.
		select {
		case <-b.workers:
		case <-b.quit:
			return
		}
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-b.jobs:
			case <-b.quit:
				b.workers <- struct{}{}
				return
			}
		}
		batch := []*job{first}
		size := first.n
		if size < b.maxBatch && b.maxDelay > 0 {
			timer := time.NewTimer(b.maxDelay)
		gather:
			for size < b.maxBatch {
				select {
				case j := <-b.jobs:
					if size+j.n > b.maxBatch || j.form != first.form {
						carry = j
						break gather
					}
					batch = append(batch, j)
					size += j.n
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		}
		// Without a delay, take whatever is already waiting.
		for b.maxDelay <= 0 && carry == nil && size < b.maxBatch {
			select {
			case j := <-b.jobs:
				if size+j.n > b.maxBatch || j.form != first.form {
					carry = j
				} else {
					batch = append(batch, j)
					size += j.n
				}
				continue
			default:
			}
			break
		}
		go b.run(batch, size)
	}
}

// run answers a batch in one call and hands each job its rows. The batch
// runs on a context that ends when every job's context has: work nobody
// waits for stops at the runtime's next batch. A batch of several jobs
// that fails runs them again one by one, so that one request's bad input
// or non-finite output fails that request alone.
func (b *batcher) run(batch []*job, size int) {
	defer func() { b.workers <- struct{}{} }()
	start := time.Now()
	for _, j := range batch {
		b.obs.queued(start.Sub(j.queued))
	}
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- jobResult{err: err}
			continue
		}
		live = append(live, j)
	}
	if len(live) < len(batch) {
		batch, size = live, 0
		for _, j := range batch {
			size += j.n
		}
	}
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var left atomic.Int32
	left.Store(int32(len(batch)))
	for _, j := range batch {
		defer context.AfterFunc(j.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})()
	}
	in := batch[0].in
	if len(batch) > 1 {
		in = mergeRows(batch, size)
	}
	out, err := b.model.Infer(ctx, in)
	b.obs.executed(size, time.Since(start))
	if err != nil && len(batch) > 1 && ctx.Err() == nil {
		for _, j := range batch {
			out, err := b.model.Infer(j.ctx, j.in)
			j.done <- jobResult{out: out, err: err}
		}
		return
	}
	from := 0
	for _, j := range batch {
		if err != nil {
			j.done <- jobResult{err: err}
			continue
		}
		j.done <- jobResult{out: sliceRows(out, size, from, from+j.n)}
		from += j.n
	}
}

// mergeRows stacks the jobs' inputs, name by name, along the first
// dimension: size rows in all.
func mergeRows(batch []*job, size int) []api.Tensor {
	merged := make([]api.Tensor, len(batch[0].in))
	for k, t := range batch[0].in {
		m := api.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: slices.Clone(t.Shape)}
		m.Shape[0] = int64(size)
		for _, j := range batch {
			x := &j.in[k]
			m.Bytes = append(m.Bytes, x.Bytes...)
			m.FP32 = append(m.FP32, x.FP32...)
			m.INT32 = append(m.INT32, x.INT32...)
		}
		merged[k] = m
	}
	return merged
}

// sliceRows takes rows [from, to) of every output of a batch of size rows.
func sliceRows(out []api.Tensor, size, from, to int) []api.Tensor {
	res := make([]api.Tensor, len(out))
	for k, t := range out {
		if t.Rows() != size || size == 0 {
			res[k] = t // not per example: every job gets it whole
			continue
		}
		w := t.Len() / size
		r := api.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: slices.Clone(t.Shape)}
		r.Shape[0] = int64(to - from)
		switch t.Datatype {
		case api.BYTES:
			r.Bytes = t.Bytes[from*w : to*w : to*w]
		case api.FP32:
			r.FP32 = t.FP32[from*w : to*w : to*w]
		case api.INT32:
			r.INT32 = t.INT32[from*w : to*w : to*w]
		}
		res[k] = r
	}
	return res
}

// concatRows stacks the outputs of a request's chunks, n rows in all.
func concatRows(outs [][]api.Tensor, n int) ([]api.Tensor, error) {
	res := make([]api.Tensor, len(outs[0]))
	for k, t := range outs[0] {
		r := api.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: slices.Clone(t.Shape)}
		r.Shape[0] = int64(n)
		for _, out := range outs {
			x := &out[k]
			if len(x.Shape) == 0 || x.Name != t.Name {
				return nil, fmt.Errorf("output %q is not one row per example: the request cannot run in chunks", t.Name)
			}
			r.Bytes = append(r.Bytes, x.Bytes...)
			r.FP32 = append(r.FP32, x.FP32...)
			r.INT32 = append(r.INT32, x.INT32...)
		}
		res[k] = r
	}
	return res, nil
}
