package graph

import (
	"fmt"
	"sync/atomic"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// Conv2DBatchNorm is Conv2D followed by BatchNorm2D, with the parameters of
// both under their own names ("<conv>.weight", "<bn>.running_mean", …).
// The training and evaluation graphs hold the two layers as they are; the
// serving graph (Infer) folds the normalization into the convolution —
// w′ = w·γ/√(var+eps) per output channel, b′ = (b − mean)·γ/√(var+eps) + β
// — and runs one convolution. In float32 the folded weights are computed
// once per parameter store (conv_serve.go explains why they cannot go
// stale); in float64 (gradient checks) on every run.
func Conv2DBatchNorm(b *Builder, conv, bn string, x *G.Node, cfg Conv2DConfig, bnCfg BatchNormConfig) *G.Node {
	if b.Mode != Infer {
		return BatchNorm2D(b, bn, Conv2D(b, conv, x, cfg), bnCfg)
	}
	return foldedConv(b, conv, bn, x, cfg, bnCfg, 0)
}

// ConvBlock is ReLU(MaxPool2D(Conv2DBatchNorm(x), pool)): the ConvNet's
// block. The serving graph runs it as one kernel that pools and rectifies
// each example's convolution while it is still in cache, on the thread
// that computed it: with AVX-512 and stride 1, a direct convolution that
// pools each tile in registers (kern.ConvPool). The training graph, with
// pool 2, normalizes and pools in one node (batchNormPoolKernel: the same
// bits as the two layers).
func ConvBlock(b *Builder, conv, bn string, x *G.Node, cfg Conv2DConfig, bnCfg BatchNormConfig, pool int) *G.Node {
	if b.Training() && pool == 2 { // normalization and pooling in one node (batchNormPoolKernel)
		return ReLU(batchNormPool(b, bn, Conv2D(b, conv, x, cfg), bnCfg, true, true))
	}
	if b.Mode != Infer || pool != 2 {
		return ReLU(MaxPool2D(Conv2DBatchNorm(b, conv, bn, x, cfg, bnCfg), pool, 0))
	}
	return foldedConv(b, conv, bn, x, cfg, bnCfg, pool)
}

// foldedConv adds the folded kernel, with 2×2 pooling and ReLU when pool
// is 2.
func foldedConv(b *Builder, conv, bn string, x *G.Node, cfg Conv2DConfig, bnCfg BatchNormConfig, pool int) *G.Node {
	// Only parameter nodes, no unfolded layers: a tape machine runs every
	// op node of its graph.
	cfg, args := conv2DArgs(b, conv, x, cfg)
	gamma, beta, mean, variance := batchNormParams(b, bn, cfg.Out)
	args = append(args, gamma, beta, mean, variance)
	if bnCfg.Eps == 0 {
		bnCfg.Eps = 1e-5
	}
	if q := quantFor(b, conv+".weight"); q != nil && q.InputScale > 0 {
		return mustApply(&foldedConvInt8Kernel{q: q, stride: cfg.Stride, pad: cfg.Padding, eps: bnCfg.Eps, bias: cfg.Bias, pool: pool}, args...)
	}
	return mustApply(typed(b.Dtype(),
		&foldedConvKernel[float32]{conv: conv2dKernel[float32]{stride: cfg.Stride, pad: cfg.Padding}, eps: bnCfg.Eps, bias: cfg.Bias, pool: pool, calib: b.Params.calibFor(conv + ".weight"),
			folded: b.Params.foldedConvFor(servedConvKey(conv, x.Shape()))},
		&foldedConvKernel[float64]{conv: conv2dKernel[float64]{stride: cfg.Stride, pad: cfg.Padding}, eps: bnCfg.Eps, bias: cfg.Bias, pool: pool}), args...)
}

// foldedConvKernel: inputs x, conv weight, optional conv bias, then γ, β,
// running mean and running variance; the output of the convolution with
// the normalization folded in. Inference only: it has no backward pass.
type foldedConvKernel[T float] struct {
	conv    conv2dKernel[T]
	eps     float64
	bias    bool
	pool    int           // 2: then 2×2 max-pooling and ReLU; 0: neither
	w, b    *tensor.Dense // folded weight and bias: folded's, or (float64) rewritten every run
	scratch perThread[T]  // per chunk: im2col matrix and one example's convolution, or the padded input
	calib   *calibStat    // records the input's range while calibrating (quant.go), or nil
	// folded is the float32 weights folded once, shared by the parameter
	// store's serving machines (conv_serve.go); nil in float64.
	folded   *foldedConvWeights
	direct   forkSite[convPoolCall, *convPoolCall]           // serving: the direct convolution's parts
	next     atomic.Int32                                    // the direct convolution's next example to take
	examples forkSite[foldedConvCall[T], *foldedConvCall[T]] // the im2col convolution's
	products []*forkSite[gemmCall, *gemmCall]                // per chunk: its products' stripes
}

func (k *foldedConvKernel[T]) name() string {
	return fmt.Sprintf("Conv2DBatchNorm(stride=%d, pad=%d, eps=%v, pool=%d)", k.conv.stride, k.conv.pad, k.eps, k.pool)
}

func (k *foldedConvKernel[T]) differentiable() []bool { return make([]bool, 6+boolInt(k.bias)) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (k *foldedConvKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	nConv := 2 + boolInt(k.bias)
	if len(in) != nConv+4 {
		return nil, fmt.Errorf("%d inputs, expected %d", len(in), nConv+4)
	}
	out, err := k.conv.outShape(in[:nConv])
	if err != nil {
		return nil, err
	}
	for i, what := range []string{"weight", "bias", "running_mean", "running_var"} {
		if s := in[nConv+i]; len(s) != 1 || s[0] != out[1] {
			return nil, fmt.Errorf("batch norm %s %v, expected [%d]", what, s, out[1])
		}
	}
	if k.pool == 2 {
		out[2], out[3] = out[2]/2, out[3]/2
	}
	return out, nil
}

func (k *foldedConvKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	nConv := 2 + boolInt(k.bias)
	if x, ok := any(values[T](in[0])).([]float32); ok {
		k.calib.observe(x)
	}
	w := in[1]
	ws := w.Shape()
	if f := k.folded; f != nil {
		k.foldOnce(f, in)
		if f.err != nil {
			return f.err
		}
		if f.pool != nil {
			k.forwardDirect(f.pool, values[float32](in[0]), values[float32](out), in[0].Shape()[0])
			return nil
		}
		if k.w == nil {
			k.w = tensor.New(tensor.WithShape(ws.Clone()...), tensor.WithBacking(f.w))
			k.b = tensor.New(tensor.WithShape(ws[0]), tensor.WithBacking(f.b))
		}
	} else {
		if k.w == nil {
			k.w = tensor.New(tensor.Of(w.Dtype()), tensor.WithShape(ws.Clone()...))
			k.b = tensor.New(tensor.Of(w.Dtype()), tensor.WithShape(ws[0]))
		}
		var bias []T
		if k.bias {
			bias = values[T](in[2])
		}
		foldBatchNorm(values[T](k.w), values[T](k.b), values[T](w), bias, values[T](in[nConv]), values[T](in[nConv+1]),
			values[T](in[nConv+2]), values[T](in[nConv+3]), k.eps)
	}
	db := values[T](k.b)
	dw := values[T](k.w)
	if k.pool == 0 {
		return k.conv.forward([]*tensor.Dense{in[0], k.w, k.b}, out)
	}
	d := k.conv.dims(in[0], k.w)
	x, y := values[T](in[0]), values[T](out)
	colSize := d.ckk * d.ohw
	// Fewer examples than threads (a request of one): the spare threads
	// share each example's product.
	threads := max(1, maxThreads()/workers(d.n))
	k.scratch.ensure(d.n, colSize+d.o*d.ohw)
	for len(k.products) < workers(d.n) {
		k.products = append(k.products, new(forkSite[gemmCall, *gemmCall]))
	}
	k.examples.chunks(d.n, foldedConvCall[T]{k: k, d: d, x: x, y: y, w: dw, b: db, threads: threads})
	return nil
}

// gemmCall is C [m, n] = A [m, k]·B [k, n] (float32, row-major, no
// transposes, C set): part i is kern.SgemmPart i of parts.
type gemmCall struct {
	parts   int
	m, n, k int
	a, b, c []float32
}

func (g *gemmCall) part(i, _, _ int) {
	kern.SgemmPart(i, g.parts, false, false, g.m, g.n, g.k, 1, g.a, g.k, g.b, g.n, 0, g.c, g.n)
}

// foldedConvCall is forward's arguments (im2col, pooled): part chunk
// convolves and pools the examples [from, to) in the chunk's scratch.
type foldedConvCall[T float] struct {
	k          *foldedConvKernel[T]
	d          conv2dDims
	x, y, w, b []T
	threads    int // each product's
}

func (c *foldedConvCall[T]) part(chunk, from, to int) {
	k, d, x, y, dw, db, threads := c.k, c.d, c.x, c.y, c.w, c.b, c.threads
	ph, pw := d.oh/2, d.ow/2
	colSize := d.ckk * d.ohw
	buf := k.scratch.bufs[chunk][:colSize+d.o*d.ohw]
	col, conv := buf[:colSize], buf[colSize:]
	for n := from; n < to; n++ {
		k.conv.im2col(col, x[n*d.c*d.hw:(n+1)*d.c*d.hw], d)
		if w32, ok := any(dw).([]float32); ok && threads > 1 { // on the helpers, allocating nothing
			g := gemmCall{m: d.o, n: d.ohw, k: d.ckk, a: w32, b: any(col).([]float32), c: any(conv).([]float32)}
			g.parts = kern.SgemmParts(threads, g.m, g.n)
			k.products[chunk].fork(g.parts, g)
		} else {
			gemm(threads, false, false, d.o, d.ohw, d.ckk, 1, dw, d.ckk, col, d.ohw, 0, conv, d.ohw)
		}
		// 2×2 max-pooling (floor), the bias, then ReLU: a channel's
		// bias and max(·, 0) both commute with the window's max.
		yn := y[n*d.o*ph*pw : (n+1)*d.o*ph*pw]
		for o, bv := range db {
			plane, dst := conv[o*d.ohw:(o+1)*d.ohw], yn[o*ph*pw:(o+1)*ph*pw]
			for oy := 0; oy < ph; oy++ {
				r0, r1 := plane[2*oy*d.ow:][:2*pw], plane[(2*oy+1)*d.ow:][:2*pw]
				out := dst[oy*pw : (oy+1)*pw]
				for ox := range out {
					a, b := max(r0[2*ox], r0[2*ox+1]), max(r1[2*ox], r1[2*ox+1])
					// Go's max is NaN when an argument is: NaN propagates, as in PyTorch.
					out[ox] = max(max(a, b)+bv, 0)
				}
			}
		}
	}
}

func (k *foldedConvKernel[T]) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return fmt.Errorf("the folded convolution is for inference only")
}

// The folded convolution writes its bias (or zeros) into every output
// before adding the product, or writes each pooled maximum.
func (*foldedConvKernel[T]) writesAll(int) bool { return true }
