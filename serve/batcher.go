package serve

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
)

// job is one request's examples waiting for a batch: its inputs, n rows
// each.
type job struct {
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

// do queues a request's inputs and waits for its outputs.
func (b *batcher) do(ctx context.Context, in []api.Tensor) ([]api.Tensor, error) {
	j := &job{n: in[0].Rows(), in: in}
	for _, t := range in {
		j.form += t.Name + "\x00"
	}
	j.queued = time.Now()
	j.done = make(chan jobResult, 1)
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

// run answers a batch in one call and hands each job its rows.
func (b *batcher) run(batch []*job, size int) {
	defer func() { b.workers <- struct{}{} }()
	start := time.Now()
	for _, j := range batch {
		b.obs.queued(start.Sub(j.queued))
	}
	// Batches run to completion whatever happens to their callers: the
	// work is shared, and a caller gone only drops its rows.
	ctx := context.Background()
	in := batch[0].in
	if len(batch) > 1 {
		in = mergeRows(batch, size)
	}
	out, err := b.model.Infer(ctx, in)
	b.obs.executed(size, time.Since(start))
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
