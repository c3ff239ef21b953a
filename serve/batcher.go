package serve

import (
	"context"
	"fmt"
	"time"

	"github.com/tapeml/tapeml"
)

// job is one request's examples waiting for a batch: texts, or raw pixels
// of n images.
type job struct {
	n      int
	texts  []string
	pixels []float32
	queued time.Time
	done   chan jobResult // buffered: the batcher never blocks on a caller gone
}

type jobResult struct {
	preds []tapeml.Prediction
	err   error
}

// batcher merges concurrent requests to one model version into batches
// of up to maxBatch examples, waiting at most maxDelay after a batch's
// first request for others to join. Batches run on up to workers
// goroutines: while all are busy, requests queue up and the next batch
// fills, so batches grow with the load and stay small when it is light.
type batcher struct {
	model    *tapeml.Model
	image    bool
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

func newBatcher(m *tapeml.Model, image bool, maxBatch int, maxDelay time.Duration, workers int, obs batchObserver) *batcher {
	b := &batcher{
		model: m, image: image, maxBatch: maxBatch, maxDelay: maxDelay,
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

// do queues a request and waits for its predictions, in order.
func (b *batcher) do(ctx context.Context, j *job) ([]tapeml.Prediction, error) {
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
		return r.preds, r.err
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
					if size+j.n > b.maxBatch {
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
				if size+j.n > b.maxBatch {
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

// run classifies a batch in one call and hands each job its rows.
func (b *batcher) run(batch []*job, size int) {
	defer func() { b.workers <- struct{}{} }()
	start := time.Now()
	for _, j := range batch {
		b.obs.queued(start.Sub(j.queued))
	}
	var (
		preds []tapeml.Prediction
		err   error
	)
	// Batches run to completion whatever happens to their callers: the
	// work is shared, and a caller gone only drops its rows.
	ctx := context.Background()
	if b.image {
		px := batch[0].pixels
		if len(batch) > 1 {
			px = make([]float32, 0, len(batch[0].pixels)/batch[0].n*size)
			for _, j := range batch {
				px = append(px, j.pixels...)
			}
		}
		preds, err = b.model.ClassifyPixels(ctx, px, size)
	} else {
		texts := batch[0].texts
		if len(batch) > 1 {
			texts = make([]string, 0, size)
			for _, j := range batch {
				texts = append(texts, j.texts...)
			}
		}
		preds, err = b.model.ClassifyTexts(ctx, texts)
	}
	b.obs.executed(size, time.Since(start))
	from := 0
	for _, j := range batch {
		if err != nil {
			j.done <- jobResult{err: err}
			continue
		}
		j.done <- jobResult{preds: preds[from : from+j.n : from+j.n]}
		from += j.n
	}
}
