package graph

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// Inference-only kernels of the serving graph (Infer mode). A serving
// machine's parameters are frozen while it exists, so these kernels lay
// the weights out once, on their first run, in the form the product reads
// fastest — the packed panels of the float32 gemm — and fuse what training
// keeps apart for its backward pass. Each has the same output as the
// training graph's layers, within float32 rounding (the parity tests check
// the serving graph against PyTorch). None has a backward pass.

// inferFast reports whether b builds a serving graph in float32 on a CPU
// with the packed gemm: the case the inference kernels are for.
func inferFast(b *Builder) bool {
	return b.Mode == Infer && b.Dtype() == tensor.Float32 && kern.Packed()
}

// packedWeights is a weight matrix W [out, in] used as op(B) = Wᵀ by
// products x·Wᵀ, packed once into one column stripe per thread so that
// the threads share the product without repacking anything.
type packedWeights struct {
	once    sync.Once
	stripes []weightStripe
	// W as the left operand of yᵀ = W·xᵀ (productT), one stripe of rows
	// per thread: packed only when a product with few rows runs (a second
	// copy of the weights when both kinds of batch run: 32 MB each for the
	// ConvNet's fc.0).
	rowsOnce sync.Once
	rows     []rowStripe
}

type rowStripe struct {
	from, to int // output columns: rows of W
	p        kern.PackedA
}

type weightStripe struct {
	from, to int // output columns
	p        kern.PackedB
}

// pack lays out w [out, in] on first use.
func (pw *packedWeights) pack(w []float32, out, in int) {
	pw.packWith(out, in, func() []float32 { return w })
}

// packWith lays out the [out, in] matrix that weights returns, calling it
// on first use only.
func (pw *packedWeights) packWith(out, in int, weights func() []float32) {
	pw.once.Do(func() {
		w := weights()
		nr := kern.PackedCols()
		threads := max(1, min(maxThreads(), out/nr))
		tiles := (out + nr - 1) / nr
		for t := range threads {
			from, to := t*tiles/threads*nr, min((t+1)*tiles/threads*nr, out)
			if from >= to {
				continue
			}
			s := weightStripe{from: from, to: to}
			s.p.Pack(true, w[from*in:], in, in, to-from)
			pw.stripes = append(pw.stripes, s)
		}
	})
}

// product sets y [m, out] = x [m, in]·Wᵀ + bias (bias nil: no bias; else
// its out values added to every row, stored with the product rather than
// copied into y first), each thread computing its stripe of columns.
// site is the caller's, for the fork.
func (pw *packedWeights) product(site *productSite, x []float32, m, in, out int, bias, y []float32) {
	pw.productThen(site, x, m, in, out, bias, y, nil)
}

// productSerial is product on the calling goroutine, one stripe after
// the other: for a caller that already has a core of its own (an LSTM
// direction).
func (pw *packedWeights) productSerial(x []float32, m, in, out int, bias, y []float32) {
	if m == 0 {
		return
	}
	for i := range pw.stripes {
		s := &pw.stripes[i]
		kern.SgemmPackedBias(false, m, s.to-s.from, in, x, in, &s.p, bias[s.from:], y[s.from:], out)
	}
}

// addSerial adds x [m, in]·Wᵀ to y [m, out] on the calling goroutine:
// an LSTM step's recurrent product, too small to share. With rev it goes
// through the columns last to first (kern.SgemmPackedReverse; the same
// bits): a recurrence alternates, to find the weights in cache.
func (pw *packedWeights) addSerial(x []float32, m, in, out int, y []float32, rev bool) {
	if m == 0 {
		return
	}
	for i := range pw.stripes {
		if !rev {
			s := &pw.stripes[i]
			kern.SgemmPacked(false, m, s.to-s.from, in, 1, x, in, &s.p, 1, y[s.from:], out)
			continue
		}
		s := &pw.stripes[len(pw.stripes)-1-i]
		kern.SgemmPackedReverse(false, m, s.to-s.from, in, 1, x, in, &s.p, 1, y[s.from:], out)
	}
}

// packRows lays out w [out, in] as PackedA stripes on first use.
func (pw *packedWeights) packRows(w []float32, out, in int) {
	pw.rowsOnce.Do(func() {
		mr := kern.PackedRows()
		threads := max(1, min(maxThreads(), out/mr))
		tiles := (out + mr - 1) / mr
		for t := range threads {
			from, to := t*tiles/threads*mr, min((t+1)*tiles/threads*mr, out)
			if from >= to {
				continue
			}
			s := rowStripe{from: from, to: to}
			s.p.Pack(w[from*in:], in, to-from, in)
			pw.rows = append(pw.rows, s)
		}
	})
}

// transposedRows reports whether a product of m rows by out outputs of
// in inputs each runs as yᵀ = W·xᵀ (productT): the level streams the
// weights in that form (kern.PackedAStreams), the weights are too large
// for the caches (at least minTransposedWeights), the batch is fewer rows
// than outputs and fills whole panels of the tile's columns but for at
// most an eighth.
func transposedRows(m, in, out int) bool {
	nr := kern.PackedCols()
	if !kern.PackedAStreams() || in*out < minTransposedWeights || m >= out || m < nr/2 {
		return false
	}
	waste := (m+nr-1)/nr*nr - m
	return waste*8 <= m
}

// minTransposedWeights is the smallest weight matrix (values) that
// productT multiplies. Where the weights stay in cache between runs, the
// transposes of x and y around it cost more than the leftover rows of x·Wᵀ:
// one thread at batch 32 (Zen 5, loaded machine, CPU time, 1024 outputs)
// ran 4 MB of weights at 194 GFLOP/s as x·Wᵀ against 180 as W·xᵀ, 8 MB at
// 188 against 186, 16 MB at 175 against 192 and 32 MB (the ConvNet's fc.0)
// at 130 against 149, in the run where the smaller ones stayed in cache.
const minTransposedWeights = 1 << 22

// productT is product computed as yᵀ = W·xᵀ: each thread multiplies its
// stripe of W's rows (packRows) by x, transposed and packed by that thread
// a block at a time (kern.SgemmPackedAXt, into its buffer of xts), into
// its rows of yt [out, m] — every weight read once and used for every row
// of x — and writes them transposed into its columns of y, rectified with
// relu (as reluRow). The same bits as product. (A fused GELU is left to
// productThen: the GELU kernel rounds a vector's tail differently from its
// whole vectors, so its bits depend on where the stripes of columns
// start.)
//
// Each thread packs all of xᵀ (1 MB for the ConvNet's fc.0 at a batch of
// 32), twice the packing of one shared copy, so that no thread waits for
// another: with the packing shared, a thread that another session's
// process descheduled while it held a block stalled the other for as long.
func (pw *packedWeights) productT(site *transposedSite, x []float32, m, in, out int, bias, y []float32, xts *[][]float32, yt []float32, relu bool) {
	for len(*xts) < len(pw.rows) {
		*xts = append(*xts, nil)
	}
	for i := range pw.rows {
		(*xts)[i] = resizeT((*xts)[i], kern.PackedXtLen(m))
	}
	site.fork(len(pw.rows), transposedCall{pw: pw, x: x, in: in, m: m, out: out, bias: bias, y: y, xts: *xts, yt: yt, relu: relu})
}

// transposedCall is productT's arguments; part i computes stripe i of W's
// rows.
type transposedCall struct {
	pw          *packedWeights
	x           []float32
	in, m, out  int
	bias, y, yt []float32
	xts         [][]float32 // part i's buffer for xᵀ: xts[i]
	relu        bool
}

type transposedSite = forkSite[transposedCall, *transposedCall]

func (c *transposedCall) part(i, _, _ int) {
	s, m := &c.pw.rows[i], c.m
	yt := c.yt[s.from*m : s.to*m]
	if c.bias != nil { // added as the first depth block's product is, in one rounding
		for j := s.from; j < s.to; j++ {
			row := yt[(j-s.from)*m : (j-s.from+1)*m]
			for r := range row {
				row[r] = c.bias[j]
			}
		}
	}
	kern.SgemmPackedAXt(&s.p, c.x, c.in, m, c.xts[i], yt, m, c.bias == nil)
	transposeInto(c.y[s.from:], c.out, yt, s.to-s.from, m, c.relu)
}

// transposeInto sets y[r·ldy+j] = c[j·m+r] for c [rows, m], or with relu
// its ReLU (as reluRow), each row of y while it is in cache.
func transposeInto(y []float32, ldy int, c []float32, rows, m int, relu bool) {
	kern.Transpose(y, ldy, c, m, rows, m)
	if relu {
		for r := range m {
			reluRow(y[r*ldy : r*ldy+rows])
		}
	}
}

// productThen is product with then, when not nil, applied by each thread
// to each row of its stripe of y (from, to: the stripe's columns) once
// the stripe is computed: an activation fused into the product, with no
// fork and join of its own and while the stripe is in cache.
func (pw *packedWeights) productThen(site *productSite, x []float32, m, in, out int, bias, y []float32, then func(row []float32)) {
	site.fork(len(pw.stripes), productCall{pw: pw, x: x, m: m, in: in, out: out, bias: bias, y: y, then: then})
}

// productCall is a product's arguments (productThen); part i computes
// stripe i.
type productCall struct {
	pw         *packedWeights
	x          []float32
	m, in, out int
	bias, y    []float32
	then       func(row []float32)
}

type productSite = forkSite[productCall, *productCall]

func (c *productCall) part(i, _, _ int) {
	s, m, out, y := &c.pw.stripes[i], c.m, c.out, c.y
	if c.bias == nil {
		kern.SgemmPacked(false, m, s.to-s.from, c.in, 1, c.x, c.in, &s.p, 0, y[s.from:], out)
	} else {
		kern.SgemmPackedBias(false, m, s.to-s.from, c.in, c.x, c.in, &s.p, c.bias[s.from:], y[s.from:], out)
	}
	if c.then != nil {
		for r := 0; r < m; r++ {
			c.then(y[r*out+s.from : r*out+s.to])
		}
	}
}

// linearInferKernel is Linear with its weight packed once: inputs x
// [N, …, in], w [out, in], optional b [out]; output [N, …, out]; with
// gelu, GELU(Linear) (LinearGELU); with relu, ReLU(Linear) (LinearReLU).
type linearInferKernel struct {
	w          *packedWeights // shared by the model's serving machines
	gelu, relu bool
	site       productSite
	// For a batch of few rows (transposedRows): each thread's buffer for
	// the input transposed and packed, and the output transposed, reused
	// from run to run.
	xts   [][]float32
	yt    []float32
	tsite transposedSite
}

func (k *linearInferKernel) name() string {
	switch {
	case k.gelu:
		return "LinearGELU(packed)"
	case k.relu:
		return "LinearReLU(packed)"
	}
	return "Linear(packed)"
}

func (*linearInferKernel) differentiable() []bool { return []bool{false, false, false} }

func (*linearInferKernel) outShape(in []tensor.Shape) (tensor.Shape, error) {
	return linearKernel[float32]{}.outShape(in)
}

func (k *linearInferKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, w, y := values[float32](in[0]), values[float32](in[1]), values[float32](out)
	n, d, m := linearDims(in[0], in[1])
	var bias []float32
	if len(in) == 3 {
		bias = values[float32](in[2])
	}
	var then func(row []float32)
	switch {
	case k.gelu:
		then = geluRow
	case k.relu:
		then = reluRow
	}
	if !k.gelu && transposedRows(n, d, m) {
		k.w.packRows(w, m, d)
		k.yt = resizeT(k.yt, m*n)
		k.w.productT(&k.tsite, x, n, d, m, bias, y, &k.xts, k.yt, k.relu)
		return nil
	}
	k.w.pack(w, m, d)
	k.w.productThen(&k.site, x, n, d, m, bias, y, then)
	return nil
}

func (*linearInferKernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}

// geluRow is GELU in place, fused into a product (productThen).
func geluRow(row []float32) { kern.GELU(row, row) }

// reluRow is ReLU in place, fused into a product (productThen): the ReLU
// node's kernel, so the same bits.
func reluRow(row []float32) { kern.ReLU(row, row) }

var errInferOnly = fmt.Errorf("graph: an inference kernel has no backward pass")

// EmbeddingConv1DPool is TextCNN's front end —
// MaxPool1D(ReLU(Conv1D(SwapAxes(Embedding(ids)))), pool) — under the
// parameter names of Embedding ("<emb>.weight" [vocab, dim]) and Conv1D
// ("<conv>.weight" [out, dim, kernel], "<conv>.bias"): ids [N, L] →
// [N, out, (L−kernel+1−pool)/pool+1]. Training and evaluation graphs build
// those layers; the serving graph computes them in one kernel: the
// embedding rows of a batch are gathered once, [N·L, dim], and since a
// window of kernel consecutive rows is contiguous in that layout, the whole
// batch's convolution is one product over overlapping rows (lda = dim) with
// the weight laid out [kernel·dim, out]. Pooling, bias and ReLU then read
// the product in place.
func EmbeddingConv1DPool(b *Builder, emb, conv string, ids *G.Node, vocab, dim int, cfg Conv1DConfig, pool int) *G.Node {
	simple := cfg.Stride <= 1 && cfg.Padding == 0 && cfg.Bias
	if q := quantFor(b, conv+".weight"); q != nil && q.InputScale > 0 && simple && ids.Dims() == 2 {
		w := b.Param(emb+".weight", []int{vocab, dim}, Normal(1))
		cw := b.Param(conv+".weight", []int{cfg.Out, dim, cfg.Kernel}, KaimingUniform)
		cb := b.Param(conv+".bias", []int{cfg.Out}, BiasUniform(dim*cfg.Kernel))
		return mustApply(&embedConvPoolInt8Kernel{pool: pool, q: q}, ids, w, cw, cb)
	}
	if !inferFast(b) || !simple {
		x := Embedding(b, emb, ids, vocab, dim, NoPadding)
		if simple {
			calibrateTable(b, emb, conv)
		}
		x = ReLU(Conv1D(b, conv, SwapAxes(x), cfg))
		return MaxPool1D(x, pool, 0)
	}
	if ids.Dims() != 2 {
		panic(shapeErr(emb, ids.Shape(), "[N, L]"))
	}
	w := b.Param(emb+".weight", []int{vocab, dim}, Normal(1))
	cw := b.Param(conv+".weight", []int{cfg.Out, dim, cfg.Kernel}, KaimingUniform)
	cb := b.Param(conv+".bias", []int{cfg.Out}, BiasUniform(dim*cfg.Kernel))
	k := &embedConvPoolKernel{pool: pool, packed: b.Params.packedFor(conv + ".weight/KE"), calib: b.Params.calibFor(conv + ".weight"), embCalib: b.Params.calibFor(emb + ".weight")}
	if k.calib == nil && vocab*cfg.Kernel*cfg.Out <= maxTokenTable {
		k.table = b.Params.tableFor(emb + ".weight×" + conv + ".weight")
	}
	return mustApply(k, ids, w, cw, cb)
}

// maxTokenTable caps a token table's values (64 MiB of float32): above it,
// as for a very large vocabulary, the kernel takes the product path.
const maxTokenTable = 1 << 24

// tokenTable holds, for every token v and tap j, the convolution's
// response to v at tap j: T[v, j, o] = Σ_c W[o, c, j]·E[v, c], laid out
// [V, K·O]. A window's convolution is then the sum of K rows of T, which
// is cheaper than the product by the embedding width E (K·O additions per
// position instead of K·E·O multiply-adds), whatever the batch.
type tokenTable struct {
	once sync.Once
	t    []float32
}

// build computes the table from the embedding [V, E] and the weight
// [O, E, K] on first use.
func (tt *tokenTable) build(emb, w []float32, vocab, e, o, kw int) []float32 {
	tt.once.Do(func() {
		// [O, E, K] → [E, K·O], so that T = E·W' is one product.
		wt := make([]float32, e*kw*o)
		for oc := 0; oc < o; oc++ {
			for c := 0; c < e; c++ {
				for j := 0; j < kw; j++ {
					wt[c*kw*o+j*o+oc] = w[(oc*e+c)*kw+j]
				}
			}
		}
		tt.t = make([]float32, vocab*kw*o)
		kern.Sgemm(maxThreads(), false, false, vocab, kw*o, e, 1, emb, e, wt, kw*o, 0, tt.t, kw*o)
	})
	return tt.t
}

// embedConvPoolKernel: inputs ids [N, L], embedding [V, E], conv weight
// [O, E, K], conv bias [O]; output [N, O, P].
type embedConvPoolKernel struct {
	pool   int
	packed *packedWeights // the conv weight as [O, K·E], shared by the model's serving machines
	// While calibrating (quant.go): the range of the whole embedding table,
	// recorded for the convolution's static input scale and for the table
	// itself, which is then quantized with that one scale so that the int8
	// convolution gathers it without a second rounding.
	calib, embCalib *calibStat
	table           *tokenTable // when set (not calibrating, table small enough), the convolution sums its rows
	x               []float32   // gathered embeddings [N·L, E]
	best            []float32   // one pooling window's maximum per channel
	y               []float32   // the product [N·L−K+1, O]
	site            forkSite[embedConvCall, *embedConvCall]
}

func (k *embedConvPoolKernel) name() string {
	return fmt.Sprintf("EmbeddingConv1DPool(pool=%d)", k.pool)
}

func (*embedConvPoolKernel) differentiable() []bool { return make([]bool, 4) }

func (k *embedConvPoolKernel) outShape(in []tensor.Shape) (tensor.Shape, error) {
	ids, emb, w, bias := in[0], in[1], in[2], in[3]
	switch {
	case len(ids) != 2 || len(emb) != 2 || len(w) != 3 || len(bias) != 1:
		return nil, fmt.Errorf("ids %v, embedding %v, weight %v, bias %v: expected [N, L], [V, E], [O, E, K], [O]", ids, emb, w, bias)
	case w[1] != emb[1] || bias[0] != w[0]:
		return nil, fmt.Errorf("embedding %v, weight %v and bias %v do not fit", emb, w, bias)
	case ids[1] < w[2] || ids[1]-w[2]+1 < k.pool || k.pool < 1:
		return nil, fmt.Errorf("length %d is too short for kernel %d and pool %d", ids[1], w[2], k.pool)
	}
	lout := ids[1] - w[2] + 1
	return tensor.Shape{ids[0], w[0], (lout-k.pool)/k.pool + 1}, nil
}

func (k *embedConvPoolKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	ids, emb := values[float32](in[0]), values[float32](in[1])
	w, bias, y := values[float32](in[2]), values[float32](in[3]), values[float32](out)
	n, l := in[0].Shape()[0], in[0].Shape()[1]
	vocab, e := in[1].Shape()[0], in[1].Shape()[1]
	o, kw := in[2].Shape()[0], in[2].Shape()[2]
	lout := l - kw + 1
	p := (lout-k.pool)/k.pool + 1
	for i, f := range ids {
		id := int(f)
		if id < 0 || id >= vocab || float32(id) != f {
			return fmt.Errorf("token id %v at position %d is outside [0, %d)", f, i, vocab)
		}
	}
	if k.table != nil {
		k.forwardTable(k.table.build(emb, w, vocab, e, o, kw), ids, bias, y, n, l, o, kw, p)
		return nil
	}
	k.packed.packWith(o, kw*e, func() []float32 {
		// [O, E, K] → [O, K·E]: a window of K rows of E values is K·E
		// contiguous values, in that order.
		wKE := make([]float32, o*kw*e)
		for oc := 0; oc < o; oc++ {
			for c := 0; c < e; c++ {
				for j := 0; j < kw; j++ {
					wKE[oc*kw*e+j*e+c] = w[(oc*e+c)*kw+j]
				}
			}
		}
		return wKE
	})
	if len(k.x) != n*l*e {
		k.x = make([]float32, n*l*e)
		k.y = make([]float32, (n*l-kw+1)*o)
	}
	for i, f := range ids {
		id := int(f)
		copy(k.x[i*e:(i+1)*e], emb[id*e:(id+1)*e])
	}
	if k.calib != nil {
		k.calib.observe(emb)
		k.embCalib.observe(emb)
	}
	// Rows r = n·L + t for t ≤ L−K are example n's windows; the K−1 rows
	// between examples straddle two and are computed but never read.
	rows := n*l - kw + 1
	k.packedProduct(rows, kw*e, o, e)
	// Pool along time reading the product's rows whole: channels are
	// contiguous in [rows, O]. Go's max is NaN when an argument is, so NaN
	// propagates as in PyTorch.
	if cap(k.best) < o {
		k.best = make([]float32, o)
	}
	best := k.best[:o]
	for ex := 0; ex < n; ex++ {
		base := k.y[ex*l*o:]
		for q := 0; q < p; q++ {
			copy(best, base[q*k.pool*o:][:o])
			for t := q*k.pool + 1; t < q*k.pool+k.pool; t++ {
				for oc, v := range base[t*o : t*o+o] {
					best[oc] = max(best[oc], v)
				}
			}
			yq := y[ex*o*p+q:]
			for oc, v := range best {
				yq[oc*p] = max(v+bias[oc], 0)
			}
		}
	}
	return nil
}

// forwardTable computes the kernel's output from the token table t
// [V, K·O]: each position's convolution is the sum of its K tokens' rows,
// pooled, biased and rectified as in forward. ids are checked already.
func (k *embedConvPoolKernel) forwardTable(t, ids, bias, y []float32, n, l, o, kw, p int) {
	if cap(k.best) < 2*o {
		k.best = make([]float32, 2*o)
	}
	best, acc := k.best[:o], k.best[o:2*o]
	stride := kw * o
	for ex := 0; ex < n; ex++ {
		row := ids[ex*l : (ex+1)*l]
		for q := 0; q < p; q++ {
			for t0 := q * k.pool; t0 < q*k.pool+k.pool; t0++ {
				dst := acc
				if t0 == q*k.pool {
					dst = best
				}
				copy(dst, t[int(row[t0])*stride:][:o])
				for j := 1; j < kw; j++ {
					kern.AddTo(dst, t[int(row[t0+j])*stride+j*o:][:o])
				}
				if t0 != q*k.pool {
					// Go's max is NaN when an argument is: NaN propagates
					// as in PyTorch.
					for oc, v := range acc {
						best[oc] = max(best[oc], v)
					}
				}
			}
			yq := y[ex*o*p+q:]
			for oc, v := range best {
				yq[oc*p] = max(v+bias[oc], 0)
			}
		}
	}
}

func (*embedConvPoolKernel) writesAll(int) bool { return true }

func (*linearInferKernel) writesAll(int) bool { return true }

// packedProduct is y [rows, o] = X·Wᵀ where X's row r starts at x[r·lda]
// and holds kdim values.
func (k *embedConvPoolKernel) packedProduct(rows, kdim, o, lda int) {
	c := embedConvCall{k: k, rows: rows, kdim: kdim, o: o, lda: lda}
	if len(k.packed.stripes) > 1 {
		k.site.fork(len(k.packed.stripes), c)
		return
	}
	// One stripe (few output channels): split the rows instead.
	c.byRows = max(1, min(maxThreads(), rows/(4*k.packed.stripes[0].p.TileRows())))
	k.site.fork(c.byRows, c)
}

// embedConvCall is packedProduct's arguments: part i computes stripe i,
// or, with byRows parts, rows i·rows/byRows up to the next part's.
type embedConvCall struct {
	k                  *embedConvPoolKernel
	rows, kdim, o, lda int
	byRows             int
}

func (c *embedConvCall) part(i, _, _ int) {
	k := c.k
	if c.byRows == 0 {
		s := &k.packed.stripes[i]
		kern.SgemmPacked(false, c.rows, s.to-s.from, c.kdim, 1, k.x, c.lda, &s.p, 0, k.y[s.from:], c.o)
		return
	}
	s := &k.packed.stripes[0]
	from, to := i*c.rows/c.byRows, (i+1)*c.rows/c.byRows
	kern.SgemmPacked(false, to-from, s.to-s.from, c.kdim, 1, k.x[from*c.lda:], c.lda, &s.p, 0, k.y[from*c.o+s.from:], c.o)
}

func (*embedConvPoolKernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}
