package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// AttentionConfig holds a multi-head self-attention's hyper-parameters and
// the names of its parameters.
type AttentionConfig struct {
	// Heads is the number of attention heads; required. It must divide the
	// model width D: each head attends in D/Heads dimensions.
	Heads int
	// Dropout is the probability of zeroing an attention probability in
	// the training graph (the rest are scaled by 1/(1−p)); default 0.
	Dropout float64
	// QKV names one packed input projection, nn.MultiheadAttention's:
	// "<QKV>_weight" [3D, D] and "<QKV>_bias" [3D], the query rows first,
	// then the key and value rows (QKV "self_attn.in_proj"). Leave it
	// empty to name three projections instead.
	QKV string
	// Query, Key and Value name three Linear projections, BERT's:
	// "<name>.weight" [D, D] and "<name>.bias" [D].
	Query, Key, Value string
	// Out names the output projection, a Linear "<Out>.weight" [D, D] and
	// "<Out>.bias" [D]; required.
	Out string
	// Init initializes the weights; nil is nn.MultiheadAttention's
	// (Xavier-uniform input projections, a kaiming-uniform output
	// projection). Biases start at zero either way.
	Init Init
}

// SelfAttention is multi-head scaled dot-product self-attention over
// x [N, T, D] with a key padding mask, as nn.MultiheadAttention(D, Heads,
// batch_first=True)(x, x, x, key_padding_mask=mask==0) and BERT's
// BertSelfAttention followed by its output dense layer:
//
//	Q, K, V = x·W_qᵀ + b_q, x·W_kᵀ + b_k, x·W_vᵀ + b_v   (split into Heads heads of D/Heads)
//	P = softmax(Q_h·K_hᵀ/√(D/Heads) over the real keys)  per example and head
//	y = concat_h(dropout(P)·V_h)·W_oᵀ + b_o
//
// mask [N, T] holds 1 at real tokens and 0 at padding (PaddingMask's
// convention); nil means no padding. Padded keys get probability 0; every
// query position, padded or not, gets an output, as in PyTorch. An example
// with no real token at all attends uniformly to all T positions (BERT
// with a float mask of the dtype's minimum does the same; PyTorch's
// boolean mask gives NaN).
//
// It is one fused node. It never materializes more than [N, Heads, T, T]
// per layer: the training graph keeps one such tensor (the probabilities
// before dropout, for backward) and, per thread, two [T, T] blocks of
// scratch; the dropout mask is not stored but drawn again in backward
// from a counter-based hash of (Noise.Seed, Noise.Step, layer, position),
// so masks are a pure function of those as with Dropout. Evaluation and
// serving graphs keep one [T, T] block per thread. Each head's products
// are sgemm calls (kern.Sgemm in float32) over strided views of the
// [N·T, 3D] projection, so no head is ever transposed or copied; the
// serving graph packs the projection weights once and stores the
// projections' biases with the products. Both products of a head stop at
// the example's last real key (keySpan): a short text padded to T costs
// its length in the attention, not T.
func SelfAttention(b *Builder, x, mask *G.Node, cfg AttentionConfig) *G.Node {
	if x.Dims() != 3 {
		panic(shapeErr("SelfAttention", x.Shape(), "[N, T, D]"))
	}
	n, t, d := x.Shape()[0], x.Shape()[1], x.Shape()[2]
	if mask != nil && !mask.Shape().Eq(tensor.Shape{n, t}) {
		panic(shapeErr("SelfAttention mask", mask.Shape(), fmt.Sprintf("[%d, %d]", n, t)))
	}
	separate := cfg.Query != "" && cfg.Key != "" && cfg.Value != ""
	switch {
	case cfg.Heads < 1 || d%cfg.Heads != 0:
		panic(fmt.Sprintf("graph: SelfAttention: %d heads for width %d: the heads must divide the width", cfg.Heads, d))
	case cfg.Dropout < 0 || cfg.Dropout >= 1:
		panic(fmt.Sprintf("graph: SelfAttention: dropout %v outside [0, 1)", cfg.Dropout))
	case cfg.Out == "" || (cfg.QKV == "") == !separate || (cfg.QKV != "" && (cfg.Query != "" || cfg.Key != "" || cfg.Value != "")):
		panic(fmt.Sprintf("graph: SelfAttention: parameter names QKV %q, Query %q, Key %q, Value %q, Out %q: name Out and either QKV or all of Query, Key and Value",
			cfg.QKV, cfg.Query, cfg.Key, cfg.Value, cfg.Out))
	}
	args := []*G.Node{x}
	if mask != nil {
		args = append(args, mask)
	}
	initIn, initOut := cfg.Init, cfg.Init
	if initIn == nil {
		initIn, initOut = XavierUniform, KaimingUniform
	}
	var names []string // weight names, for the packed serving form
	if separate {
		for _, p := range []string{cfg.Query, cfg.Key, cfg.Value} {
			args = append(args, b.Param(p+".weight", []int{d, d}, initIn), b.Param(p+".bias", []int{d}, Constant(0)))
			names = append(names, p+".weight")
			b.role(p+".weight", RoleLinear)
		}
		b.unit(cfg.Query+"+key+value", names...) // int8 only all together (attentionInt8)
	} else {
		args = append(args, b.Param(cfg.QKV+"_weight", []int{3 * d, d}, initIn), b.Param(cfg.QKV+"_bias", []int{3 * d}, Constant(0)))
		names = append(names, cfg.QKV+"_weight")
		b.role(cfg.QKV+"_weight", RoleLinear)
	}
	args = append(args, b.Param(cfg.Out+".weight", []int{d, d}, initOut), b.Param(cfg.Out+".bias", []int{d}, Constant(0)))
	b.role(cfg.Out+".weight", RoleLinear)
	parts := len(names)
	var stream uint64
	p := 0.0
	if b.Training() && cfg.Dropout > 0 {
		p, stream = cfg.Dropout, b.nextStream()
	}
	keep := b.Training() || b.attribution
	if q := attentionInt8(b, names, cfg.Out+".weight"); q != nil { // attention_int8.go
		return mustApply(&attentionKernel[float32]{heads: cfg.Heads, parts: parts, masked: mask != nil, int8: q}, args...)
	}
	if inferFast(b) {
		pk := &attnPacked{
			qkv: b.Params.packedFor(fmt.Sprint(names) + "/qkv"),
			out: b.Params.packedFor(cfg.Out + ".weight"),
		}
		return mustApply(&attentionKernel[float32]{heads: cfg.Heads, parts: parts, masked: mask != nil, packed: pk}, args...)
	}
	return mustApply(typed(b.Dtype(),
		&attentionKernel[float32]{heads: cfg.Heads, parts: parts, masked: mask != nil, keep: keep, p: p, noise: b.Noise, stream: stream},
		&attentionKernel[float64]{heads: cfg.Heads, parts: parts, masked: mask != nil, keep: keep, p: p, noise: b.Noise, stream: stream}), args...)
}

// attentionKernel is SelfAttention. Inputs: x [N, T, D], the mask [N, T]
// when masked, then the input projections — parts 1 (packed: W [3D, D],
// b [3D]) or 3 (W_q, b_q, W_k, b_k, W_v, b_v, each [D, D] and [D]) — and
// the output projection W_o [D, D], b_o [D]. Output [N, T, D].
//
// forward keeps the projection qkv [N·T, 3D] (row r = example·T + t;
// columns Q, K, V, head h at h·D/H within each), the context ctx [N·T, D]
// (the heads' outputs side by side, the input of the output projection)
// and, when keep, the probabilities [N, H, T, T]. backward is like the
// LSTM's: the first call of a run computes dctx and dqkv (every head's
// gradients through the softmax), and each call then derives its own
// input's gradient from them with one product.
type attentionKernel[T float] struct {
	heads  int
	parts  int  // 1: packed input projection; 3: separate
	masked bool // the second input is the mask
	keep   bool // keep the probabilities for backward (training and attribution graphs)

	// Dropout on the probabilities (training graph only; p 0 otherwise).
	p      float64
	noise  *Noise
	stream uint64
	key    uint64 // the hash key of the last forward's masks

	packed  *attnPacked // serving graph: the weights packed once (float32 only)
	int8    *attnInt8   // serving graph: int8 projections (attention_int8.go; float32 only)
	qkvBias []float32   // serving graph: the input projection's biases, concatenated

	qkv, ctx, probs []T
	dctx, dqkv      []T
	scratch         perThread[T]
	heads2          forkSite[attnCall[T], *attnCall[T]] // forward: the heads' products
	project         productSite                         // serving: the packed projections

	forwards, backs int // the shared gradients are current when backs == forwards
}

// attnPacked holds the serving graph's packed weights, shared by the
// model's serving machines.
type attnPacked struct {
	qkv, out *packedWeights // [3D, D] (the parts concatenated) and [D, D]
}

func (k *attentionKernel[T]) name() string {
	if k.int8 != nil {
		return fmt.Sprintf("SelfAttention(int8, heads=%d, parts=%d, masked=%v)", k.heads, k.parts, k.masked)
	}
	return fmt.Sprintf("SelfAttention(heads=%d, parts=%d, masked=%v, dropout=%v)", k.heads, k.parts, k.masked, k.p)
}

// base is the index of the first weight among the inputs.
func (k *attentionKernel[T]) base() int {
	if k.masked {
		return 2
	}
	return 1
}

func (k *attentionKernel[T]) differentiable() []bool {
	d := make([]bool, k.base()+2*k.parts+2)
	for i := range d {
		d[i] = k.packed == nil && k.int8 == nil
	}
	if k.masked {
		d[1] = false
	}
	return d
}

func (k *attentionKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	base := k.base()
	if len(in) != base+2*k.parts+2 {
		return nil, fmt.Errorf("%d inputs, expected %d", len(in), base+2*k.parts+2)
	}
	x := in[0]
	if len(x) != 3 || x[1] < 1 || x[2]%k.heads != 0 {
		return nil, fmt.Errorf("input %v, expected [N, T, D] with T ≥ 1 and D divisible by %d heads", x, k.heads)
	}
	if k.masked && !in[1].Eq(tensor.Shape{x[0], x[1]}) {
		return nil, fmt.Errorf("mask %v, expected [%d, %d]", in[1], x[0], x[1])
	}
	d, pd := x[2], 3*x[2]/k.parts
	for i := 0; i < k.parts; i++ {
		if w, b := in[base+2*i], in[base+2*i+1]; !w.Eq(tensor.Shape{pd, d}) || !b.Eq(tensor.Shape{pd}) {
			return nil, fmt.Errorf("input projection %d: weight %v and bias %v, expected [%d, %d] and [%d]", i, w, b, pd, d, pd)
		}
	}
	if w, b := in[base+2*k.parts], in[base+2*k.parts+1]; !w.Eq(tensor.Shape{d, d}) || !b.Eq(tensor.Shape{d}) {
		return nil, fmt.Errorf("output projection: weight %v and bias %v, expected [%d, %d] and [%d]", w, b, d, d, d)
	}
	if k.int8 != nil {
		if err := k.int8.check(d); err != nil {
			return nil, err
		}
	}
	return x.Clone(), nil
}

func (*attentionKernel[T]) writesAll(wrt int) bool { return true }

// attnDims are one run's sizes: batch, steps, width, heads, head width.
type attnDims struct{ n, t, d, h, dh int }

func (k *attentionKernel[T]) dims(x *tensor.Dense) attnDims {
	s := x.Shape()
	return attnDims{s[0], s[1], s[2], k.heads, s[2] / k.heads}
}

// realKeys reports whether example e has a real token; mask nil has no
// padding.
func realKeys[T float](mask []T, e, t int) bool {
	if mask == nil {
		return true
	}
	for _, v := range mask[e*t : (e+1)*t] {
		if v != 0 {
			return true
		}
	}
	return false
}

func (k *attentionKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	dm := k.dims(in[0])
	n, t, d, h, dh := dm.n, dm.t, dm.d, dm.h, dm.dh
	rows := n * t
	x, y := values[T](in[0]), values[T](out)
	var mask []T
	if k.masked {
		mask = values[T](in[1])
		for i, v := range mask {
			if v != 0 && v != 1 {
				return fmt.Errorf("mask value %v at position %d: expected 0 or 1", v, i)
			}
		}
	}
	base := k.base()
	k.qkv = resizeT(k.qkv, rows*3*d)
	k.ctx = resizeT(k.ctx, rows*d)
	k.projectIn(in, x, rows, d)
	if k.keep {
		k.probs = resizeT(k.probs, n*h*t*t)
	}
	if k.p > 0 {
		k.key = dropoutKey(k.noise, k.stream)
	}
	block := t * t
	k.scratch.ensure(n*h, 2*block)
	k.heads2.chunks(n*h, attnCall[T]{k: k, mask: mask, t: t, d: d, dh: dh, scale: T(1 / math.Sqrt(float64(dh)))})
	wo, bo := values[T](in[base+2*k.parts]), values[T](in[base+2*k.parts+1])
	if k.packed != nil { // float32 serving: the bias stored with the product
		k.packed.out.pack(any(wo).([]float32), d, d)
		k.packed.out.product(&k.project, any(k.ctx).([]float32), rows, d, d, any(bo).([]float32), any(y).([]float32))
	} else if k.int8 == nil || !k.int8.projectOut(any(k.ctx).([]float32), rows, d, any(bo).([]float32), any(y).([]float32)) {
		for r := 0; r < rows; r++ {
			copy(y[r*d:(r+1)*d], bo)
		}
		gemm(maxThreads(), false, true, rows, d, d, 1, k.ctx, d, wo, d, 1, y, d) // y = ctx·W_oᵀ + b_o
	}
	k.forwards++
	return nil
}

// attnCall is the forward pass's per-head arguments: part chunk computes
// the heads [from, to) of the batch's examples (n·h of them).
type attnCall[T float] struct {
	k        *attentionKernel[T]
	mask     []T
	t, d, dh int
	scale    T
}

func (c *attnCall[T]) part(chunk, from, to int) {
	k, mask, t, d, dh, scale := c.k, c.mask, c.t, c.d, c.dh, c.scale
	h, block := k.heads, t*t
	scratch := k.scratch.bufs[chunk][:2*block]
	for bh := from; bh < to; bh++ {
		e, hd := bh/h, bh%h
		s := scratch[:block]
		if k.keep {
			s = k.probs[bh*block : (bh+1)*block]
		}
		q := k.qkv[e*t*3*d+hd*dh:]
		kk := k.qkv[e*t*3*d+d+hd*dh:]
		v := k.qkv[e*t*3*d+2*d+hd*dh:]
		keys := keySpan(mask, e, t)
		gemm(1, false, true, t, keys, dh, scale, q, 3*d, kk, 3*d, 0, s, t) // S = Q·Kᵀ/√dh, the span's columns
		softmaxRows(s, mask, e, t)
		pd := s
		if k.p > 0 {
			pd = scratch[block : 2*block]
			k.dropout(pd, s, bh, block)
		}
		gemm(1, false, false, t, dh, keys, 1, pd, t, v, 3*d, 0, k.ctx[e*t*d+hd*dh:], d) // ctx_h = P·V_h over the span
	}
}

// projectIn sets qkv = x·Wᵀ + b for the input projection's parts: in the
// float32 serving graph one product over the packed parts (or, int8, over
// the int8 parts) that stores the biases with it; otherwise the biases
// copied into every row, then the float products added.
func (k *attentionKernel[T]) projectIn(in []*tensor.Dense, x []T, rows, d int) {
	base, pd := k.base(), 3*d/k.parts
	if k.packed != nil {
		k.packed.qkv.packWith(3*d, d, func() []float32 {
			w := make([]float32, 0, 3*d*d)
			for i := 0; i < k.parts; i++ {
				w = append(w, values[float32](in[base+2*i])...)
			}
			return w
		})
		k.packed.qkv.product(&k.project, any(x).([]float32), rows, d, 3*d, k.concatBias(in), any(k.qkv).([]float32))
		return
	}
	if k.int8 != nil && k.int8.in != nil {
		k.int8.projectIn(any(x).([]float32), rows, d, k.concatBias(in), any(k.qkv).([]float32))
		return
	}
	for r := 0; r < rows; r++ {
		for i := 0; i < k.parts; i++ {
			copy(k.qkv[r*3*d+i*pd:r*3*d+(i+1)*pd], values[T](in[base+2*i+1]))
		}
	}
	for i := 0; i < k.parts; i++ {
		gemm(maxThreads(), false, true, rows, pd, d, 1, x, d, values[T](in[base+2*i]), d, 1, k.qkv[i*pd:], 3*d)
	}
}

// concatBias is the input projection's parts' biases, concatenated [3D]
// (serving graphs, float32 only).
func (k *attentionKernel[T]) concatBias(in []*tensor.Dense) []float32 {
	bias := k.qkvBias[:0]
	for i := 0; i < k.parts; i++ {
		bias = append(bias, values[float32](in[k.base()+2*i+1])...)
	}
	k.qkvBias = bias
	return bias
}

// keySpan is the number of leading key positions of example e that the
// products need: up to its last real key (mask 1). The scores of the
// padded keys after it are never read (softmaxRows overwrites them with
// 0) and their probabilities are 0, so both products stop there: with
// padding at the end, a short text costs its length, not T. An example
// without real keys attends to all T positions; mask nil has no padding.
func keySpan[T float](mask []T, e, t int) int {
	if mask == nil {
		return t
	}
	for j := t - 1; j >= 0; j-- {
		if mask[e*t+j] != 0 {
			return j + 1
		}
	}
	return t
}

// softmaxRows turns the scores s [T, T] of example e into probabilities
// over its real keys (mask 1), in place: 0 at padded keys, and 1/T
// everywhere for an example without real keys.
func softmaxRows[T float](s, mask []T, e, t int) {
	var m []T
	if mask != nil {
		m = mask[e*t : (e+1)*t]
	}
	if !realKeys(mask, e, t) {
		for i := range s {
			s[i] = 1 / T(t)
		}
		return
	}
	if s32, ok := any(s).([]float32); ok {
		softmaxRows32(s32, any(m).([]float32), t)
		return
	}
	for i := 0; i < t; i++ {
		row := s[i*t : (i+1)*t]
		best := T(math.Inf(-1))
		for j, v := range row {
			if (m == nil || m[j] != 0) && v > best {
				best = v
			}
		}
		if best != best || math.IsInf(float64(best), 1) { // NaN or +Inf scores: NaN out, as PyTorch
			for j := range row {
				row[j] = T(math.NaN())
			}
			continue
		}
		for j, v := range row {
			if m != nil && m[j] == 0 {
				row[j] = T(math.Inf(-1)) // e^−∞ = 0
			} else {
				row[j] = v - best
			}
		}
		for j, v := range row {
			row[j] = T(math.Exp(float64(v)))
		}
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		inv := T(1 / sum)
		for j := range row {
			row[j] *= inv
		}
	}
}

// softmaxRows32 is softmaxRows' loop over rows in float32 with the vector
// kernels (the loop in Go was 13% of a transformer's inference profile
// once GELU was vectorized). When the real keys come first, as padding
// puts them, the padded keys are set to 0 and the kernels see the real
// ones only; otherwise padded keys are set to −∞ first, so that Max skips
// them and ExpSum gives them 0. The sum is in float32, as PyTorch's.
func softmaxRows32(s, m []float32, t int) {
	real, prefix := t, true
	if m != nil {
		real = 0
		for real < t && m[real] != 0 {
			real++
		}
		for _, keep := range m[real:] {
			prefix = prefix && keep == 0
		}
	}
	for i := 0; i < t; i++ {
		row := s[i*t : (i+1)*t]
		keys := row[:real]
		if prefix {
			clear(row[real:])
		} else {
			keys = row
			for j, keep := range m {
				if keep == 0 {
					row[j] = float32(math.Inf(-1))
				}
			}
		}
		best := kern.Max(keys)
		if math.IsInf(float64(best), 1) { // +Inf scores: NaN out, as PyTorch
			for j := range row {
				row[j] = float32(math.NaN())
			}
			continue
		}
		inv := 1 / kern.ExpSum(keys, keys, best)
		for j := range keys {
			keys[j] *= inv
		}
	}
}

// dropoutKey mixes the noise's seed and step with the layer's stream: the
// key of this run's masks.
func dropoutKey(noise *Noise, stream uint64) uint64 {
	return splitmix64(splitmix64(noise.Seed^stream*0x9e3779b97f4a7c15) ^ noise.Step)
}

// splitmix64 is SplitMix64's output function: a bijective mix of 64 bits.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// dropout writes block bh of the probabilities p with the dropout mask
// applied into dst.
func (k *attentionKernel[T]) dropout(dst, p []T, bh, block int) {
	threshold, keep := dropThreshold(k.p), T(1/(1-k.p))
	off := uint64(bh) * uint64(block)
	for i, v := range p {
		if k.drops(off+uint64(i), threshold) {
			dst[i] = 0
		} else {
			dst[i] = v * keep
		}
	}
}

// drops reports whether the element at flat index i of the run's
// probabilities [N, H, T, T] is dropped: when the hash of i under the
// run's key falls below threshold = p·2⁶⁴, independently of every other
// element and of the thread that asks.
func (k *attentionKernel[T]) drops(i, threshold uint64) bool {
	return splitmix64(k.key^i*0xd1342543de82ef95) < threshold
}

// dropThreshold is p·2⁶⁴, the hash value below which an element drops.
func dropThreshold(p float64) uint64 {
	t := math.Ldexp(p, 64)
	if t >= math.Ldexp(1, 64) {
		return math.MaxUint64
	}
	return uint64(t)
}

func (k *attentionKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	if !k.keep {
		return fmt.Errorf("SelfAttention: backward of a graph that keeps no probabilities")
	}
	dm := k.dims(in[0])
	n, t, d := dm.n, dm.t, dm.d
	rows := n * t
	base, pd := k.base(), 3*d/k.parts
	x, g, dst := values[T](in[0]), values[T](gOut), values[T](grad)
	if k.backs != k.forwards {
		k.shared(in, g, dm)
		k.backs = k.forwards
	}
	switch {
	case wrt == 0: // dx = Σ_parts dqkv_part·W_part
		for i := 0; i < k.parts; i++ {
			beta := T(0)
			if i > 0 {
				beta = 1
			}
			gemm(maxThreads(), false, false, rows, d, pd, 1, k.dqkv[i*pd:], 3*d, values[T](in[base+2*i]), d, beta, dst, d)
		}
	case wrt < base+2*k.parts && (wrt-base)%2 == 0: // dW_part = dqkv_partᵀ·x
		i := (wrt - base) / 2
		gemm(maxThreads(), true, false, pd, d, rows, 1, k.dqkv[i*pd:], 3*d, x, d, 0, dst, d)
	case wrt < base+2*k.parts: // db_part = column sums of dqkv_part
		i := (wrt - base) / 2
		columnSums(dst, k.dqkv[i*pd:], rows, pd, 3*d)
	case wrt == base+2*k.parts: // dW_o = gᵀ·ctx
		gemm(maxThreads(), true, false, d, d, rows, 1, g, d, k.ctx, d, 0, dst, d)
	default: // db_o = column sums of g
		columnSums(dst, g, rows, d, d)
	}
	return nil
}

// columnSums sets dst[j] = Σ_r src[r·ld + j] for r < rows, j < cols.
func columnSums[T float](dst, src []T, rows, cols, ld int) {
	clear(dst[:cols])
	for r := 0; r < rows; r++ {
		for j, v := range src[r*ld : r*ld+cols] {
			dst[j] += v
		}
	}
}

// shared computes dctx = g·W_o and, head by head, dqkv: with dP' =
// dctx_h·V_hᵀ, dV_h = P'ᵀ·dctx_h (P' the probabilities after dropout),
// dP = dP' masked as P' was, dS = P⊙(dP − rowsum(P⊙dP))/√dh, dQ_h =
// dS·K_h and dK_h = dSᵀ·Q_h. Padded keys have P = 0 and so dS = 0; an
// example without real keys has constant probabilities and dS = 0.
func (k *attentionKernel[T]) shared(in []*tensor.Dense, g []T, dm attnDims) {
	n, t, d, h, dh := dm.n, dm.t, dm.d, dm.h, dm.dh
	rows := n * t
	var mask []T
	if k.masked {
		mask = values[T](in[1])
	}
	wo := values[T](in[k.base()+2*k.parts])
	k.dctx = resizeT(k.dctx, rows*d)
	k.dqkv = resizeT(k.dqkv, rows*3*d)
	gemm(maxThreads(), false, false, rows, d, d, 1, g, d, wo, d, 0, k.dctx, d)
	scale := T(1 / math.Sqrt(float64(dh)))
	block := t * t
	k.scratch.run(n*h, 2*block, func(_, from, to int, scratch []T) {
		dp, pdrop := scratch[:block], scratch[block:2*block]
		for bh := from; bh < to; bh++ {
			e, hd := bh/h, bh%h
			p := k.probs[bh*block : (bh+1)*block]
			q, kk, v := e*t*3*d+hd*dh, e*t*3*d+d+hd*dh, e*t*3*d+2*d+hd*dh
			dc := k.dctx[e*t*d+hd*dh:]
			gemm(1, false, true, t, t, dh, 1, dc, d, k.qkv[v:], 3*d, 0, dp, t) // dP' = dctx_h·V_hᵀ
			pv := p
			if k.p > 0 { // P' and dP = dP' masked and scaled as P' was
				threshold, keep := dropThreshold(k.p), T(1/(1-k.p))
				off := uint64(bh) * uint64(block)
				for i, w := range p {
					if k.drops(off+uint64(i), threshold) {
						pdrop[i], dp[i] = 0, 0
					} else {
						pdrop[i], dp[i] = w*keep, dp[i]*keep
					}
				}
				pv = pdrop
			}
			gemm(1, true, false, t, dh, t, 1, pv, t, dc, d, 0, k.dqkv[v:], 3*d) // dV_h = P'ᵀ·dctx_h
			if !realKeys(mask, e, t) {
				clear(dp)
			} else {
				for i := 0; i < t; i++ {
					pr, dr := p[i*t:(i+1)*t], dp[i*t:(i+1)*t]
					var dot float64
					for j, pv := range pr {
						dot += float64(pv) * float64(dr[j])
					}
					for j, pv := range pr {
						dr[j] = pv * (dr[j] - T(dot)) * scale
					}
				}
			}
			gemm(1, false, false, t, dh, t, 1, dp, t, k.qkv[kk:], 3*d, 0, k.dqkv[q:], 3*d) // dQ_h = dS·K_h
			gemm(1, true, false, t, dh, t, 1, dp, t, k.qkv[q:], 3*d, 0, k.dqkv[kk:], 3*d)  // dK_h = dSᵀ·Q_h
		}
	})
}

// resizeT returns s with length n, reallocated only when its capacity is
// short.
func resizeT[T float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
