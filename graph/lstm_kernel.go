package graph

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/internal/par"
)

// lstmLayerKernel is one LSTM layer, both directions, over a whole batch of
// sequences: one Gorgonia node instead of T·directions unrolled cells.
//
// Inputs: x [N, T, In], the mask [N, T] when masked, then per direction
// weight_ih [4H, In], weight_hh [4H, H], bias_ih [4H], bias_hh [4H] (the
// forward direction's, then the reverse's). Output [N, T+2, D·H]: rows
// 0…T−1 are the outputs h_t (zero at masked steps), row T the final hidden
// state and row T+1 the final cell state, each direction's H values side by
// side (forward first), as PyTorch concatenates them. Carrying the final
// states in the same output keeps one node per layer; lstmRowsKernel slices
// them out.
//
// The real tokens (mask 1) are packed time-major, as PyTorch's
// PackedSequence: packed row r is batch element rows[r] at the time step of
// its lstmStep. A direction runs only over its packed rows, so a masked
// step costs nothing and leaves the state as it was: the forward
// direction's final state is at each sequence's last real token and the
// reverse direction starts from zeros there, whichever side the padding is
// on. The input projection of every packed row is one matrix product per
// direction; the recurrence is one small product per time step with the
// recurrent weights packed once per run (lstmWeights) — once per loaded
// model in the float32 serving graph (lstmPacked) — and the steps
// alternating the product's column order, so that W_hh stays mostly in
// cache. The two directions run on two goroutines: at batch 1, one core
// each, with no synchronisation between steps.
//
// backward is BPTT. The tape calls it once per input; the first call of a
// run back-propagates both directions through time (concurrently: this is
// the sequential part), replacing the kept gate activations by dLoss/d
// pre-activations, and every call then derives its own input's gradient
// from those with one matrix product over all real tokens. Only the
// training graph's kernels keep every step's state (keep); an inference
// kernel holds one step's.
type lstmLayerKernel[T float] struct {
	hidden int
	dirs   int  // 1, or 2 when bidirectional
	masked bool // the second input is the mask
	keep   bool // keep every step's state for backward (the training graph)

	steps   []lstmStep // time steps with at least one real token, ascending
	rows    []int      // packed row → batch element
	packedX []T        // [R, In] the real tokens' inputs
	dir     [2]lstmDirection[T]
	dx      []T // [R, In] gradient of packedX

	forwards, bptts int // BPTT is current when bptts == forwards

	quant  [2]*lstmQuant  // per direction: int8 weights (serving graph), or nil
	packed [2]*lstmPacked // per direction: float32 weights packed once (serving graph), or nil

	directions forkSite[lstmForwardCall[T], *lstmForwardCall[T]] // forward: the two directions side by side
	project    productSite                                       // serving, one direction: the input projection
}

// lstmPacked is one direction's weights in a float32 serving graph, packed
// on first use and shared by the model's serving machines: the training
// graph packs W_hh at every run, since its weights change between runs,
// and that repacking (a transposition of 4H×H floats, with W_ih's, per
// direction and layer) costs as much as a batch of one's recurrence.
type lstmPacked struct {
	ih, hh *packedWeights // W_ihᵀ and W_hhᵀ as op(B)
}

// maxStepRows is the largest number of real tokens at one time step.
func (k *lstmLayerKernel[T]) maxStepRows() int {
	m := 0
	for _, s := range k.steps {
		m = max(m, s.to-s.from)
	}
	return m
}

// lstmStep is one time step t whose real tokens are packed rows [from, to).
type lstmStep struct{ t, from, to int }

// lstmDirection holds one direction's forward results and BPTT state. Packed
// buffers have one row per real token.
type lstmDirection[T float] struct {
	gates        []T            // [R, 4H] activations i, f, g, o; BPTT overwrites them with dLoss/d pre-activations
	hPrev, cPrev []T            // [R, H] the state each step started from (for one step when !keep)
	tanhC        []T            // [R, H] tanh of the new cell state (for one step when !keep)
	h, c         []T            // [N, H] running state
	dh, dc       []T            // [N, H] running gradient of the state
	dhPrev       []T            // [max rows per step, H]
	whhT, whh    lstmWeights[T] // W_hhᵀ for the forward pass, W_hh for BPTT
	bias         []T            // [4H] b_ih + b_hh (serving graph)
}

func (k *lstmLayerKernel[T]) name() string {
	return fmt.Sprintf("LSTMLayer(hidden=%d, directions=%d, masked=%v)", k.hidden, k.dirs, k.masked)
}

// paramBase is the index of the first weight among the inputs.
func (k *lstmLayerKernel[T]) paramBase() int {
	if k.masked {
		return 2
	}
	return 1
}

func (k *lstmLayerKernel[T]) differentiable() []bool {
	d := make([]bool, k.paramBase()+4*k.dirs)
	for i := range d {
		d[i] = true
	}
	if k.masked {
		d[1] = false
	}
	return d
}

func (k *lstmLayerKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	base := k.paramBase()
	if len(in) != base+4*k.dirs {
		return nil, fmt.Errorf("%d inputs, expected %d", len(in), base+4*k.dirs)
	}
	x := in[0]
	if len(x) != 3 || x[1] < 1 {
		return nil, fmt.Errorf("input %v, expected [N, T, In] with T ≥ 1", x)
	}
	if k.masked && (len(in[1]) != 2 || in[1][0] != x[0] || in[1][1] != x[1]) {
		return nil, fmt.Errorf("mask %v, expected [%d, %d]", in[1], x[0], x[1])
	}
	h4 := 4 * k.hidden
	for d := 0; d < k.dirs; d++ {
		want := []tensor.Shape{{h4, x[2]}, {h4, k.hidden}, {h4}, {h4}}
		for p, w := range want {
			if got := in[base+4*d+p]; !got.Eq(w) {
				return nil, fmt.Errorf("direction %d weight %d has shape %v, expected %v", d, p, got, w)
			}
		}
	}
	return tensor.Shape{x[0], x[1] + 2, k.dirs * k.hidden}, nil
}

// lstmResize returns s with length n, reallocating only when it must grow.
func lstmResize[T float](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// pack lists the real tokens time-major and gathers their inputs.
func (k *lstmLayerKernel[T]) pack(x, mask []T, n, steps, in int) error {
	k.steps, k.rows = k.steps[:0], k.rows[:0]
	for t := 0; t < steps; t++ {
		from := len(k.rows)
		for i := 0; i < n; i++ {
			m := T(1)
			if mask != nil {
				m = mask[i*steps+t]
			}
			switch m {
			case 1:
				k.rows = append(k.rows, i)
			case 0:
			default:
				return fmt.Errorf("mask value %v at [%d, %d], expected 0 or 1", m, i, t)
			}
		}
		if len(k.rows) > from {
			k.steps = append(k.steps, lstmStep{t: t, from: from, to: len(k.rows)})
		}
	}
	k.packedX = lstmResize(k.packedX, len(k.rows)*in)
	for _, s := range k.steps {
		for r := s.from; r < s.to; r++ {
			src := (k.rows[r]*steps + s.t) * in
			copy(k.packedX[r*in:(r+1)*in], x[src:src+in])
		}
	}
	return nil
}

// weights returns direction d's weight_ih, weight_hh, bias_ih and bias_hh.
func (k *lstmLayerKernel[T]) weights(in []*tensor.Dense, d int) (wih, whh, bih, bhh []T) {
	p := k.paramBase() + 4*d
	return values[T](in[p]), values[T](in[p+1]), values[T](in[p+2]), values[T](in[p+3])
}

// bothDirections runs f for each direction, concurrently when there are
// two: on the fork helpers, the caller asleep until both are done (each
// runs for a millisecond or more), as forward does.
func (k *lstmLayerKernel[T]) bothDirections(f func(d int)) {
	if k.dirs == 1 {
		f(0)
		return
	}
	par.ForkSleeping(2, f)
}

func (k *lstmLayerKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	s := in[0].Shape()
	n, steps, inDim := s[0], s[1], s[2]
	var mask []T
	if k.masked {
		mask = values[T](in[1])
	}
	if err := k.pack(values[T](in[0]), mask, n, steps, inDim); err != nil {
		return err
	}
	k.forwards++
	y := values[T](out)
	clear(y)
	if k.dirs == 1 {
		k.forwardDirection(in, y, 0, n, steps, inDim)
		return nil
	}
	k.directions.sleep = true // each direction runs for a millisecond or more
	k.directions.fork(2, lstmForwardCall[T]{k: k, in: in, y: y, n: n, steps: steps, inDim: inDim})
	return nil
}

// lstmForwardCall is forward's arguments: part d runs direction d.
type lstmForwardCall[T float] struct {
	k               *lstmLayerKernel[T]
	in              []*tensor.Dense
	y               []T
	n, steps, inDim int
}

func (c *lstmForwardCall[T]) part(d, _, _ int) {
	c.k.forwardDirection(c.in, c.y, d, c.n, c.steps, c.inDim)
}

// forwardDirection runs direction d (0 forward in time, 1 reverse) and
// writes its H columns of y [N, T+2, D·H].
func (k *lstmLayerKernel[T]) forwardDirection(in []*tensor.Dense, y []T, d, n, steps, inDim int) {
	H, h4, r := k.hidden, 4*k.hidden, len(k.rows)
	wih, whh, bih, bhh := k.weights(in, d)
	st := &k.dir[d]
	st.gates = lstmResize(st.gates, r*h4)
	kept := r // rows of per-step state: all for backward, else the largest step's
	if !k.keep {
		kept = k.maxStepRows()
	}
	st.hPrev = lstmResize(st.hPrev, kept*H)
	st.cPrev = lstmResize(st.cPrev, kept*H)
	st.tanhC = lstmResize(st.tanhC, kept*H)
	st.h, st.c = lstmResize(st.h, n*H), lstmResize(st.c, n*H)
	clear(st.h)
	clear(st.c)

	// Pre-activations of every real token: x·W_ihᵀ + b_ih + b_hh.
	pk := k.packed[d]
	if pk != nil {
		st.bias = lstmResize(st.bias, h4)
		for j := range st.bias {
			st.bias[j] = bih[j] + bhh[j]
		}
		ih, b32 := any(wih).([]float32), any(st.bias).([]float32)
		pk.ih.pack(ih, h4, inDim)
		pk.hh.pack(any(whh).([]float32), h4, H)
		x, g := any(k.packedX).([]float32), any(st.gates).([]float32)
		switch {
		case r == 0: // all padding
		case k.dirs == 1:
			pk.ih.product(&k.project, x, r, inDim, h4, b32, g)
		default: // each direction has its core
			pk.ih.productSerial(x, r, inDim, h4, b32, g)
		}
	} else {
		for i := 0; i < r; i++ {
			row := st.gates[i*h4 : (i+1)*h4]
			for j := range row {
				row[j] = bih[j] + bhh[j]
			}
		}
		threads := sideThreads(k.dirs)
		if !k.int8Product(d, false, r, inDim, k.packedX, st.gates) {
			gemm(threads, false, true, r, h4, inDim, 1, k.packedX, inDim, wih, inDim, 1, st.gates, h4)
		}
		if k.quant[d] == nil {
			st.whhT.set(true, whh, H, H, h4)
		}
	}

	width := k.dirs * H
	for order := range k.steps {
		si, rev := order, order%2 == 1 // rev: the steps' products alternate their column order
		if d == 1 {
			si = len(k.steps) - 1 - order
		}
		s := k.steps[si]
		base := s.from // first row of this step in hPrev, cPrev, tanhC
		if !k.keep {
			base = 0
		}
		hp, cp := st.hPrev[base*H:(base+s.to-s.from)*H], st.cPrev[base*H:(base+s.to-s.from)*H]
		for i, b := range k.rows[s.from:s.to] {
			copy(hp[i*H:(i+1)*H], st.h[b*H:(b+1)*H])
			copy(cp[i*H:(i+1)*H], st.c[b*H:(b+1)*H])
		}
		g := st.gates[s.from*h4 : s.to*h4]
		switch {
		case pk != nil:
			pk.hh.addSerial(any(hp).([]float32), s.to-s.from, H, h4, any(g).([]float32), rev)
		case !k.int8Product(d, true, s.to-s.from, H, hp, g):
			lstmGemmWeights(false, s.to-s.from, h4, H, 1, hp, H, &st.whhT, 1, g, h4, rev)
		}
		for i, b := range k.rows[s.from:s.to] {
			gi := g[i*h4 : (i+1)*h4]
			lstmActivateGates(gi, H)
			ig, fg, gg, og := gi[:H], gi[H:2*H], gi[2*H:3*H], gi[3*H:]
			tc := st.tanhC[(base+i)*H : (base+i+1)*H]
			hb, cb, cpi := st.h[b*H:(b+1)*H], st.c[b*H:(b+1)*H], cp[i*H:(i+1)*H]
			for j := range tc {
				c := fg[j]*cpi[j] + ig[j]*gg[j]
				cb[j], tc[j] = c, c
			}
			lstmTanh(tc, tc)
			yt := y[(b*(steps+2)+s.t)*width+d*H:][:H]
			for j, t := range tc {
				h := og[j] * t
				hb[j], yt[j] = h, h
			}
		}
	}
	for b := 0; b < n; b++ {
		copy(y[(b*(steps+2)+steps)*width+d*H:][:H], st.h[b*H:(b+1)*H])
		copy(y[(b*(steps+2)+steps+1)*width+d*H:][:H], st.c[b*H:(b+1)*H])
	}
}

func (k *lstmLayerKernel[T]) backward(in []*tensor.Dense, out, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	s := in[0].Shape()
	n, steps, inDim := s[0], s[1], s[2]
	if !k.keep {
		return fmt.Errorf("the LSTM of an inference graph keeps no state for gradients")
	}
	if k.bptts != k.forwards {
		g := values[T](gOut)
		k.bothDirections(func(d int) { k.bptt(in, g, d, n, steps) })
		k.bptts = k.forwards
	}
	H, h4, r := k.hidden, 4*k.hidden, len(k.rows)
	dst := values[T](grad)
	if r == 0 {
		clear(dst) // all padding: the output did not depend on any input
		return nil
	}
	threads := sideThreads(1)
	if wrt == 0 {
		k.dx = lstmResize(k.dx, r*inDim)
		for d := 0; d < k.dirs; d++ {
			wih, _, _, _ := k.weights(in, d)
			gemm(threads, false, false, r, inDim, h4, 1, k.dir[d].gates, h4, wih, inDim, T(min(d, 1)), k.dx, inDim)
		}
		for _, st := range k.steps {
			for i := st.from; i < st.to; i++ {
				copy(dst[(k.rows[i]*steps+st.t)*inDim:][:inDim], k.dx[i*inDim:(i+1)*inDim])
			}
		}
		return nil
	}
	p := wrt - k.paramBase()
	d, which := p/4, p%4
	st := &k.dir[d]
	switch which {
	case 0: // weight_ih [4H, In] = dGatesᵀ·x
		gemm(threads, true, false, h4, inDim, r, 1, st.gates, h4, k.packedX, inDim, 0, dst, inDim)
	case 1: // weight_hh [4H, H] = dGatesᵀ·h_prev
		gemm(threads, true, false, h4, H, r, 1, st.gates, h4, st.hPrev, H, 0, dst, H)
	default: // both biases enter every pre-activation once
		for i := 0; i < r; i++ {
			for j, v := range st.gates[i*h4 : (i+1)*h4] {
				dst[j] += v
			}
		}
	}
	return nil
}

// bptt back-propagates direction d through time, from the gradients of its
// outputs and final states in g [N, T+2, D·H], replacing each row of gates
// by dLoss/d pre-activations once the step no longer needs it.
func (k *lstmLayerKernel[T]) bptt(in []*tensor.Dense, g []T, d, n, steps int) {
	H, h4 := k.hidden, 4*k.hidden
	_, whh, _, _ := k.weights(in, d)
	st := &k.dir[d]
	st.dh, st.dc = lstmResize(st.dh, n*H), lstmResize(st.dc, n*H)
	st.dhPrev = lstmResize(st.dhPrev, k.maxStepRows()*H)
	st.whh.set(false, whh, H, h4, H)
	width := k.dirs * H
	for b := 0; b < n; b++ {
		copy(st.dh[b*H:(b+1)*H], g[(b*(steps+2)+steps)*width+d*H:][:H])
		copy(st.dc[b*H:(b+1)*H], g[(b*(steps+2)+steps+1)*width+d*H:][:H])
	}
	// Reverse of the forward order: the forward direction from the last step.
	for order := range k.steps {
		si, rev := order, order%2 == 1
		if d == 0 {
			si = len(k.steps) - 1 - order
		}
		s := k.steps[si]
		dg := st.gates[s.from*h4 : s.to*h4] // activations in, gradients out
		for i, b := range k.rows[s.from:s.to] {
			row := s.from + i
			gi := dg[i*h4 : (i+1)*h4] // each gate is read before its gradient replaces it
			tc := st.tanhC[row*H : (row+1)*H]
			cp := st.cPrev[row*H : (row+1)*H]
			dh, dc := st.dh[b*H:(b+1)*H], st.dc[b*H:(b+1)*H]
			gy := g[(b*(steps+2)+s.t)*width+d*H:][:H]
			for j := 0; j < H; j++ {
				ig, fg, gg, og := gi[j], gi[H+j], gi[2*H+j], gi[3*H+j]
				t := tc[j]
				dhv := dh[j] + gy[j]
				dcv := dc[j] + dhv*og*(1-t*t)
				gi[j] = dcv * gg * ig * (1 - ig)
				gi[H+j] = dcv * cp[j] * fg * (1 - fg)
				gi[2*H+j] = dcv * ig * (1 - gg*gg)
				gi[3*H+j] = dhv * t * og * (1 - og)
				dc[j] = dcv * fg
			}
		}
		rows := s.to - s.from
		dhp := st.dhPrev[:rows*H]
		lstmGemmWeights(false, rows, H, h4, 1, dg, h4, &st.whh, 0, dhp, H, rev)
		for i, b := range k.rows[s.from:s.to] {
			copy(st.dh[b*H:(b+1)*H], dhp[i*H:(i+1)*H])
		}
	}
}
