package graph

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// Per-example gradients, for differentially private training (DP-SGD).
//
// A SampleMachine is a training machine whose parameter-gradient nodes do
// not compute the batch gradient: each one, during the backward pass, keeps
// what its op needs to give every example's own gradient — the op's saved
// inputs and the gradient of the loss with respect to its output — in the
// manner of Opacus's grad samplers, without running the model once per
// example. From those it computes each example's squared gradient norm and
// the weighted sum Σₙ cₙ·gₙ that clipping needs, with the op's own batched
// backward pass over output gradients scaled per example.
//
// Every trainable parameter must be consumed by exactly one op with a
// per-example rule (sampleKernel): Linear, Conv1D, Conv2D, Embedding,
// GroupNorm, LayerNorm, the LSTM and SelfAttention. BatchNorm has none — its output for one example
// depends on the whole batch.
//
// The model's loss must be the mean of per-example losses (every loss here
// is): example n's part of the batch gradient is then gₙ/N, and the
// SampleMachine reports N times it, the gradient of that example's own
// loss.

// sampleKernel is a kernel whose parameter gradients split into
// per-example terms.
type sampleKernel interface {
	kernel
	// samples captures, after backward of input wrt, what example-wise
	// gradients of that input need. It must copy whatever a later op could
	// overwrite, into st, which the op's parameters share and which keeps
	// its buffers from run to run.
	samples(in []*tensor.Dense, out, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error)
	// needsBackward reports whether samples needs the op's own backward to
	// have run (the LSTM's backpropagation through time).
	needsBackward() bool
}

// sampleGrads holds one parameter's per-example gradients for one run,
// as terms of the batch-mean loss (the SampleMachine scales them by N).
type sampleGrads interface {
	// sqNorms adds each example's squared gradient norm to norms.
	sqNorms(norms []float64)
	// example writes example n's gradient into dst (the parameter's size).
	example(n int, dst []float64)
	// weightedSum writes Σₙ coef[n]·gₙ into grad (the parameter's shape).
	weightedSum(coef []float64, grad *tensor.Dense) error
}

// SampleMachine is a training machine that gives per-example gradients.
type SampleMachine struct {
	m    *Machine
	taps []sampleGrads
	errs []error
	run  int // counts runs, so an op captures once per run
	sums int // counts WeightedSum calls, so an op scales once per call
}

// opStore is one layer op's storage for per-example gradients.
type opStore struct {
	sm   *SampleMachine
	run  int // the run data was captured in
	data any // the op's capture: *sliceCapture[T] or *lstmSamples[T]
}

// fresh reports whether the op has not yet captured during this run, and
// marks it captured.
func (st *opStore) fresh() bool {
	if st.run == st.sm.run {
		return false
	}
	st.run = st.sm.run
	return true
}

// CompileSamples compiles the training graph of build for a batch of n
// examples with per-example gradients instead of batch gradients. It fails,
// naming the parameter, when a parameter has no per-example rule.
func CompileSamples(build BuildFunc, loss LossFunc, params *Params, noise *Noise, n int) (*SampleMachine, error) {
	m, err := Compile(build, loss, params, noise, n, Train)
	if err != nil {
		return nil, err
	}
	sm := &SampleMachine{m: m, taps: make([]sampleGrads, len(m.params)), errs: make([]error, len(m.params))}
	stores := map[*kernelOp]*opStore{}
	for i, p := range m.params {
		op, ok := m.grads[i].Op().(*kernelGradOp)
		if !ok {
			return nil, fmt.Errorf("graph: parameter %q: per-example gradients need it used by exactly one layer op, it is used by %v", p.Name, m.grads[i].Op())
		}
		sk, ok := op.fwd.k.(sampleKernel)
		if !ok {
			if _, bn := op.fwd.k.(interface{ isBatchNorm() }); bn {
				return nil, fmt.Errorf("graph: parameter %q: BatchNorm mixes the examples of a batch and has no per-example gradients (use GroupNorm)", p.Name)
			}
			return nil, fmt.Errorf("graph: parameter %q: %s has no per-example gradient rule", p.Name, op.fwd.k.name())
		}
		st := stores[op.fwd]
		if st == nil {
			st = &opStore{sm: sm}
			stores[op.fwd] = st
		}
		i, wrt := i, op.wrt
		op.skip = !sk.needsBackward()
		op.tap = func(in []*tensor.Dense, out, gOut *tensor.Dense) error {
			sm.taps[i], sm.errs[i] = sk.samples(in, out, gOut, wrt, st)
			return sm.errs[i]
		}
	}
	return sm, nil
}

// N is the batch size the machine was compiled for.
func (sm *SampleMachine) N() int { return sm.m.N }

// Machine is the underlying machine (loss, output).
func (sm *SampleMachine) Machine() *Machine { return sm.m }

// Params are the trainable parameters, in the order of every per-parameter
// result.
func (sm *SampleMachine) Params() []*Param { return sm.m.params }

// Run runs the machine on a batch and keeps what per-example gradients need.
func (sm *SampleMachine) Run(inputs []*tensor.Dense, target *tensor.Dense) error {
	sm.run++
	for i := range sm.taps {
		sm.taps[i], sm.errs[i] = nil, nil
	}
	if err := sm.m.Run(inputs, target); err != nil {
		return err
	}
	for i, t := range sm.taps {
		if t == nil {
			return fmt.Errorf("graph: parameter %q: no per-example gradient after the run", sm.m.params[i].Name)
		}
	}
	return nil
}

// SquaredNorms returns each example's squared L2 norm of its own loss's
// gradient over all trainable parameters, after Run.
func (sm *SampleMachine) SquaredNorms() []float64 {
	norms := make([]float64, sm.m.N)
	for _, t := range sm.taps {
		t.sqNorms(norms)
	}
	s := float64(sm.m.N) * float64(sm.m.N)
	for i := range norms {
		norms[i] *= s
	}
	return norms
}

// Example returns example n's own-loss gradient of every trainable
// parameter (aligned with Params), after Run. It is for tests and
// inspection: DP-SGD needs only SquaredNorms and WeightedSum.
func (sm *SampleMachine) Example(n int) [][]float64 {
	out := make([][]float64, len(sm.taps))
	for i, t := range sm.taps {
		out[i] = make([]float64, sm.m.params[i].Value.Shape().TotalSize())
		t.example(n, out[i])
		for j := range out[i] {
			out[i][j] *= float64(sm.m.N)
		}
	}
	return out
}

// WeightedSum writes Σₙ coef[n]·gₙ, with gₙ example n's own-loss gradient,
// into grads (aligned with Params, shaped as the parameters), after Run.
// With coef[n] = min(1, C/‖gₙ‖) it is the sum of clipped gradients; a zero
// coefficient leaves an example (a padding row) out.
func (sm *SampleMachine) WeightedSum(coef []float64, grads []*tensor.Dense) error {
	if len(coef) != sm.m.N || len(grads) != len(sm.taps) {
		return fmt.Errorf("graph: WeightedSum of %d examples into %d tensors, machine has %d and %d", len(coef), len(grads), sm.m.N, len(sm.taps))
	}
	c := make([]float64, len(coef))
	for i, v := range coef {
		c[i] = v * float64(sm.m.N)
	}
	sm.sums++
	for i, t := range sm.taps {
		zero(grads[i])
		if err := t.weightedSum(c, grads[i]); err != nil {
			return fmt.Errorf("graph: parameter %q: %w", sm.m.params[i].Name, err)
		}
	}
	return nil
}

// copyInto copies src into dst's storage, growing it when needed.
func copyInto[T float](dst, src []T) []T { return append(dst[:0], src...) }

// denseOf wraps vals as a tensor of shape s (sharing vals).
func denseOf[T float](vals []T, s ...int) *tensor.Dense {
	return tensor.New(tensor.WithBacking(vals), tensor.WithShape(s...))
}

// scaleRows writes g, viewed as n equal rows, into out with row i scaled by
// coef[i], and returns out (grown when needed).
func scaleRows[T float](out, g []T, n int, coef []float64) []T {
	if cap(out) < len(g) {
		out = make([]T, len(g))
	}
	out = out[:len(g)]
	size := len(g) / n
	for i := 0; i < n; i++ {
		c := T(coef[i])
		row := out[i*size : (i+1)*size]
		if c == 0 {
			clear(row)
			continue
		}
		for j, v := range g[i*size : (i+1)*size] {
			row[j] = c * v
		}
	}
	return out
}

// sliceSamples is the per-example rule of an op whose output for example n
// depends only on example n's slice of its first input: example n's
// gradient is the op's own backward on the one-example slices of that input
// and of the output gradient, and the weighted sum is its batched backward
// with the output gradient's rows scaled.
type sliceSamples[T float] struct {
	*sliceCapture[T]
	k     kernel
	clone func() kernel // a kernel with its own scratch, for concurrent examples
	wrt   int
	// sqNorm, when set, is a faster squared norm of example n's gradient.
	sqNorm func(n int) float64
}

// sliceCapture is what the parameters of one op share from one run.
type sliceCapture[T float] struct {
	st        *opStore
	in        []*tensor.Dense
	x         []T // copy of the first input
	xShape    tensor.Shape
	g         []T // copy of dLoss/dOutput
	gShape    tensor.Shape
	scaled    []T // g with rows scaled, for WeightedSum call scaledFor
	scaledFor int
}

func newSliceSamples[T float](k kernel, clone func() kernel, in []*tensor.Dense, gOut *tensor.Dense, wrt int, st *opStore) *sliceSamples[T] {
	c, _ := st.data.(*sliceCapture[T])
	if c == nil {
		c = &sliceCapture[T]{st: st}
		st.data = c
	}
	if st.fresh() {
		c.x, c.xShape = copyInto(c.x, values[T](in[0])), in[0].Shape().Clone()
		c.g, c.gShape = copyInto(c.g, values[T](gOut)), gOut.Shape().Clone()
		c.in = append(c.in[:0], in...)
		c.in[0] = denseOf(c.x, c.xShape...)
		c.scaledFor = 0
	}
	return &sliceSamples[T]{sliceCapture: c, k: k, clone: clone, wrt: wrt}
}

func (s *sliceSamples[T]) n() int { return s.xShape[0] }

// one returns inputs and output gradient for example n alone.
func (s *sliceSamples[T]) one(n int) ([]*tensor.Dense, *tensor.Dense) {
	in := append([]*tensor.Dense(nil), s.in...)
	xs, gs := s.xShape.Clone(), s.gShape.Clone()
	xs[0], gs[0] = 1, 1
	xsz, gsz := xs.TotalSize(), gs.TotalSize()
	in[0] = denseOf(s.x[n*xsz:(n+1)*xsz], xs...)
	return in, denseOf(s.g[n*gsz:(n+1)*gsz], gs...)
}

func (s *sliceSamples[T]) exampleWith(k kernel, n int, buf *tensor.Dense) {
	in, g := s.one(n)
	zero(buf)
	forgetSums(k)
	defer forgetSums(k)
	// The backward of these ops cannot fail on shapes the forward accepted.
	if err := k.backward(in, nil, g, s.wrt, buf); err != nil {
		panic(fmt.Sprintf("graph: per-example gradient of %s: %v", k.name(), err))
	}
}

// forgetSums makes a kernel that keeps sums of the output gradient from
// one gradient for the next (conv2dKernel's bias sums) drop them: the
// per-example rules run backward with other output gradients than the
// tape's.
func forgetSums(k kernel) {
	if f, ok := k.(interface{ forgetSums() }); ok {
		f.forgetSums()
	}
}

func (s *sliceSamples[T]) example(n int, dst []float64) {
	buf := tensor.New(tensor.Of(s.in[s.wrt].Dtype()), tensor.WithShape(s.in[s.wrt].Shape()...))
	s.exampleWith(s.clone(), n, buf)
	for i, v := range values[T](buf) {
		dst[i] = float64(v)
	}
}

func (s *sliceSamples[T]) sqNorms(norms []float64) {
	if s.sqNorm != nil {
		for n := range s.n() {
			norms[n] += s.sqNorm(n)
		}
		return
	}
	inChunks(s.n(), func(_, from, to int) {
		k := s.clone()
		buf := tensor.New(tensor.Of(s.in[s.wrt].Dtype()), tensor.WithShape(s.in[s.wrt].Shape()...))
		for n := from; n < to; n++ {
			s.exampleWith(k, n, buf)
			norms[n] += sumSquares(values[T](buf))
		}
	})
}

func (s *sliceSamples[T]) weightedSum(coef []float64, grad *tensor.Dense) error {
	if s.scaledFor != s.st.sm.sums {
		s.scaled, s.scaledFor = scaleRows(s.scaled, s.g, s.n(), coef), s.st.sm.sums
	}
	forgetSums(s.k)
	defer forgetSums(s.k)
	return s.k.backward(s.in, nil, denseOf(s.scaled, s.gShape...), s.wrt, grad)
}

func sumSquares[T float](v []T) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}

func rowSquares[T float](v []T, n, i int) float64 {
	size := len(v) / n
	return sumSquares(v[i*size : (i+1)*size])
}

// Linear: over x [N, in], example n's weight gradient is gₙ ⊗ xₙ, whose
// squared norm is ‖gₙ‖²·‖xₙ‖², and its bias gradient is gₙ. Over
// x [N, …, in] an example has several rows, and its gradients are the
// backward pass over its slice.
func (k linearKernel[T]) samples(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	s := newSliceSamples[T](k, func() kernel { return linearKernel[T]{} }, in, gOut, wrt, st)
	n := s.n()
	if len(s.xShape) != 2 {
		return s, nil
	}
	switch wrt {
	case 1:
		s.sqNorm = func(i int) float64 { return rowSquares(s.g, n, i) * rowSquares(s.x, n, i) }
	case 2:
		s.sqNorm = func(i int) float64 { return rowSquares(s.g, n, i) }
	}
	return s, nil
}

func (linearKernel[T]) needsBackward() bool { return false }

func (k *conv1dKernel[T]) samples(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	s := newSliceSamples[T](k, func() kernel { return &conv1dKernel[T]{stride: k.stride, pad: k.pad} }, in, gOut, wrt, st)
	if wrt == 2 {
		s.sqNorm = s.channelSumNorm
	}
	return s, nil
}

func (*conv1dKernel[T]) needsBackward() bool { return false }

func (k *conv2dKernel[T]) samples(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	s := newSliceSamples[T](k, func() kernel { return &conv2dKernel[T]{stride: k.stride, pad: k.pad, inputGrad: k.inputGrad} }, in, gOut, wrt, st)
	if wrt == 2 {
		s.sqNorm = s.channelSumNorm
	}
	return s, nil
}

func (*conv2dKernel[T]) needsBackward() bool { return false }

// channelSumNorm is the squared norm of a convolution's per-example bias
// gradient: the output gradient [N, O, …] summed over positions.
func (s *sliceSamples[T]) channelSumNorm(n int) float64 {
	o := s.gShape[1]
	per := s.gShape.TotalSize() / s.gShape[0] / o
	var sq float64
	for c := 0; c < o; c++ {
		var t float64
		for _, v := range s.g[(n*o+c)*per : (n*o+c+1)*per] {
			t += float64(v)
		}
		sq += t * t
	}
	return sq
}

// Embedding: example n's gradient has a row per distinct id of the example,
// the sum of the output gradient's rows of that id, so its norm is computed
// sparsely rather than over the whole [vocab, dim] table.
func (k embeddingKernel[T]) samples(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	s := newSliceSamples[T](k, func() kernel { return k }, in, gOut, wrt, st)
	steps, vocab, dim := s.xShape[1], in[1].Shape()[0], in[1].Shape()[1]
	s.sqNorm = func(n int) float64 {
		rows := map[int][]float64{}
		add := func(id, t int) {
			r := rows[id]
			if r == nil {
				r = make([]float64, dim)
				rows[id] = r
			}
			for j, v := range s.g[(n*steps+t)*dim : (n*steps+t+1)*dim] {
				r[j] += float64(v)
			}
		}
		for t := 0; t < steps; t++ {
			if id := int(s.x[n*steps+t]); id != k.pad {
				add(id, t)
			}
			if b := k.bigram(s.x, n*steps+t, steps, vocab); b >= 0 {
				add(b, t)
			}
		}
		var sq float64
		for _, r := range rows {
			for _, v := range r {
				sq += v * v
			}
		}
		return sq
	}
	return s, nil
}

func (embeddingKernel[T]) needsBackward() bool { return false }

// LSTM: after backpropagation through time the kernel holds, per real token
// (packed row r of example rows[r]), dLoss/d pre-activations dGᵣ, the
// layer input xᵣ and the previous hidden state hᵣ. Example n's gradients
// are Σ dGᵣ ⊗ xᵣ (weight_ih), Σ dGᵣ ⊗ hᵣ (weight_hh) and Σ dGᵣ (both
// biases) over its rows; the weighted sum scales each row's dGᵣ by its
// example's coefficient.
type lstmSamples[T float] struct {
	n, in, hidden int
	rows          []int   // packed row → example
	byExample     [][]int // example → its packed rows
	x             []T     // [R, In]
	dir           []lstmDirSamples[T]
}

type lstmDirSamples[T float] struct {
	dg, hPrev []T // [R, 4H], [R, H]
}

type lstmParamSamples[T float] struct {
	s        *lstmSamples[T]
	d, which int // direction; 0 weight_ih, 1 weight_hh, 2 and 3 the biases
}

func (k *lstmLayerKernel[T]) needsBackward() bool { return true }

func (k *lstmLayerKernel[T]) samples(in []*tensor.Dense, _, _ *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	s, _ := st.data.(*lstmSamples[T])
	if s == nil {
		s = &lstmSamples[T]{dir: make([]lstmDirSamples[T], k.dirs)}
		st.data = s
	}
	if st.fresh() {
		if k.bptts != k.forwards {
			return nil, fmt.Errorf("LSTM per-example gradients before backpropagation through time")
		}
		xs := in[0].Shape()
		r := len(k.rows)
		s.n, s.in, s.hidden = xs[0], xs[2], k.hidden
		s.rows, s.x = append(s.rows[:0], k.rows...), copyInto(s.x, k.packedX[:r*xs[2]])
		s.byExample = make([][]int, s.n)
		for i, b := range s.rows {
			s.byExample[b] = append(s.byExample[b], i)
		}
		for d := range k.dirs {
			s.dir[d].dg = copyInto(s.dir[d].dg, k.dir[d].gates[:r*4*k.hidden])
			s.dir[d].hPrev = copyInto(s.dir[d].hPrev, k.dir[d].hPrev[:r*k.hidden])
		}
	}
	p := wrt - k.paramBase()
	return &lstmParamSamples[T]{s: s, d: p / 4, which: p % 4}, nil
}

// factor returns the right-hand factor of the weight's outer products (x or
// h_prev) and its width, or nil for a bias.
func (p *lstmParamSamples[T]) factor() ([]T, int) {
	switch p.which {
	case 0:
		return p.s.x, p.s.in
	case 1:
		return p.s.dir[p.d].hPrev, p.s.hidden
	}
	return nil, 0
}

// exampleInto writes example n's gradient into dst using scratch for the
// gathered rows.
func (p *lstmParamSamples[T]) exampleInto(n int, dst []T, scratch *[]T) {
	h4 := 4 * p.s.hidden
	dg := p.s.dir[p.d].dg
	rows := p.s.byExample[n]
	clear(dst)
	f, w := p.factor()
	if f == nil {
		for _, r := range rows {
			for j, v := range dg[r*h4 : (r+1)*h4] {
				dst[j] += v
			}
		}
		return
	}
	need := len(rows) * (h4 + w)
	if cap(*scratch) < need {
		*scratch = make([]T, need)
	}
	a, b := (*scratch)[:len(rows)*h4], (*scratch)[len(rows)*h4:need]
	for i, r := range rows {
		copy(a[i*h4:(i+1)*h4], dg[r*h4:(r+1)*h4])
		copy(b[i*w:(i+1)*w], f[r*w:(r+1)*w])
	}
	gemm(1, true, false, h4, w, len(rows), 1, a, h4, b, w, 0, dst, w)
}

func (p *lstmParamSamples[T]) size() int {
	_, w := p.factor()
	if w == 0 {
		return 4 * p.s.hidden
	}
	return 4 * p.s.hidden * w
}

func (p *lstmParamSamples[T]) example(n int, dst []float64) {
	buf := make([]T, p.size())
	var scratch []T
	p.exampleInto(n, buf, &scratch)
	for i, v := range buf {
		dst[i] = float64(v)
	}
}

func (p *lstmParamSamples[T]) sqNorms(norms []float64) {
	inChunks(p.s.n, func(_, from, to int) {
		buf := make([]T, p.size())
		var scratch []T
		for n := from; n < to; n++ {
			p.exampleInto(n, buf, &scratch)
			norms[n] += sumSquares(buf)
		}
	})
}

func (p *lstmParamSamples[T]) weightedSum(coef []float64, grad *tensor.Dense) error {
	h4 := 4 * p.s.hidden
	dg := p.s.dir[p.d].dg
	r := len(p.s.rows)
	scaled := make([]T, len(dg))
	for i, b := range p.s.rows {
		c := T(coef[b])
		for j, v := range dg[i*h4 : (i+1)*h4] {
			scaled[i*h4+j] = c * v
		}
	}
	dst := values[T](grad)
	f, w := p.factor()
	if f == nil {
		for i := 0; i < r; i++ {
			for j, v := range scaled[i*h4 : (i+1)*h4] {
				dst[j] += v
			}
		}
		return nil
	}
	gemm(sideThreads(1), true, false, h4, w, r, 1, scaled, h4, f, w, 0, dst, w)
	return nil
}

// ClipCoefficients returns min(1, c/‖gₙ‖) for each squared norm (1 for a
// zero gradient), the per-example factors of flat clipping to norm c; an
// infinite c clips nothing.
func ClipCoefficients(sqNorms []float64, c float64) []float64 {
	out := make([]float64, len(sqNorms))
	for i, s := range sqNorms {
		out[i] = 1
		if n := math.Sqrt(s); n > c {
			out[i] = c / n
		}
	}
	return out
}

func (*batchNormKernel[T]) isBatchNorm() {}

// SelfAttention: an example's tokens attend only to each other, so example
// n's gradients are sums over its T rows of the gradients the batched
// backward pass computed — the input projection's output gradient dqkv
// [N·T, 3D] and the output gradient g [N·T, D] — times the projections'
// inputs x and ctx: dW_part = Σ_r dqkv_part,r ⊗ x_r, db_part = Σ_r
// dqkv_part,r, dW_o = Σ_r g_r ⊗ ctx_r, db_o = Σ_r g_r. The weighted sum
// scales each row by its example's coefficient and takes one product.
type attnSamples[T float] struct {
	n, t, d int
	x, g    []T // copies of the input and of dLoss/dOutput, [N·T, D]
	dqkv    []T // the kernel's [N·T, 3D] and [N·T, D], current until its next run
	ctx     []T
}

type attnParamSamples[T float] struct {
	s       *attnSamples[T]
	grad    []T // rows of the output gradient of the parameter's product
	ld, off int // its row stride and first column
	cols    int
	factor  []T // the product's input, [N·T, D]; nil for a bias
}

func (*attentionKernel[T]) needsBackward() bool { return true }

func (k *attentionKernel[T]) samples(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	s, _ := st.data.(*attnSamples[T])
	if s == nil {
		s = &attnSamples[T]{}
		st.data = s
	}
	if st.fresh() {
		if k.backs != k.forwards {
			return nil, fmt.Errorf("SelfAttention per-example gradients before its backward pass")
		}
		dm := k.dims(in[0])
		s.n, s.t, s.d = dm.n, dm.t, dm.d
		s.x, s.g = copyInto(s.x, values[T](in[0])), copyInto(s.g, values[T](gOut))
		s.dqkv, s.ctx = k.dqkv, k.ctx
	}
	d, base := s.d, k.base()
	pd := 3 * d / k.parts
	p := &attnParamSamples[T]{s: s}
	switch i := (wrt - base) / 2; {
	case wrt < base+2*k.parts:
		p.grad, p.ld, p.off, p.cols = s.dqkv, 3*d, i*pd, pd
		if (wrt-base)%2 == 0 {
			p.factor = s.x
		}
	default:
		p.grad, p.ld, p.off, p.cols = s.g, d, 0, d
		if wrt == base+2*k.parts {
			p.factor = s.ctx
		}
	}
	return p, nil
}

func (p *attnParamSamples[T]) size() int {
	if p.factor == nil {
		return p.cols
	}
	return p.cols * p.s.d
}

// exampleInto writes example n's gradient into dst.
func (p *attnParamSamples[T]) exampleInto(n int, dst []T) {
	t, d := p.s.t, p.s.d
	g := p.grad[n*t*p.ld+p.off:]
	if p.factor == nil {
		columnSums(dst, g, t, p.cols, p.ld)
		return
	}
	gemm(1, true, false, p.cols, d, t, 1, g, p.ld, p.factor[n*t*d:], d, 0, dst, d)
}

func (p *attnParamSamples[T]) example(n int, dst []float64) {
	buf := make([]T, p.size())
	p.exampleInto(n, buf)
	for i, v := range buf {
		dst[i] = float64(v)
	}
}

func (p *attnParamSamples[T]) sqNorms(norms []float64) {
	inChunks(p.s.n, func(_, from, to int) {
		buf := make([]T, p.size())
		for n := from; n < to; n++ {
			p.exampleInto(n, buf)
			norms[n] += sumSquares(buf)
		}
	})
}

func (p *attnParamSamples[T]) weightedSum(coef []float64, grad *tensor.Dense) error {
	t, d, rows := p.s.t, p.s.d, p.s.n*p.s.t
	scaled := make([]T, rows*p.cols)
	for r := 0; r < rows; r++ {
		c := T(coef[r/t])
		for j, v := range p.grad[r*p.ld+p.off : r*p.ld+p.off+p.cols] {
			scaled[r*p.cols+j] = c * v
		}
	}
	dst := values[T](grad)
	if p.factor == nil {
		columnSums(dst, scaled, rows, p.cols, p.cols)
		return nil
	}
	gemm(maxThreads(), true, false, p.cols, d, rows, 1, scaled, p.cols, p.factor, d, 0, dst, d)
	return nil
}
