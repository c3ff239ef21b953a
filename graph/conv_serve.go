package graph

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// The serving graph's folded convolution in float32 (foldedConvKernel)
// folds the batch norm into the weights once per parameter store, not on
// every run, and — for a ConvBlock (stride 1, 2×2 pooling) on a CPU with
// AVX-512 — runs the direct convolution of kern.ConvPool, which pools,
// adds the bias and rectifies each tile in registers.
//
// Folding once is safe because a serving machine's parameters never
// change while it exists (see infer.go): a model is loaded into a new
// store (tapeml.Load, the server's reload of a new version), training and
// evaluation build Train and Eval graphs, which never fold, and the
// explanations and int8 calibration only read. Everything derived lives
// in the store, keyed by the layer and the input's shape, so machines of
// every batch size share it and a new store starts afresh.

// foldedConvWeights is a float32 folded convolution's weights, derived
// once from its parameters.
type foldedConvWeights struct {
	once sync.Once
	w, b []float32      // w′ [O, C·KH·KW] and b′ [O]
	pool *kern.ConvPool // the packed direct convolution, or nil
	err  error
}

// foldedConvFor returns the folded weights of a layer (key names it and
// its input's shape), shared by every serving machine built from ps;
// filled on first use.
func (ps *Params) foldedConvFor(key string) *foldedConvWeights {
	ps.packedMu.Lock()
	defer ps.packedMu.Unlock()
	if ps.convs == nil {
		ps.convs = map[string]*foldedConvWeights{}
	}
	f, ok := ps.convs[key]
	if !ok {
		f = &foldedConvWeights{}
		ps.convs[key] = f
	}
	return f
}

// foldBatchNorm sets dw [O, per] = w·γ/√(var+eps) per output channel and
// db = (b − mean)·γ/√(var+eps) + β, in float64; bias nil is a zero bias.
func foldBatchNorm[T float](dw, db, w, bias, gamma, beta, mean, variance []T, eps float64) {
	o := len(db)
	per := len(w) / o
	for c := range o {
		scale := float64(gamma[c]) / math.Sqrt(float64(variance[c])+eps)
		for i, v := range w[c*per : (c+1)*per] {
			dw[c*per+i] = T(float64(v) * scale)
		}
		var b0 float64
		if bias != nil {
			b0 = float64(bias[c])
		}
		db[c] = T((b0-float64(mean[c]))*scale + float64(beta[c]))
	}
}

// servedConvKey names a folded convolution in its store: its layer and
// its input's channels, height and width (a ConvPool is made for one
// input size).
func servedConvKey(conv string, x tensor.Shape) string {
	return fmt.Sprintf("%s/folded/%d×%d×%d", conv, x[1], x[2], x[3])
}

// foldOnce fills f from the kernel's inputs on first use: the folded
// weights, and the direct convolution when it applies.
func (k *foldedConvKernel[T]) foldOnce(f *foldedConvWeights, in []*tensor.Dense) {
	f.once.Do(func() {
		nConv := 2 + boolInt(k.bias)
		w := values[float32](in[1])
		var bias []float32
		if k.bias {
			bias = values[float32](in[2])
		}
		o := in[1].Shape()[0]
		f.w, f.b = make([]float32, len(w)), make([]float32, o)
		foldBatchNorm(f.w, f.b, w, bias, values[float32](in[nConv]), values[float32](in[nConv+1]),
			values[float32](in[nConv+2]), values[float32](in[nConv+3]), k.eps)
		if k.pool != 2 || k.conv.stride != 1 || !kern.DirectConvFast() {
			return
		}
		xs, ws := in[0].Shape(), in[1].Shape()
		f.pool, f.err = kern.NewConvPool(xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], k.conv.pad, f.w, f.b)
	})
}

// forwardDirect runs the direct convolution p on x [N, C, H, W] into y
// [N, O, H′/2, W′/2]: one example per thread at a time, each thread
// taking the next example from a shared count (next) until none is left
// rather than a fixed half of the batch, so that a thread another process
// holds off the core for a while leaves its examples to the others
// instead of making them wait; or, with fewer examples than threads (a
// request of one), each example's tiles split over the threads.
func (k *foldedConvKernel[T]) forwardDirect(p *kern.ConvPool, x, y []float32, n int) {
	per, outPer := len(x)/n, len(y)/n
	size, tiles := p.PaddedLen(), p.Tiles()
	scratch := any(&k.scratch).(*perThread[float32])
	if threads := maxThreads(); n < threads {
		scratch.ensure(1, size)
		xp := scratch.bufs[0][:size]
		for i := range n {
			p.Pad(xp, x[i*per:(i+1)*per])
			k.direct.split(min(threads, tiles), tiles, false, convPoolCall{p: p, x: xp, y: y[i*outPer : (i+1)*outPer], padded: true})
		}
		return
	}
	scratch.ensure(n, size)
	k.next.Store(0)
	k.direct.fork(workers(n), convPoolCall{p: p, x: x, y: y, per: per, outPer: outPer, n: n, next: &k.next, scratch: scratch})
}

// convPoolCall is forwardDirect's arguments: with padded, part i runs
// tiles [from, to) of the one padded example x into y; otherwise part i
// pads and runs examples of x into y in its own scratch, taking each from
// next, until all n are taken.
type convPoolCall struct {
	p           *kern.ConvPool
	x, y        []float32
	per, outPer int // values of an example in x and y
	n           int
	next        *atomic.Int32
	padded      bool
	scratch     *perThread[float32]
}

func (c *convPoolCall) part(i, from, to int) {
	if c.padded {
		c.p.Run(c.y, c.x, from, to)
		return
	}
	per, outPer := c.per, c.outPer
	xp := c.scratch.bufs[i][:c.p.PaddedLen()]
	for e := int(c.next.Add(1) - 1); e < c.n; e = int(c.next.Add(1) - 1) {
		c.p.Pad(xp, c.x[e*per:(e+1)*per])
		c.p.Run(c.y[e*outPer:(e+1)*outPer], xp, 0, c.p.Tiles())
	}
}
