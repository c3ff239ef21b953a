package graph

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Two linear layers [4, 3] → 5 → 2: forward 2·4·3·5 + 2·4·5·2 = 200; the
// training machine adds each layer's gradients for its input and weight
// (the data input's gradient too: the tape computes it), one product of
// forward's size each, and nothing for the biases.
func TestMachineFLOPs(t *testing.T) {
	build := func(b *Builder, n int) (Outputs, error) {
		x := b.Input("x", n, 3)
		h := Linear(b, "l1", x, 5, true)
		return Outputs{Inputs: []*G.Node{x}, Output: Linear(b, "l2", h, 2, true)}, nil
	}
	params := NewParams(tensor.Float64, 1)
	for _, c := range []struct {
		mode Mode
		want int64
	}{{Infer, 200}, {Eval, 200}, {Train, 600}} {
		m, err := Compile(build, MulticlassLoss, params, nil, 4, c.mode)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.FLOPs(); got != c.want {
			t.Errorf("%s machine: %d FLOPs, want %d", c.mode, got, c.want)
		}
	}
}

// The LSTM's and attention's counts follow their formulas: a 1-direction
// LSTM of hidden 4 over [2, 3, 5] runs 2·6·5·16 + 2·6·4·16 = 1728 in
// forward; attention over [2, 3, 8] runs 8·6·64 + 4·2·9·8 = 3648.
func TestKernelFLOPs(t *testing.T) {
	l := &lstmLayerKernel[float64]{hidden: 4, dirs: 1}
	in := []tensor.Shape{{2, 3, 5}, {16, 5}, {16, 4}, {16}, {16}}
	if got := l.flops(in, nil); got != 1728 {
		t.Errorf("LSTM forward %d, want 1728", got)
	}
	var back int64
	for wrt := range in {
		back += l.gradFlops(in, nil, wrt)
	}
	if back != 2*1728 {
		t.Errorf("LSTM backward %d, want twice forward, 3456", back)
	}
	a := &attentionKernel[float64]{heads: 2, parts: 1}
	ain := []tensor.Shape{{2, 3, 8}, {24, 8}, {24}, {8, 8}, {8}}
	if got := a.flops(ain, nil); got != 3648 {
		t.Errorf("attention forward %d, want 3648", got)
	}
	if got := a.gradFlops(ain, nil, 1) + a.gradFlops(ain, nil, 3); got != 8*6*64 {
		t.Errorf("attention weight gradients %d, want 3072", got)
	}
}
