package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// EmbeddingConvMax is the Kim (2014) TextCNN's front end under the
// parameter names of Embedding ("<emb>.weight" [vocab, dim], row 0 the
// padding: zero, without gradient) and one Conv1D per width
// ("<convs[i]>.weight" [filters, dim, widths[i]], "<convs[i]>.bias"):
// ids [N, L] → [N, filters·len(widths)], width by width
//
//	ReLU(TextMaxPool(Conv1D(SwapAxes(Embedding(ids)), padding widths[i]−1), ids))
//
// that is, each filter's largest response over the windows of a full
// convolution that touch a token. The serving graph computes each width
// in one kernel (embedConvMaxKernel), in int8 when the checkpoint is.
func EmbeddingConvMax(b *Builder, emb string, convs []string, ids *G.Node, vocab, dim, filters int, widths []int) *G.Node {
	if ids.Dims() != 2 {
		panic(shapeErr(emb, ids.Shape(), "[N, L]"))
	}
	feats := make([]*G.Node, len(widths))
	if b.Mode == Infer && b.Dtype() == tensor.Float32 {
		fused := true
		for i := range widths {
			q := quantFor(b, convs[i]+".weight")
			fused = fused && (q != nil && q.InputScale > 0 || inferFast(b))
		}
		if fused {
			w := b.Param(emb+".weight", []int{vocab, dim}, Normal(1))
			b.role(emb+".weight", RoleEmbedding)
			for i, k := range widths {
				cw := b.Param(convs[i]+".weight", []int{filters, dim, k}, KaimingUniform)
				b.role(convs[i]+".weight", RoleConv)
				cb := b.Param(convs[i]+".bias", []int{filters}, BiasUniform(dim*k))
				if q := quantFor(b, convs[i]+".weight"); q != nil && q.InputScale > 0 {
					feats[i] = mustApply(&embedConvMaxInt8Kernel{q: q}, ids, w, cw, cb)
					continue
				}
				kk := &embedConvMaxKernel{embedConvPoolKernel: embedConvPoolKernel{
					packed: b.Params.packedFor(convs[i] + ".weight/KE"),
					calib:  b.Params.calibFor(convs[i] + ".weight"), embCalib: b.Params.calibFor(emb + ".weight")}}
				if kk.calib == nil && vocab*k*filters <= maxTokenTable {
					kk.table = b.Params.tableFor(emb + ".weight×" + convs[i] + ".weight")
				}
				feats[i] = mustApply(kk, ids, w, cw, cb)
			}
			return Concat(feats...)
		}
	}
	x := SwapAxes(Embedding(b, emb, ids, vocab, dim, 0)) // [N, E, L]
	calibrateTable(b, emb, convs...)
	for i, k := range widths {
		c := Conv1D(b, convs[i], x, Conv1DConfig{Out: filters, Kernel: k, Padding: k - 1, Bias: true}) // [N, F, L+k−1]
		feats[i] = ReLU(TextMaxPool(c, ids, k, 0))                                                     // [N, F]
	}
	return Concat(feats...)
}

// embedConvMaxKernel is one width of EmbeddingConvMax in the serving
// graph: inputs ids [N, L], embedding [V, E], conv weight [O, E, K], conv
// bias [O]; output [N, O]. Each example's row of ids gets K−1 positions
// of zeros on both sides (the convolution's padding, true zeros whatever
// the padding id's row holds); the windows are then computed as
// embedConvPoolKernel computes them — summing rows of the token table, or
// one product over the gathered embeddings — and only the windows that
// touch a token are pooled.
type embedConvMaxKernel struct {
	embedConvPoolKernel
	valid []bool // one example's valid windows
	// The token table's windows are summed and pooled a chunk of examples
	// per thread, each with its own scratch.
	chunkScratch perThread[float32] // best and acc
	chunkValid   [][]bool
	windows      forkSite[tableWindowsCall, *tableWindowsCall]
}

// tableWindowsCall is the token-table path's pooling: part chunk computes
// the outputs of the examples [from, to).
type tableWindowsCall struct {
	k         *embedConvMaxKernel
	t, ids, y []float32
	bias      []float32
	l, kw, o  int
}

func (c *tableWindowsCall) part(chunk, from, to int) {
	k, l, kw, o := c.k, c.l, c.kw, c.o
	buf := k.chunkScratch.bufs[chunk]
	best, acc := buf[:o], buf[o:2*o]
	valid := k.chunkValid[chunk][:l+kw-1]
	stride := kw * o
	for ex := from; ex < to; ex++ {
		row := c.ids[ex*l : (ex+1)*l]
		windowsOf(row, kw, valid)
		poolWindows(c.y[ex*o:(ex+1)*o], c.bias, best, valid, func(t0 int) []float32 {
			clear(acc)
			// Window t0 reads positions t0−K+1 … t0 at taps 0 … K−1.
			for j := 0; j < kw; j++ {
				if s := t0 - kw + 1 + j; s >= 0 && s < l {
					kern.AddTo(acc, c.t[int(row[s])*stride+j*o:][:o])
				}
			}
			return acc
		})
	}
}

func (k *embedConvMaxKernel) name() string { return "EmbeddingConvMax" }

func (*embedConvMaxKernel) differentiable() []bool { return make([]bool, 4) }

func (*embedConvMaxKernel) outShape(in []tensor.Shape) (tensor.Shape, error) {
	return embedConvMaxShape(in)
}

func embedConvMaxShape(in []tensor.Shape) (tensor.Shape, error) {
	ids, emb, w, bias := in[0], in[1], in[2], in[3]
	switch {
	case len(ids) != 2 || len(emb) != 2 || len(w) != 3 || len(bias) != 1:
		return nil, fmt.Errorf("ids %v, embedding %v, weight %v, bias %v: expected [N, L], [V, E], [O, E, K], [O]", ids, emb, w, bias)
	case w[1] != emb[1] || bias[0] != w[0] || ids[1] < 1:
		return nil, fmt.Errorf("ids %v, embedding %v, weight %v and bias %v do not fit", ids, emb, w, bias)
	}
	return tensor.Shape{ids[0], w[0]}, nil
}

// checkIDs reports the first id outside [0, vocab).
func checkIDs(ids []float32, vocab int) error {
	for i, f := range ids {
		id := int(f)
		if id < 0 || id >= vocab || float32(id) != f {
			return fmt.Errorf("token id %v at position %d is outside [0, %d)", f, i, vocab)
		}
	}
	return nil
}

// poolWindows writes y [O] = ReLU(max over the valid windows of one
// example + bias), reading window t's responses at conv(t) [O], or zeros
// when no window is valid.
func poolWindows(y, bias, best []float32, valid []bool, conv func(t int) []float32) {
	first := true
	for t, ok := range valid {
		if !ok {
			continue
		}
		c := conv(t)
		if first {
			copy(best, c)
			first = false
			continue
		}
		// Go's max is NaN when an argument is: NaN propagates as in
		// PyTorch.
		for o, v := range c {
			best[o] = max(best[o], v)
		}
	}
	if first {
		clear(y)
		return
	}
	for o, v := range best {
		y[o] = max(v+bias[o], 0)
	}
}

func (k *embedConvMaxKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	ids, emb := values[float32](in[0]), values[float32](in[1])
	w, bias, y := values[float32](in[2]), values[float32](in[3]), values[float32](out)
	n, l := in[0].Shape()[0], in[0].Shape()[1]
	vocab, e := in[1].Shape()[0], in[1].Shape()[1]
	o, kw := in[2].Shape()[0], in[2].Shape()[2]
	if err := checkIDs(ids, vocab); err != nil {
		return err
	}
	if k.table != nil {
		t := k.table.build(emb, w, vocab, e, o, kw)
		k.chunkScratch.ensure(n, 2*o)
		for len(k.chunkValid) < len(k.chunkScratch.bufs) {
			k.chunkValid = append(k.chunkValid, nil)
		}
		for c := range k.chunkValid {
			k.chunkValid[c] = resizeBools(k.chunkValid[c], l+kw-1)
		}
		k.windows.chunks(n, tableWindowsCall{k: k, t: t, ids: ids, y: y, bias: bias, l: l, kw: kw, o: o})
		return nil
	}
	k.valid = resizeBools(k.valid, l+kw-1)
	valid := k.valid
	if cap(k.best) < o {
		k.best = make([]float32, o)
	}
	best := k.best[:o]
	k.packed.packWith(o, kw*e, func() []float32 { return weightKE(w, o, e, kw) })
	// Example ex's padded row starts at row ex·P of x: K−1 zero rows, its L
	// embeddings, K−1 zero rows; window t is product row ex·P + t.
	p := l + 2*(kw-1)
	if len(k.x) != n*p*e {
		k.x = make([]float32, n*p*e)
		k.y = make([]float32, (n*p-kw+1)*o)
	}
	for ex := 0; ex < n; ex++ {
		for s, f := range ids[ex*l : (ex+1)*l] {
			id := int(f)
			copy(k.x[(ex*p+kw-1+s)*e:][:e], emb[id*e:(id+1)*e])
		}
	}
	if k.calib != nil {
		k.calib.observe(emb)
		k.embCalib.observe(emb)
	}
	k.packedProduct(n*p-kw+1, kw*e, o, e)
	for ex := 0; ex < n; ex++ {
		windowsOf(ids[ex*l:(ex+1)*l], kw, valid)
		base := k.y[ex*p*o:]
		poolWindows(y[ex*o:(ex+1)*o], bias, best, valid, func(t int) []float32 { return base[t*o : t*o+o] })
	}
	return nil
}

// resizeBools returns s with length n, reallocated only when its
// capacity is short.
func resizeBools(s []bool, n int) []bool {
	if cap(s) < n {
		return make([]bool, n)
	}
	return s[:n]
}

// windowsOf marks the windows of a full convolution of width kw over a row
// of ids that touch a token (TextMaxPool's rule).
func windowsOf(row []float32, kw int, valid []bool) { windows(row, kw, 0, valid) }

// weightKE lays a conv weight [O, E, K] out as [O, K·E]: a window of K
// rows of E values is K·E contiguous values, in that order.
func weightKE(w []float32, o, e, kw int) []float32 {
	wKE := make([]float32, o*kw*e)
	for oc := 0; oc < o; oc++ {
		for c := 0; c < e; c++ {
			for j := 0; j < kw; j++ {
				wKE[oc*kw*e+j*e+c] = w[(oc*e+c)*kw+j]
			}
		}
	}
	return wKE
}

func (*embedConvMaxKernel) writesAll(int) bool { return true }

func (*embedConvMaxKernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}

// embedConvMaxInt8Kernel is embedConvMaxKernel with an int8 convolution,
// as embedConvPoolInt8Kernel is embedConvPoolKernel's: the embedding table
// requantized once with the convolution's static input scale and gathered
// into the int8 input, the padding positions holding the encoding of 0.
type embedConvMaxInt8Kernel struct {
	q     *QuantWeight
	acts  kern.QActs
	y     []float32
	best  []float32
	valid []bool // one example's valid windows

	scale, zeros []float32 // per channel: the product's dequantization
	prod         qStatic
}

func (*embedConvMaxInt8Kernel) name() string { return "EmbeddingConvMax(int8)" }

func (*embedConvMaxInt8Kernel) differentiable() []bool { return make([]bool, 4) }

func (k *embedConvMaxInt8Kernel) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if w := in[2]; w.TotalSize() != len(k.q.Q) || w[0] != k.q.Rows() {
		return nil, fmt.Errorf("weight %v does not fit its int8 form %v", w, k.q.Shape)
	}
	return embedConvMaxShape(in)
}

func (k *embedConvMaxInt8Kernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	ids, emb := values[float32](in[0]), values[float32](in[1])
	bias, y := values[float32](in[3]), values[float32](out)
	n, l := in[0].Shape()[0], in[0].Shape()[1]
	vocab, e := in[1].Shape()[0], in[1].Shape()[1]
	o, kw := in[2].Shape()[0], in[2].Shape()[2]
	if err := checkIDs(ids, vocab); err != nil {
		return err
	}
	sIn := k.q.InputScale
	arch := kern.QGemmArch()
	elem := arch.Elem()
	table := k.q.embedTable(emb, sIn, arch)
	packed := k.q.packedKE(arch, o, e, kw)
	p := l + 2*(kw-1)
	rows := n*p - kw + 1
	k.y = lstmResize(k.y, rows*o)
	row := e * elem
	size := n*p*row + (packed.Depth()-kw*e)*elem
	if cap(k.acts.Buf) < size {
		k.acts.Buf = make([]byte, size)
	}
	k.acts.Buf = k.acts.Buf[:size]
	fill(k.acts.Buf[:n*p*row], arch.ZeroByte()) // the encoding of 0 in every byte
	clear(k.acts.Buf[n*p*row:])
	k.acts.LDA, k.acts.Rows = row, rows
	for ex := 0; ex < n; ex++ {
		for s, f := range ids[ex*l : (ex+1)*l] {
			id := int(f)
			copy(k.acts.Buf[(ex*p+kw-1+s)*row:][:row], table[id*row:(id+1)*row])
		}
	}
	k.scale, k.zeros = k.q.staticScales(k.scale, k.zeros, o)
	k.prod.run(qthreads(rows, o, kw*e), &k.acts, packed, k.y, o, k.scale, k.zeros)
	if cap(k.best) < o {
		k.best = make([]float32, o)
	}
	k.valid = resizeBools(k.valid, l+kw-1)
	valid := k.valid
	for ex := 0; ex < n; ex++ {
		windowsOf(ids[ex*l:(ex+1)*l], kw, valid)
		base := k.y[ex*p*o:]
		poolWindows(y[ex*o:(ex+1)*o], bias, k.best[:o], valid, func(t int) []float32 { return base[t*o : t*o+o] })
	}
	return nil
}

func (*embedConvMaxInt8Kernel) writesAll(int) bool { return true }

func (*embedConvMaxInt8Kernel) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return errInferOnly
}

// embedTable is the embedding table quantized with the static input scale
// sIn and encoded for arch, [V, E·elem] bytes, made once per weight.
// packedKE is the int8 convolution weight [O, E, K] reordered to [O, K·E]
// (a window of K token rows is one row of the product) and packed, once
// per weight.
func (q *QuantWeight) packedKE(arch *kern.QArch, o, e, kw int) *kern.QPacked {
	if pk, ok := q.extra.Load("KE"); ok {
		return pk.(*kern.QPacked)
	}
	wKE := make([]int8, len(q.Q))
	for oc := 0; oc < o; oc++ {
		for c := 0; c < e; c++ {
			for j := 0; j < kw; j++ {
				wKE[oc*kw*e+j*e+c] = q.Q[(oc*e+c)*kw+j]
			}
		}
	}
	pk, _ := q.extra.LoadOrStore("KE", kern.QPack(arch, o, kw*e, wKE, kw*e))
	return pk.(*kern.QPacked)
}

func (q *QuantWeight) embedTable(emb []float32, sIn float32, arch *kern.QArch) []byte {
	tab, ok := q.extra.Load("table")
	if !ok {
		v := make([]int8, len(emb))
		quantizeInto(v, emb, 1/sIn)
		t := &embedTable{enc: make([]byte, len(emb)*arch.Elem())}
		arch.Encode(t.enc, v)
		tab, _ = q.extra.LoadOrStore("table", t)
	}
	return tab.(*embedTable).enc
}

// calibrateTable records, while calibrating, the embedding table's range
// as the input range of the convolutions reading it, as the fused kernels
// do in forward: the int8 kernels quantize the whole table with that
// scale. The unfused path (no packed kernels: TAPEML_SIMD=generic, purego)
// records it here, once the table exists, so calibration does not depend
// on the kernel path.
func calibrateTable(b *Builder, emb string, convs ...string) {
	p := b.Params.Get(emb + ".weight")
	if b.Mode != Infer || p == nil || p.Value == nil || p.Value.Dtype() != tensor.Float32 {
		return
	}
	table := b.Params.calibFor(emb + ".weight")
	if table == nil {
		return // not calibrating
	}
	table.observe(p.Value.Float32s())
	for _, c := range convs {
		b.Params.calibFor(c + ".weight").merge(table)
	}
}
