package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LSTMConfig holds an LSTM's hyper-parameters: those of PyTorch's nn.LSTM
// with batch_first=True and bias=True; the input size is x's last dimension.
type LSTMConfig struct {
	Hidden        int     // hidden state size H; required
	Layers        int     // stacked layers; default 1
	Bidirectional bool    // each layer also runs backwards in time ("…_reverse" weights); default false
	Dropout       float64 // dropout on each layer's outputs except the last layer's, training graph only; default 0
}

// LSTM is PyTorch's nn.LSTM (batch_first) over x [N, T, In], with the
// mask [N, T] (PaddingMask) saying which steps are real tokens: as if the
// real tokens of each sequence had been packed with pack_padded_sequence.
// A masked step leaves the state unchanged and outputs zeros, so the
// forward direction's final state is at each sequence's last real token and
// the reverse direction starts there, whether the padding is before the
// text (Keras' 'pre', tapeml's default) or after it; an all-padding
// sequence has zero final states. A nil mask means no padding.
//
// Gates are in PyTorch's order (i, f, g, o) and the weights are PyTorch's:
// "<name>.weight_ih_l{k}" [4H, In], "weight_hh_l{k}" [4H, H], "bias_ih_l{k}"
// and "bias_hh_l{k}" [4H], with the suffix "_reverse" for the backward
// direction, in state_dict order, all initialized U(−1/√H, 1/√H). Initial
// states are zero. Dropout between layers comes from the Builder's Noise.
//
// Each layer is one node running the whole sequence in both directions
// (lstmLayerKernel); the returned LSTMOutput slices out what the model
// uses.
func LSTM(b *Builder, name string, x, mask *G.Node, cfg LSTMConfig) *LSTMOutput {
	if x.Dims() != 3 {
		panic(shapeErr(name, x.Shape(), "[N, T, In]"))
	}
	n, steps := x.Shape()[0], x.Shape()[1]
	if mask != nil && !mask.Shape().Eq(tensor.Shape{n, steps}) {
		panic(shapeErr(name+" mask", mask.Shape(), fmt.Sprintf("[%d, %d]", n, steps)))
	}
	if cfg.Layers == 0 {
		cfg.Layers = 1
	}
	if cfg.Hidden < 1 || cfg.Layers < 1 || cfg.Dropout < 0 || cfg.Dropout >= 1 {
		panic(fmt.Sprintf("graph: %s: LSTM hidden %d, layers %d, dropout %v: expected hidden ≥ 1, layers ≥ 1, dropout in [0, 1)",
			name, cfg.Hidden, cfg.Layers, cfg.Dropout))
	}
	dirs := 1
	if cfg.Bidirectional {
		dirs = 2
	}
	o := &LSTMOutput{steps: steps, hidden: make([]*G.Node, cfg.Layers), cell: make([]*G.Node, cfg.Layers)}
	init := Uniform(1 / math.Sqrt(float64(cfg.Hidden)))
	in := x
	for l := 0; l < cfg.Layers; l++ {
		if l > 0 {
			in = Dropout(b, o.rows(l-1, 0, steps, false), cfg.Dropout)
		}
		args := []*G.Node{in}
		if mask != nil {
			args = append(args, mask)
		}
		inDim := in.Shape()[2]
		var quant [2]*lstmQuant   // int8 weights of a quantized serving graph
		var packed [2]*lstmPacked // float32 weights of the serving graph, packed once
		for d := 0; d < dirs; d++ {
			suffix := fmt.Sprintf("_l%d", l)
			if d == 1 {
				suffix += "_reverse"
			}
			args = append(args,
				b.Param(name+".weight_ih"+suffix, []int{4 * cfg.Hidden, inDim}, init),
				b.Param(name+".weight_hh"+suffix, []int{4 * cfg.Hidden, cfg.Hidden}, init),
				b.Param(name+".bias_ih"+suffix, []int{4 * cfg.Hidden}, init),
				b.Param(name+".bias_hh"+suffix, []int{4 * cfg.Hidden}, init))
			b.role(name+".weight_ih"+suffix, RoleLSTM)
			b.role(name+".weight_hh"+suffix, RoleLSTM)
			b.unit(name+suffix, name+".weight_ih"+suffix, name+".weight_hh"+suffix) // one int8 kernel (lstmQuant) or none
			ih, hh := quantFor(b, name+".weight_ih"+suffix), quantFor(b, name+".weight_hh"+suffix)
			if ih != nil && hh != nil {
				quant[d] = &lstmQuant{ih: ih, hh: hh}
			} else if inferFast(b) && !b.attribution {
				packed[d] = &lstmPacked{ih: b.Params.packedFor(name + ".weight_ih" + suffix), hh: b.Params.packedFor(name + ".weight_hh" + suffix)}
			}
		}
		o.layers = append(o.layers, mustApply(typed(b.Dtype(),
			&lstmLayerKernel[float32]{hidden: cfg.Hidden, dirs: dirs, masked: mask != nil, keep: b.Training() || b.attribution, quant: quant, packed: packed},
			&lstmLayerKernel[float64]{hidden: cfg.Hidden, dirs: dirs, masked: mask != nil, keep: b.Training() || b.attribution}), args...))
	}
	return o
}

// LSTMOutput gives an LSTM's results. Each is a node made on first request,
// so a graph holds only the slices its model uses.
type LSTMOutput struct {
	layers       []*G.Node // per layer [N, T+2, D·H]: outputs, final h, final c
	steps        int
	sequence     *G.Node
	hidden, cell []*G.Node
}

// Sequence is the top layer's output at every step, [N, T, D·H] with the
// forward direction's H values first: PyTorch's output after
// pad_packed_sequence, zero at masked steps.
func (o *LSTMOutput) Sequence() *G.Node {
	if o.sequence == nil {
		o.sequence = o.rows(len(o.layers)-1, 0, o.steps, false)
	}
	return o.sequence
}

// Hidden is layer's final hidden state [N, D·H]: the forward direction's,
// then the reverse direction's. For the top layer of a bidirectional LSTM
// that is PyTorch's torch.cat((h_n[-2], h_n[-1]), dim=1).
func (o *LSTMOutput) Hidden(layer int) *G.Node {
	o.checkLayer(layer)
	if o.hidden[layer] == nil {
		o.hidden[layer] = o.rows(layer, o.steps, 1, true)
	}
	return o.hidden[layer]
}

// Cell is layer's final cell state [N, D·H], laid out as Hidden.
func (o *LSTMOutput) Cell(layer int) *G.Node {
	o.checkLayer(layer)
	if o.cell[layer] == nil {
		o.cell[layer] = o.rows(layer, o.steps+1, 1, true)
	}
	return o.cell[layer]
}

// Layers is the number of stacked layers.
func (o *LSTMOutput) Layers() int { return len(o.layers) }

func (o *LSTMOutput) checkLayer(layer int) {
	if layer < 0 || layer >= len(o.layers) {
		panic(fmt.Sprintf("graph: LSTM layer %d of %d", layer, len(o.layers)))
	}
}

func (o *LSTMOutput) rows(layer, from, count int, squeeze bool) *G.Node {
	x := o.layers[layer]
	return mustApply(typed(x.Dtype(),
		lstmRowsKernel[float32]{from: from, count: count, squeeze: squeeze},
		lstmRowsKernel[float64]{from: from, count: count, squeeze: squeeze}), x)
}

// lstmRowsKernel copies rows [from, from+count) of axis 1 of a layer's
// output [N, T+2, W]: [N, count, W], or [N, W] when squeeze (count 1).
type lstmRowsKernel[T float] struct {
	from, count int
	squeeze     bool
}

func (k lstmRowsKernel[T]) name() string {
	return fmt.Sprintf("LSTMRows(%d:%d)", k.from, k.from+k.count)
}

func (lstmRowsKernel[T]) differentiable() []bool { return []bool{true} }

func (k lstmRowsKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if len(x) != 3 || k.from+k.count > x[1] {
		return nil, fmt.Errorf("input %v, expected [N, ≥%d, W]", x, k.from+k.count)
	}
	if k.squeeze {
		return tensor.Shape{x[0], x[2]}, nil
	}
	return tensor.Shape{x[0], k.count, x[2]}, nil
}

// each calls f with the source offset and the destination offset of every
// copied block of count·W values, one per batch element.
func (k lstmRowsKernel[T]) each(s tensor.Shape, f func(src, dst, size int)) {
	n, rows, w := s[0], s[1], s[2]
	size := k.count * w
	for b := 0; b < n; b++ {
		f((b*rows+k.from)*w, b*size, size)
	}
}

func (k lstmRowsKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y := values[T](in[0]), values[T](out)
	k.each(in[0].Shape(), func(src, dst, size int) { copy(y[dst:dst+size], x[src:src+size]) })
	return nil
}

func (k lstmRowsKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	g, d := values[T](gOut), values[T](grad)
	k.each(in[0].Shape(), func(src, dst, size int) { copy(d[src:src+size], g[dst:dst+size]) })
	return nil
}
