package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lstmMask returns the [N, steps] mask of sequences of the given lengths,
// padded before the tokens (pre) or after them.
func lstmMask(lengths []int, steps int, pre bool) []float64 {
	m := make([]float64, len(lengths)*steps)
	for n, l := range lengths {
		for k := 0; k < l; k++ {
			t := k
			if pre {
				t = steps - l + k
			}
			m[n*steps+t] = 1
		}
	}
	return m
}

// lstmLoss is a weighted sum of everything the LSTM returns, each element
// with its own fixed random weight, so that every output, final hidden and
// final cell state gets a distinct upstream gradient.
func lstmLoss(b *Builder, o *LSTMOutput) *G.Node {
	terms := []*G.Node{G.Must(G.Sum(G.Must(G.HadamardProd(o.Sequence(), randomInput(b, "Rseq", 101, o.Sequence().Shape()...)))))}
	for l := 0; l < o.Layers(); l++ {
		for i, s := range []*G.Node{o.Hidden(l), o.Cell(l)} {
			r := randomInput(b, fmt.Sprintf("R%d.%d", l, i), uint64(200+10*l+i), s.Shape()...)
			terms = append(terms, G.Must(G.Sum(G.Must(G.HadamardProd(s, r)))))
		}
	}
	loss := terms[0]
	for _, t := range terms[1:] {
		loss = G.Must(G.Add(loss, t))
	}
	return loss
}

// lstmParamNodes returns the graph's nodes of every parameter, in order.
func lstmParamNodes(b *Builder) []*G.Node {
	var ns []*G.Node
	for _, p := range b.Params.List() {
		ns = append(ns, b.ParamNode(p.Name))
	}
	return ns
}

func TestLSTMGradients(t *testing.T) {
	cases := []struct {
		name    string
		n, T    int
		in      int
		mask    []float64 // nil: no mask
		cfg     LSTMConfig
		dropout bool
	}{
		{"unidirectional, no mask", 2, 4, 3, nil, LSTMConfig{Hidden: 3}, false},
		{"unidirectional, post-padded", 3, 4, 2, lstmMask([]int{4, 2, 1}, 4, false), LSTMConfig{Hidden: 2}, false},
		{"bidirectional, 2 layers, pre-padded, an empty row", 4, 5, 3, lstmMask([]int{5, 3, 1, 0}, 5, true),
			LSTMConfig{Hidden: 3, Layers: 2, Bidirectional: true}, false},
		{"bidirectional, a gap in the mask", 2, 5, 2, []float64{1, 0, 1, 1, 0, 0, 1, 1, 0, 1},
			LSTMConfig{Hidden: 2, Bidirectional: true}, false},
		{"bidirectional, 3 layers, dropout between layers", 3, 4, 2, lstmMask([]int{4, 3, 2}, 4, true),
			LSTMConfig{Hidden: 2, Layers: 3, Bidirectional: true, Dropout: 0.4}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := GradCheck(func(b *Builder) (*G.Node, []*G.Node, error) {
				x := randomInput(b, "x", 7, c.n, c.T, c.in)
				var mask *G.Node
				if c.mask != nil {
					mask = constInput(b, "mask", slices.Clone(c.mask), c.n, c.T)
				}
				o := LSTM(b, "rnn", x, mask, c.cfg)
				return lstmLoss(b, o), append([]*G.Node{x}, lstmParamNodes(b)...), nil
			}, GradCheckConfig{Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// lstmUnrolled is the reference the kernel is checked against: the same
// LSTM built cell by cell from Gorgonia's own primitives (matrix products,
// broadcast additions, slices, sigmoid, tanh), one cell per step, layer and
// direction, with the mask applied as h ← m·h' + (1−m)·h.
func lstmUnrolled(b *Builder, name string, x *G.Node, mask []float64, cfg LSTMConfig) (seq *G.Node, hidden, cell []*G.Node) {
	n, steps, H := x.Shape()[0], x.Shape()[1], cfg.Hidden
	dirs := 1
	if cfg.Bidirectional {
		dirs = 2
	}
	inputs := make([]*G.Node, steps)
	for t := range inputs {
		inputs[t] = G.Must(G.Slice(x, nil, G.S(t), nil)) // [N, In]
	}
	column := func(t int, invert bool) *G.Node {
		v := make([]float64, n)
		for i := range v {
			v[i] = 1
			if mask != nil {
				v[i] = mask[i*steps+t]
			}
			if invert {
				v[i] = 1 - v[i]
			}
		}
		return constInput(b, fmt.Sprintf("m%d.%v", t, invert), v, n, 1)
	}
	rowBias := func(p *G.Node) *G.Node { return G.Must(G.Reshape(p, tensor.Shape{1, 4 * H})) }
	gate := func(g *G.Node, k int) *G.Node { return G.Must(G.Slice(g, nil, G.S(k*H, (k+1)*H))) }
	for l := 0; l < max(cfg.Layers, 1); l++ {
		outs := make([][]*G.Node, dirs)
		var hs, cs []*G.Node
		for d := 0; d < dirs; d++ {
			suffix := fmt.Sprintf("_l%d", l)
			if d == 1 {
				suffix += "_reverse"
			}
			wih, whh := b.ParamNode(name+".weight_ih"+suffix), b.ParamNode(name+".weight_hh"+suffix)
			bih, bhh := rowBias(b.ParamNode(name+".bias_ih"+suffix)), rowBias(b.ParamNode(name+".bias_hh"+suffix))
			h := constInput(b, "h0", make([]float64, n*H), n, H)
			c := constInput(b, "c0", make([]float64, n*H), n, H)
			outs[d] = make([]*G.Node, steps)
			for k := 0; k < steps; k++ {
				t := k
				if d == 1 {
					t = steps - 1 - k
				}
				g := G.Must(G.Add(G.Must(G.Mul(inputs[t], G.Must(G.Transpose(wih)))), G.Must(G.Mul(h, G.Must(G.Transpose(whh))))))
				g = G.Must(G.BroadcastAdd(g, bih, nil, []byte{0}))
				g = G.Must(G.BroadcastAdd(g, bhh, nil, []byte{0}))
				ig, fg := G.Must(G.Sigmoid(gate(g, 0))), G.Must(G.Sigmoid(gate(g, 1)))
				gg, og := G.Must(G.Tanh(gate(g, 2))), G.Must(G.Sigmoid(gate(g, 3)))
				cNew := G.Must(G.Add(G.Must(G.HadamardProd(fg, c)), G.Must(G.HadamardProd(ig, gg))))
				hNew := G.Must(G.HadamardProd(og, G.Must(G.Tanh(cNew))))
				m, keep := column(t, false), column(t, true)
				masked := func(v *G.Node, w *G.Node) *G.Node { return G.Must(G.BroadcastHadamardProd(v, w, nil, []byte{1})) }
				h = G.Must(G.Add(masked(hNew, m), masked(h, keep)))
				c = G.Must(G.Add(masked(cNew, m), masked(c, keep)))
				outs[d][t] = masked(hNew, m)
			}
			hs, cs = append(hs, h), append(cs, c)
		}
		for t := range inputs {
			var parts []*G.Node
			for d := range outs {
				parts = append(parts, outs[d][t])
			}
			inputs[t] = G.Must(G.Concat(1, parts...))
		}
		hidden = append(hidden, G.Must(G.Concat(1, hs...)))
		cell = append(cell, G.Must(G.Concat(1, cs...)))
	}
	rows := make([]*G.Node, steps)
	for t, v := range inputs {
		rows[t] = G.Must(G.Reshape(v, tensor.Shape{n, 1, dirs * H}))
	}
	return G.Must(G.Concat(1, rows...)), hidden, cell
}

// lstmRunValues runs b's graph and returns the loss, then the values of
// each node in show, then of each gradient.
func lstmRunValues(t *testing.T, b *Builder, loss *G.Node, show, wrt []*G.Node) [][]float64 {
	t.Helper()
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.G)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := [][]float64{{scalarOf(loss.Value())}}
	for _, n := range append(slices.Clone(show), grads...) {
		out = append(out, slices.Clone(n.Value().(*tensor.Dense).Float64s()))
	}
	return out
}

// The kernel against the unrolled reference: outputs, final states, the
// loss and the gradient of the input and of every weight.
func TestLSTMMatchesUnrolledReference(t *testing.T) {
	cases := []struct {
		name string
		n, T int
		in   int
		mask []float64
		cfg  LSTMConfig
	}{
		{"unidirectional, no mask", 2, 3, 3, nil, LSTMConfig{Hidden: 4}},
		{"bidirectional, 2 layers, pre-padded", 3, 5, 3, lstmMask([]int{5, 2, 1}, 5, true),
			LSTMConfig{Hidden: 3, Layers: 2, Bidirectional: true}},
		{"bidirectional, 2 layers, post-padded, an empty row", 4, 4, 2, lstmMask([]int{4, 3, 1, 0}, 4, false),
			LSTMConfig{Hidden: 2, Layers: 2, Bidirectional: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := NewParams(tensor.Float64, 11)
			var runs [2][][]float64
			for i := range runs {
				b := NewBuilder(ps, Train, nil)
				x := randomInput(b, "x", 5, c.n, c.T, c.in)
				var seq *G.Node
				var hidden, cell []*G.Node
				if i == 0 {
					var mask *G.Node
					if c.mask != nil {
						mask = constInput(b, "mask", slices.Clone(c.mask), c.n, c.T)
					}
					o := LSTM(b, "rnn", x, mask, c.cfg)
					seq = o.Sequence()
					for l := 0; l < o.Layers(); l++ {
						hidden, cell = append(hidden, o.Hidden(l)), append(cell, o.Cell(l))
					}
				} else {
					for _, p := range ps.List() {
						b.Param(p.Name, p.Shape(), nil) // this graph's nodes of the kernel graph's weights
					}
					seq, hidden, cell = lstmUnrolled(b, "rnn", x, c.mask, c.cfg)
				}
				loss := G.Must(G.Sum(G.Must(G.HadamardProd(seq, randomInput(b, "R", 9, seq.Shape()...)))))
				for l := range hidden {
					for j, s := range []*G.Node{hidden[l], cell[l]} {
						r := randomInput(b, fmt.Sprintf("R%d.%d", l, j), uint64(20+2*l+j), s.Shape()...)
						loss = G.Must(G.Add(loss, G.Must(G.Sum(G.Must(G.HadamardProd(s, r))))))
					}
				}
				show := append(append([]*G.Node{seq}, hidden...), cell...)
				runs[i] = lstmRunValues(t, b, loss, show, append([]*G.Node{x}, lstmParamNodes(b)...))
			}
			layers := max(c.cfg.Layers, 1)
			what := []string{"loss", "outputs"}
			for _, kind := range []string{"final hidden state", "final cell state"} {
				for l := range layers {
					what = append(what, fmt.Sprintf("layer %d %s", l, kind))
				}
			}
			what = append(what, "gradient of x")
			for _, p := range ps.List() {
				what = append(what, "gradient of "+p.Name)
			}
			for i := range runs[0] {
				if err := lstmClose(runs[0][i], runs[1][i], 1e-12); err != nil {
					t.Errorf("%s (%d): %v", what[i], i, err)
				}
			}
		})
	}
}

// lstmClose checks got against want element by element within
// tol·max(1, |want|).
func lstmClose(got, want []float64, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*math.Max(1, math.Abs(want[i]))) {
			return fmt.Errorf("element %d is %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}

// Padding never changes a result: the same sequences padded before or
// after their tokens, with more or less padding (and garbage in the padded
// inputs), give the same final states, the same outputs at the real tokens,
// zeros elsewhere, and the same gradients.
func TestLSTMPaddingInvariance(t *testing.T) {
	lengths := []int{4, 2, 1, 0, 3}
	const in, hidden = 3, 3
	cfg := LSTMConfig{Hidden: hidden, Layers: 2, Bidirectional: true}
	n, width := len(lengths), 2*hidden
	rng := rand.New(rand.NewPCG(4, 4))
	tokens := make([][]float64, n)  // per sequence, its real tokens' inputs
	weights := make([][]float64, n) // per sequence, the loss weight of each real output
	for i, l := range lengths {
		tokens[i] = make([]float64, l*in)
		weights[i] = make([]float64, l*width)
		for j := range tokens[i] {
			tokens[i][j] = rng.NormFloat64()
		}
		for j := range weights[i] {
			weights[i][j] = rng.NormFloat64()
		}
	}
	type layout struct {
		steps int
		pre   bool
	}
	type result struct {
		states, grads [][]float64 // final states; weight gradients
		real, pad     []float64   // outputs and input gradients at the real tokens; the same at the padding
	}
	ps := NewParams(tensor.Float64, 8)
	run := func(lay layout) result {
		mask := lstmMask(lengths, lay.steps, lay.pre)
		x := make([]float64, n*lay.steps*in)
		r := make([]float64, n*lay.steps*width)
		for j := range x {
			x[j] = 100 + rng.Float64() // garbage where the mask is 0
		}
		for j := range r {
			r[j] = rng.NormFloat64()
		}
		pos := func(i, k int) int { // time step of sequence i's k-th token
			if lay.pre {
				return lay.steps - lengths[i] + k
			}
			return k
		}
		for i, l := range lengths {
			for k := 0; k < l; k++ {
				copy(x[(i*lay.steps+pos(i, k))*in:][:in], tokens[i][k*in:(k+1)*in])
				copy(r[(i*lay.steps+pos(i, k))*width:][:width], weights[i][k*width:(k+1)*width])
			}
		}
		b := NewBuilder(ps, Train, nil)
		xn := constInput(b, "x", x, n, lay.steps, in)
		o := LSTM(b, "rnn", xn, constInput(b, "mask", mask, n, lay.steps), cfg)
		loss := G.Must(G.Sum(G.Must(G.HadamardProd(o.Sequence(), constInput(b, "R", r, n, lay.steps, width)))))
		var show []*G.Node
		for l := 0; l < cfg.Layers; l++ {
			for j, s := range []*G.Node{o.Hidden(l), o.Cell(l)} {
				loss = G.Must(G.Add(loss, G.Must(G.Sum(G.Must(G.HadamardProd(s, randomInput(b, fmt.Sprintf("R%d.%d", l, j), uint64(30+2*l+j), n, width)))))))
				show = append(show, s)
			}
		}
		vals := lstmRunValues(t, b, loss, append(show, o.Sequence()), append([]*G.Node{xn}, lstmParamNodes(b)...))
		seq, dx := vals[1+len(show)], vals[2+len(show)]
		var res result
		res.states = vals[1 : 1+len(show)]
		res.grads = vals[3+len(show):]
		for i := 0; i < n; i++ {
			for step := 0; step < lay.steps; step++ {
				o, g := seq[(i*lay.steps+step)*width:][:width], dx[(i*lay.steps+step)*in:][:in]
				if mask[i*lay.steps+step] == 1 {
					res.real = append(append(res.real, o...), g...)
				} else {
					res.pad = append(append(res.pad, o...), g...)
				}
			}
		}
		return res
	}
	ref := run(layout{steps: 4, pre: false})
	for _, v := range ref.states[0][3*width : 4*width] {
		if v != 0 {
			t.Fatalf("the empty sequence's final hidden state is %v, want zeros", ref.states[0][3*width:4*width])
		}
	}
	for _, lay := range []layout{{4, true}, {7, true}, {6, false}} {
		t.Run(fmt.Sprintf("steps=%d pre=%v", lay.steps, lay.pre), func(t *testing.T) {
			got := run(lay)
			for i := range ref.states {
				if err := lstmClose(got.states[i], ref.states[i], 1e-12); err != nil {
					t.Errorf("final state %d: %v", i, err)
				}
			}
			if err := lstmClose(got.real, ref.real, 1e-12); err != nil {
				t.Errorf("outputs and input gradients at real tokens: %v", err)
			}
			for i, v := range got.pad {
				if v != 0 {
					t.Fatalf("output or input gradient %v at a padded step (value %d)", v, i)
				}
			}
			for i := range ref.grads {
				if err := lstmClose(got.grads[i], ref.grads[i], 1e-12); err != nil {
					t.Errorf("gradient of %s: %v", ps.List()[i].Name, err)
				}
			}
		})
	}
}

func TestLSTMParamsArePyTorchs(t *testing.T) {
	ps := NewParams(tensor.Float32, 1)
	b := NewBuilder(ps, Eval, nil)
	LSTM(b, "rnn", b.Input("x", 2, 3, 5), nil, LSTMConfig{Hidden: 4, Layers: 2, Bidirectional: true})
	var got []string
	for _, p := range ps.List() {
		got = append(got, fmt.Sprint(p.Name, p.Shape()))
		bound := float32(0.5) // 1/√H
		for _, v := range p.Value.Float32s() {
			if v < -bound || v > bound {
				t.Errorf("%s holds %v, outside U(−1/√H, 1/√H)", p.Name, v)
				break
			}
		}
	}
	want := []string{
		"rnn.weight_ih_l0[16 5]", "rnn.weight_hh_l0[16 4]", "rnn.bias_ih_l0[16]", "rnn.bias_hh_l0[16]",
		"rnn.weight_ih_l0_reverse[16 5]", "rnn.weight_hh_l0_reverse[16 4]", "rnn.bias_ih_l0_reverse[16]", "rnn.bias_hh_l0_reverse[16]",
		"rnn.weight_ih_l1[16 8]", "rnn.weight_hh_l1[16 4]", "rnn.bias_ih_l1[16]", "rnn.bias_hh_l1[16]",
		"rnn.weight_ih_l1_reverse[16 8]", "rnn.weight_hh_l1_reverse[16 4]", "rnn.bias_ih_l1_reverse[16]", "rnn.bias_hh_l1_reverse[16]",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("parameters\n%v\nwant\n%v", got, want)
	}
}

func TestLSTMRejectsAMaskThatIsNotZeroOrOne(t *testing.T) {
	b := NewBuilder(NewParams(tensor.Float64, 1), Eval, nil)
	x := randomInput(b, "x", 1, 1, 3, 2)
	LSTM(b, "rnn", x, constInput(b, "mask", []float64{1, 0.5, 1}, 1, 3), LSTMConfig{Hidden: 2})
	err := G.NewTapeMachine(b.G).RunAll()
	if err == nil || !strings.Contains(err.Error(), "mask value 0.5 at [0, 1], expected 0 or 1") {
		t.Fatalf("error %v, want one naming the mask value and its position", err)
	}
}

func TestPaddingMask(t *testing.T) {
	for _, c := range []struct {
		ids, want []float64
		pad       int
	}{
		{[]float64{0, 0, 3, 1, 5, 0}, []float64{0, 0, 1, 1, 1, 0}, 0},
		{[]float64{2, 0, 2, 1, 2, 2}, []float64{0, 1, 0, 1, 0, 0}, 2},
	} {
		b := NewBuilder(NewParams(tensor.Float64, 1), Eval, nil)
		m := PaddingMask(constInput(b, "ids", c.ids, 2, 3), c.pad)
		if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
			t.Fatal(err)
		}
		if got := m.Value().(*tensor.Dense).Float64s(); !slices.Equal(got, c.want) {
			t.Errorf("PaddingMask(%v, %d) = %v, want %v", c.ids, c.pad, got, c.want)
		}
	}
}

// The inference graph's LSTM, which keeps one step's state instead of
// every step's, and the serving graph's, with its weights packed once
// (several column stripes when 4H is wide), compute the same bits as the
// training graph's.
func TestLSTMInferenceEqualsTraining(t *testing.T) {
	for _, c := range []struct {
		cfg     LSTMConfig
		lengths []int
	}{
		{LSTMConfig{Hidden: 5, Layers: 2, Bidirectional: true}, []int{6, 0, 3, 1}},
		{LSTMConfig{Hidden: 37, Layers: 2, Bidirectional: true}, []int{6, 0, 3, 1}},
		{LSTMConfig{Hidden: 37, Layers: 2}, []int{6, 0, 3, 1}},
		{LSTMConfig{Hidden: 37, Layers: 2, Bidirectional: true}, []int{0, 0, 0, 0}}, // all padding
	} {
		t.Run(fmt.Sprintf("hidden=%d,bidirectional=%v,lengths=%v", c.cfg.Hidden, c.cfg.Bidirectional, c.lengths), func(t *testing.T) {
			testLSTMInferenceEqualsTraining(t, c.cfg, c.lengths)
		})
	}
}

func testLSTMInferenceEqualsTraining(t *testing.T, cfg LSTMConfig, lengths []int) {
	ps := NewParams(tensor.Float32, 2)
	run := func(mode Mode) [][]float32 {
		b := NewBuilder(ps, mode, nil)
		x := make([]float32, 4*6*3)
		for i := range x {
			x[i] = float32(math.Sin(float64(i)))
		}
		mask := make([]float32, 4*6)
		for i, v := range lstmMask(lengths, 6, true) {
			mask[i] = float32(v)
		}
		o := LSTM(b, "rnn",
			G.NewTensor(b.G, tensor.Float32, 3, G.WithShape(4, 6, 3), G.WithName("x"), G.WithValue(tensor.New(tensor.WithShape(4, 6, 3), tensor.WithBacking(x)))),
			G.NewTensor(b.G, tensor.Float32, 2, G.WithShape(4, 6), G.WithName("mask"), G.WithValue(tensor.New(tensor.WithShape(4, 6), tensor.WithBacking(mask)))),
			cfg)
		nodes := []*G.Node{o.Sequence(), o.Hidden(0), o.Cell(0), o.Hidden(1), o.Cell(1)}
		if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for _, n := range nodes {
			out = append(out, slices.Clone(n.Value().(*tensor.Dense).Float32s()))
		}
		return out
	}
	train := run(Train)
	for _, mode := range []Mode{Eval, Infer} {
		got := run(mode)
		for i := range train {
			if !slices.Equal(train[i], got[i]) {
				t.Errorf("result %d differs between the training graph and the %v graph", i, mode)
			}
		}
	}
}
