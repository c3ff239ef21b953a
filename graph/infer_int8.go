package graph

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// The int8 serving kernels (quant.go explains the scheme). Each has the
// inputs of the float32 kernel it replaces, so a model builds the same
// graph either way; the float32 weight inputs are not read.

// qthreads is the number of goroutines an int8 product of m×n×k uses:
// one below about a million multiply-adds, where starting goroutines costs
// more than it saves.
func qthreads(m, n, k int) int {
	if m*n*k < 1<<20 {
		return 1
	}
	return maxThreads()
}

// ones are the row scales of products whose rows need none.
var ones = []float32{1, 1, 1, 1, 1, 1, 1, 1}

// qRows is a scratch buffer of rows quantized at run time, and the
// product of those rows (qLinear) run without allocating.
type qRows struct {
	s     []float32
	acts  kern.QActs // the rows encoded for the int8 kernel
	quant quantSite
	prod  qProduct
	// The product's dequantization (dequant), read by every tile.
	y, bias, sw, zeros []float32
	ldy                int
	accumulate         bool
	visit              kern.QVisit // r.dequant, made once
}

// dequant is qLinear's kern.QVisit.
func (r *qRows) dequant(i0, rows, j0, cols int, tile []int32, ldt int, offs []int32) {
	var b []float32
	if !r.accumulate {
		b = r.bias[j0 : j0+cols]
	}
	kern.DequantTile(r.y[i0*r.ldy+j0:], r.ldy, tile, ldt, rows, cols, offs, r.sw[j0:j0+cols], r.s[i0:i0+rows], b, r.accumulate)
}

// qProduct runs int8 products (kern.QGemmPart) on the fork helpers,
// keeping its parts' tiles: one per kernel, LSTM direction or conv
// worker, so that a run allocates nothing.
type qProduct struct {
	site  forkSite[qProductCall, *qProductCall]
	tiles [][]int32
}

// run is kern.QGemmTiles(threads, acts, p, visit); visit must not be a
// closure made for the call (it would be allocated at every call).
func (q *qProduct) run(threads int, acts *kern.QActs, p *kern.QPacked, visit kern.QVisit) {
	parts := kern.QGemmParts(threads, acts, p)
	for len(q.tiles) < parts {
		q.tiles = append(q.tiles, nil)
	}
	for i := range parts {
		if len(q.tiles[i]) < p.TileLen() {
			q.tiles[i] = make([]int32, p.TileLen())
		}
	}
	q.site.fork(parts, qProductCall{q: q, acts: acts, p: p, parts: parts, visit: visit})
}

// qProductCall is qProduct.run's arguments: part i is kern.QGemmPart i.
type qProductCall struct {
	q     *qProduct
	acts  *kern.QActs
	p     *kern.QPacked
	parts int
	visit kern.QVisit
}

func (c *qProductCall) part(i, _, _ int) {
	kern.QGemmPart(i, c.parts, c.acts, c.p, c.q.tiles[i], c.visit)
}

// qStatic is an int8 convolution's product dequantized into y [rows, o]
// with per-channel scales and shifts (kern.DequantTile): a kernel's, or
// one of its workers', so that a run allocates nothing.
type qStatic struct {
	prod         qProduct
	y            []float32
	o            int
	scale, shift []float32
	visit        kern.QVisit // s.dequant, made once
}

// run sets y [acts.Rows, o] = (acts·pᵀ)·scale + shift, column by column,
// on up to threads goroutines.
func (s *qStatic) run(threads int, acts *kern.QActs, p *kern.QPacked, y []float32, o int, scale, shift []float32) {
	if s.visit == nil {
		s.visit = s.dequant
	}
	s.y, s.o, s.scale, s.shift = y, o, scale, shift
	s.prod.run(threads, acts, p, s.visit)
	s.y, s.scale, s.shift = nil, nil, nil
}

func (s *qStatic) dequant(i0, rows, j0, cols int, tile []int32, ldt int, offs []int32) {
	kern.DequantTile(s.y[i0*s.o+j0:], s.o, tile, ldt, rows, cols, offs, s.scale[j0:j0+cols], ones[:rows], s.shift[j0:j0+cols], false)
}

// qLinear sets (or, when accumulate, adds to) y [m, n] (rows ldy apart)
// x·Wᵀ (+ bias) for x [m, k] (rows lda apart) quantized per row into r
// and W's int8 form.
func qLinear(threads int, x []float32, m, k, lda int, w *QuantWeight, y []float32, ldy int, accumulate bool, bias []float32, r *qRows) {
	p := w.pack()
	if cap(r.s) < m {
		r.s = make([]float32, m)
	}
	r.s = r.s[:m]
	quantizeEncodeRowsThreads(&r.quant, threads, p, x, m, k, lda, &r.acts, r.s)
	sw := w.Scale
	if bias == nil && !accumulate {
		if len(r.zeros) < len(sw) {
			r.zeros = make([]float32, len(sw))
		}
		bias = r.zeros[:len(sw)]
	}
	if r.visit == nil {
		r.visit = r.dequant
	}
	r.y, r.ldy, r.accumulate, r.bias, r.sw = y, ldy, accumulate, bias, sw
	r.prod.run(threads, &r.acts, p, r.visit)
	r.y, r.bias, r.sw = nil, nil, nil
}

// linearInt8Kernel is Linear with an int8 weight and activations
// quantized per row: inputs x [N, …, in], w [out, in] (unread), optional b.
type linearInt8Kernel struct {
	q *QuantWeight
	r qRows
}

func (*linearInt8Kernel) name() string { return "Linear(int8)" }

func (*linearInt8Kernel) differentiable() []bool { return []bool{false, false, false} }

// writesAll: qLinear sets every output (bias or zeros plus the product),
// so the tape need not clear it first.
func (*linearInt8Kernel) writesAll(int) bool { return true }

func (k *linearInt8Kernel) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if w := in[1]; len(w) != 2 || w[0] != k.q.Rows() || w[1] != k.q.Cols() {
		return nil, fmt.Errorf("weight %v does not fit its int8 form %v", w, k.q.Shape)
	}
	return linearKernel[float32]{}.outShape(in)
}

func (k *linearInt8Kernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y := values[float32](in[0]), values[float32](out)
	n, d, m := linearDims(in[0], in[1])
	var bias []float32
	if len(in) == 3 {
		bias = values[float32](in[2])
	}
	qLinear(qthreads(n, m, d), x, n, d, d, k.q, y, m, false, bias, &k.r)
	return nil
}

func (*linearInt8Kernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}

// lstmQuant is one LSTM direction's int8 weights and scratch.
type lstmQuant struct {
	ih, hh *QuantWeight
	r      qRows
}

// int8Product adds x [m, kdim]·Wᵀ to y [m, 4H] with direction d's int8
// input (or, when recurrent, hidden) weights, and reports whether it did:
// false when the layer has no int8 weights.
func (k *lstmLayerKernel[T]) int8Product(d int, recurrent bool, m, kdim int, x, y []T) bool {
	q := k.quant[d]
	if q == nil || m == 0 {
		return q != nil
	}
	xf, ok := any(x).([]float32)
	if !ok {
		return false
	}
	yf := any(y).([]float32)
	w := q.ih
	if recurrent {
		w = q.hh
	}
	qLinear(min(sideThreads(k.dirs), qthreads(m, 4*k.hidden, kdim)), xf, m, kdim, kdim, w, yf, 4*k.hidden, true, nil, &q.r)
	return true
}

// foldedConvInt8Kernel is foldedConvKernel with an int8 weight and the
// input quantized with the static scale found by calibration. The batch
// normalization folds into the per-channel scales: quantizing W per output
// channel and then multiplying channel o by γ_o/√(var_o+eps) gives the
// same integers as quantizing the folded weight (the scale absorbs the
// factor). Each example's input is quantized once into HWC order, so that
// a window row of kw·C values is contiguous; the weight is laid out to
// match, [O, KH, KW, C], and the product is C[pos, o] over output
// positions.
type foldedConvInt8Kernel struct {
	q        *QuantWeight
	stride   int
	pad      int
	eps      float64
	bias     bool
	pool     int                // 2: 2×2 max-pooling and ReLU; 0: neither
	scratch  []*convInt8Scratch // per worker (a chunk of the batch)
	examples forkSite[convInt8Call, *convInt8Call]
	scale    []float32 // per channel: weight scale × BN factor × input scale
	shift    []float32 // per channel: folded bias
}

type convInt8Scratch struct {
	xq   []byte     // one example [H, W, C], quantized and encoded for the int8 kernel
	acts kern.QActs // [H'·W', KH·KW·C (padded)], encoded
	conv []float32  // [H'·W', O]
	prod qStatic
}

func (k *foldedConvInt8Kernel) name() string {
	return fmt.Sprintf("Conv2DBatchNorm(int8, stride=%d, pad=%d, pool=%d)", k.stride, k.pad, k.pool)
}

func (k *foldedConvInt8Kernel) differentiable() []bool { return make([]bool, 6+boolInt(k.bias)) }

func (k *foldedConvInt8Kernel) outShape(in []tensor.Shape) (tensor.Shape, error) {
	f := foldedConvKernel[float32]{conv: conv2dKernel[float32]{stride: k.stride, pad: k.pad}, bias: k.bias, pool: k.pool}
	if w := in[1]; w.TotalSize() != len(k.q.Q) || w[0] != k.q.Rows() {
		return nil, fmt.Errorf("weight %v does not fit its int8 form %v", w, k.q.Shape)
	}
	return f.outShape(in)
}

// hwcPacked is the weight [O, C, KH, KW] laid out [O, KH, KW, C] and packed.
func (k *foldedConvInt8Kernel) hwcPacked(c, kh, kw int) *kern.QPacked {
	if p, ok := k.q.extra.Load("hwc"); ok {
		return p.(*kern.QPacked)
	}
	o, q := k.q.Rows(), k.q.Q
	r := make([]int8, len(q))
	for oc := 0; oc < o; oc++ {
		for ch := 0; ch < c; ch++ {
			for i := 0; i < kh; i++ {
				for j := 0; j < kw; j++ {
					r[((oc*kh+i)*kw+j)*c+ch] = q[((oc*c+ch)*kh+i)*kw+j]
				}
			}
		}
	}
	p, _ := k.q.extra.LoadOrStore("hwc", kern.QPack(kern.QGemmArch(), o, kh*kw*c, r, kh*kw*c))
	return p.(*kern.QPacked)
}

func (k *foldedConvInt8Kernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	nConv := 2 + boolInt(k.bias)
	conv := conv2dKernel[float32]{stride: k.stride, pad: k.pad}
	d := conv.dims(in[0], in[1])
	packed := k.hwcPacked(d.c, d.kh, d.kw)
	var bias []float32
	if k.bias {
		bias = values[float32](in[2])
	}
	gamma, beta := values[float32](in[nConv]), values[float32](in[nConv+1])
	mean, variance := values[float32](in[nConv+2]), values[float32](in[nConv+3])
	sIn := k.q.InputScale
	k.scale, k.shift = lstmResize(k.scale, d.o), lstmResize(k.shift, d.o)
	for o := 0; o < d.o; o++ {
		f := float64(gamma[o]) / math.Sqrt(float64(variance[o])+k.eps)
		var b0 float64
		if bias != nil {
			b0 = float64(bias[o])
		}
		k.scale[o] = float32(float64(k.q.Scale[o]) * f * float64(sIn))
		k.shift[o] = float32((b0-float64(mean[o]))*f + float64(beta[o]))
	}
	x, y := values[float32](in[0]), values[float32](out)
	workers := workers(d.n)
	threads := max(1, maxThreads()/workers)
	for len(k.scratch) < workers {
		k.scratch = append(k.scratch, new(convInt8Scratch))
	}
	inv := 1 / sIn
	k.examples.chunks(d.n, convInt8Call{k: k, d: d, x: x, y: y, packed: packed, threads: threads, inv: inv})
	return nil
}

// convInt8Call is forward's arguments: part w convolves the examples
// [from, to) with worker w's scratch.
type convInt8Call struct {
	k       *foldedConvInt8Kernel
	d       conv2dDims
	x, y    []float32
	packed  *kern.QPacked
	threads int
	inv     float32 // 1 / the input scale
}

func (c *convInt8Call) part(w, from, to int) {
	k, d, x, y, packed, threads, inv := c.k, c.d, c.x, c.y, c.packed, c.threads, c.inv
	arch := packed.Arch()
	enc, elem := arch.Encoding(), arch.Elem()
	ph, pw := d.oh/2, d.ow/2
	s := k.scratch[w]
	s.xq = resizeBytes(s.xq, d.hw*d.c*elem)
	s.acts.LDA, s.acts.Rows = packed.Depth()*elem, d.ohw
	s.acts.Buf = resizeBytes(s.acts.Buf, d.ohw*s.acts.LDA)
	s.conv = lstmResize(s.conv, d.o*d.ohw)
	for n := from; n < to; n++ {
		xn := x[n*d.c*d.hw : (n+1)*d.c*d.hw]
		for ch := 0; ch < d.c; ch++ {
			plane := xn[ch*d.hw : (ch+1)*d.hw]
			switch enc {
			case kern.QInt16:
				for p, v := range plane {
					u := uint16(int16(kern.Quantize(v * inv)))
					at := 2 * (p*d.c + ch)
					s.xq[at], s.xq[at+1] = byte(u), byte(u>>8)
				}
			case kern.QOffset:
				for p, v := range plane {
					s.xq[p*d.c+ch] = byte(kern.Quantize(v*inv)) ^ 0x80
				}
			default:
				for p, v := range plane {
					s.xq[p*d.c+ch] = byte(kern.Quantize(v * inv))
				}
			}
		}
		k.im2colHWC(&s.acts, s.xq, d, elem, arch.ZeroByte())
		conv := s.conv // [H'·W', O]: the product's own layout
		s.prod.run(threads, &s.acts, packed, conv, d.o, k.scale, k.shift)
		if k.pool == 0 {
			yn := y[n*d.o*d.ohw : (n+1)*d.o*d.ohw]
			for p := 0; p < d.ohw; p++ {
				for o, v := range conv[p*d.o : (p+1)*d.o] {
					yn[o*d.ohw+p] = v
				}
			}
			continue
		}
		// 2×2 max-pooling (floor), then ReLU, reading whole rows
		// of channels.
		yn := y[n*d.o*ph*pw : (n+1)*d.o*ph*pw]
		for oy := 0; oy < ph; oy++ {
			for ox := 0; ox < pw; ox++ {
				p00 := (2*oy*d.ow + 2*ox) * d.o
				r00, r01 := conv[p00:p00+d.o], conv[p00+d.o:p00+2*d.o]
				r10, r11 := conv[p00+d.ow*d.o:][:d.o], conv[p00+(d.ow+1)*d.o:][:d.o]
				at := oy*pw + ox
				for o := range r00 {
					yn[o*ph*pw+at] = max(r00[o], r01[o], r10[o], r11[o], 0)
				}
			}
		}
	}
}

// staticScales returns the per-channel scales of the product of input
// quantized with the static scale and q (q's scale times the input's) and
// o zeros, in scale and zeros when they are large enough.
func (q *QuantWeight) staticScales(scale, zeros []float32, o int) ([]float32, []float32) {
	scale, zeros = lstmResize(scale, o), lstmResize(zeros, o)
	for oc := range scale {
		scale[oc] = q.Scale[oc] * q.InputScale
	}
	clear(zeros)
	return scale, zeros
}

func resizeBytes(s []byte, n int) []byte {
	if cap(s) < n {
		return make([]byte, n)
	}
	return s[:n]
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// im2colHWC fills row oy·W'+ox of acts, at depth (i·KW+j)·C+c, with
// xq[oy·s+i−p, ox·s+j−p, c] (an encoded 0 in the padding and past the
// depth KH·KW·C); values are elem bytes.
func (k *foldedConvInt8Kernel) im2colHWC(acts *kern.QActs, xq []byte, d conv2dDims, elem int, zero byte) {
	s, p, c := k.stride, k.pad, d.c*elem
	row := d.kw * c
	for oy := 0; oy < d.oh; oy++ {
		for ox := 0; ox < d.ow; ox++ {
			dst := acts.Buf[(oy*d.ow+ox)*acts.LDA:][:acts.LDA]
			fill(dst[d.kh*row:], zero)
			x0 := ox*s - p
			for i := 0; i < d.kh; i++ {
				yy := oy*s + i - p
				seg := dst[i*row : (i+1)*row]
				if yy < 0 || yy >= d.h {
					fill(seg, zero)
					continue
				}
				src := xq[yy*d.w*c:]
				if x0 >= 0 && x0+d.kw <= d.w && s == 1 {
					copy(seg, src[x0*c:(x0+d.kw)*c])
					continue
				}
				for j := 0; j < d.kw; j++ {
					xx := x0 + j
					if xx < 0 || xx >= d.w {
						fill(seg[j*c:(j+1)*c], zero)
					} else {
						copy(seg[j*c:(j+1)*c], src[xx*c:(xx+1)*c])
					}
				}
			}
		}
	}
}

func (*foldedConvInt8Kernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}

// embedConvPoolInt8Kernel is embedConvPoolKernel with an int8 convolution:
// the embedding table is requantized once with the convolution's static
// input scale, so gathering a batch's rows gives the int8 input directly,
// and the weight [O, E, K] is laid out [O, K·E] as in the float kernel.
// Inputs as embedConvPoolKernel's (the float weight is not read).
type embedConvPoolInt8Kernel struct {
	pool int
	q    *QuantWeight
	acts kern.QActs // gathered rows [N·L, E], encoded for the int8 kernel
	y    []float32  // [N·L−K+1, O]

	scale, zeros []float32 // per channel: the product's dequantization
	prod         qStatic
}

func (k *embedConvPoolInt8Kernel) name() string {
	return fmt.Sprintf("EmbeddingConv1DPool(int8, pool=%d)", k.pool)
}

func (*embedConvPoolInt8Kernel) differentiable() []bool { return make([]bool, 4) }

func (k *embedConvPoolInt8Kernel) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if w := in[2]; w.TotalSize() != len(k.q.Q) || w[0] != k.q.Rows() {
		return nil, fmt.Errorf("weight %v does not fit its int8 form %v", w, k.q.Shape)
	}
	return (&embedConvPoolKernel{pool: k.pool}).outShape(in)
}

// embedTable is the embedding table quantized with the static input scale
// and encoded for the int8 kernel, [V, E·elem] bytes.
type embedTable struct{ enc []byte }

func (k *embedConvPoolInt8Kernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	ids, emb := values[float32](in[0]), values[float32](in[1])
	bias, y := values[float32](in[3]), values[float32](out)
	n, l := in[0].Shape()[0], in[0].Shape()[1]
	vocab, e := in[1].Shape()[0], in[1].Shape()[1]
	o, kw := in[2].Shape()[0], in[2].Shape()[2]
	lout := l - kw + 1
	p := (lout-k.pool)/k.pool + 1
	sIn := k.q.InputScale
	arch := kern.QGemmArch()
	elem := arch.Elem()
	table := k.q.embedTable(emb, sIn, arch)
	packed := k.q.packedKE(arch, o, e, kw)
	rows := n*l - kw + 1
	k.y = lstmResize(k.y, rows*o)
	// Row r of the product is the window of K·E values from token r on:
	// the rows overlap (lda = E), and the last one reads the padding
	// depths of the packed weight past the end (zero there in B).
	row := e * elem
	size := n*l*row + (packed.Depth()-kw*e)*elem
	if cap(k.acts.Buf) < size {
		k.acts.Buf = make([]byte, size)
	}
	k.acts.Buf = k.acts.Buf[:size]
	clear(k.acts.Buf[n*l*row:])
	k.acts.LDA, k.acts.Rows = row, rows
	for i, f := range ids {
		id := int(f)
		if id < 0 || id >= vocab || float32(id) != f {
			return fmt.Errorf("token id %v at position %d is outside [0, %d)", f, i, vocab)
		}
		copy(k.acts.Buf[i*row:(i+1)*row], table[id*row:(id+1)*row])
	}
	k.scale, k.zeros = k.q.staticScales(k.scale, k.zeros, o)
	k.prod.run(qthreads(rows, o, kw*e), &k.acts, packed, k.y, o, k.scale, k.zeros)
	for ex := 0; ex < n; ex++ {
		base := k.y[ex*l*o:]
		for oc := 0; oc < o; oc++ {
			dst := y[(ex*o+oc)*p : (ex*o+oc+1)*p]
			for q := range dst {
				best := float32(math.Inf(-1))
				for t := q * k.pool; t < q*k.pool+k.pool; t++ {
					if v := base[t*o+oc]; v > best || v != v {
						best = v
					}
				}
				dst[q] = max(best+bias[oc], 0)
			}
		}
	}
	return nil
}

func (*embedConvPoolInt8Kernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}
