package lstm

import (
	"fmt"

	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// ONNX returns the inference graph of the model. tapeml
// runs each text's real tokens (id ≠ 0) in order, wherever the padding is
// (before, after, or in between), as PyTorch's pack_sequence does; ONNX's
// LSTM op wants each sequence's valid steps first, so the graph packs them:
//
//	ids int64 [batch, L]
//	→ order = TopK(k = L, smallest) of (ids == 0)·L + position  (real tokens first, in order)
//	→ packed = GatherElements(ids, order) → Transpose → Gather(embedding.weight) → [L, batch, E]
//	→ lengths = ReduceSum(ids ≠ 0) int32 [batch]
//	→ LSTM layer 0 … Layers−1 (sequence_lens = max(lengths, 1)), each layer's Y
//	  [L, D, batch, H] → Transpose → Reshape → the next layer's input [L, batch, D·H]
//	→ top layer's Y_h [D, batch, H] → [batch, D·H] (forward, then reverse)
//	→ zeroed where lengths = 0 → Gemm(fc) → logits [batch, 1 or classes]
//	→ Sigmoid (two classes) or Softmax → probs
//
// A text with no real token has zero features, so its logit is fc.bias, as
// in tapeml; its length is raised to 1 for the LSTM op only, because ONNX
// does not define the op's outputs for a zero-length sequence (onnxruntime
// gives zeros, but a graph should not rely on one runtime). Dropout is the
// identity at inference and has no node.
//
// The LSTM weights are re-laid out for the op, under derived names:
// "rnn.W_l{k}" [D, 4H, In] from weight_ih_l{k}(_reverse), "rnn.R_l{k}"
// [D, 4H, H] from weight_hh, "rnn.B_l{k}" [D, 8H] from bias_ih then
// bias_hh, each with its gate blocks reordered from PyTorch's (i, f, g, o)
// to ONNX's (i, o, f, c). The embedding and fc keep their PyTorch names.
func (cfg Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	L, H := cfg.MaxLen, cfg.Hidden
	dirs, direction := 1, "forward"
	if cfg.Bidirectional {
		dirs, direction = 2, "bidirectional"
	}
	b := onnx.NewGraphBuilder(Kind, weights)
	b.Input("ids", onnx.Int64, onnx.BatchDim, onnx.Dim{Value: int64(L)})

	// Pack: sort positions by (padding?, position), so real tokens come
	// first in their order; the keys are distinct, so the sort is exact.
	pad := b.Op("is_pad", "Equal", []string{"ids", b.Int64s("zero_i64", []int{}, 0)}) // [N, L]
	key := b.Op("pad_i64", "Cast", []string{pad}, onnx.IntAttr("to", int64(onnx.Int64)))
	key = b.Op("pad_key", "Mul", []string{key, b.Int64s("maxlen", []int{}, int64(L))})
	positions := make([]int64, L)
	for i := range positions {
		positions[i] = int64(i)
	}
	key = b.Op("order_key", "Add", []string{key, b.Int64s("positions", []int{L}, positions...)})
	b.OpN("order", "TopK", []string{key, b.Int64s("k", []int{1}, int64(L))}, []string{"order_key_sorted", "order"},
		onnx.IntAttr("axis", 1), onnx.IntAttr("largest", 0), onnx.IntAttr("sorted", 1))
	packed := b.Op("packed_ids", "GatherElements", []string{"ids", "order"}, onnx.IntAttr("axis", 1)) // [N, L]
	packed = b.Op("packed_ids_t", "Transpose", []string{packed}, onnx.IntsAttr("perm", 1, 0))         // [L, N]
	x := b.Embedding("embedded", "embedding.weight", cfg.NumWords, cfg.EmbedDim, packed)

	isReal := b.Op("is_real", "Not", []string{pad})
	isReal = b.Op("real_i32", "Cast", []string{isReal}, onnx.IntAttr("to", int64(onnx.Int32)))
	axis1 := b.Int64s("axes_1", []int{1}, 1)
	lengths := b.Op("lengths", "ReduceSum", []string{isReal, axis1}, onnx.IntAttr("keepdims", 0)) // [N]
	seqLens := b.Op("seq_lens", "Max", []string{lengths, b.Int32s("one_i32", []int{}, 1)})

	in := cfg.EmbedDim
	var reshapeSeq, hidden string
	for l := 0; l < cfg.Layers; l++ {
		layer := fmt.Sprintf("rnn.l%d", l)
		attrs := []onnx.Attribute{onnx.IntAttr("hidden_size", int64(H)), onnx.StringAttr("direction", direction)}
		op := lstmOp(b, l, in, H, dirs, x, seqLens)
		if l < cfg.Layers-1 {
			y := layer + ".Y"
			op(layer, []string{y}, attrs...)                                                    // [L, D, N, H]
			y = b.Op(layer+".Y_t", "Transpose", []string{y}, onnx.IntsAttr("perm", 0, 2, 1, 3)) // [L, N, D, H]
			if reshapeSeq == "" {
				reshapeSeq = b.Int64s("shape_seq_batch_features", []int{3}, 0, 0, -1)
			}
			x = b.Op(layer+".out", "Reshape", []string{y, reshapeSeq}) // [L, N, D·H]
			in = dirs * H
			continue
		}
		hidden = layer + ".Y_h"
		op(layer, []string{"", hidden}, attrs...) // [D, N, H]
	}
	h := b.Op("h_n_t", "Transpose", []string{hidden}, onnx.IntsAttr("perm", 1, 0, 2))          // [N, D, H]
	h = b.Op("h_n", "Reshape", []string{h, b.Int64s("shape_batch_features", []int{2}, 0, -1)}) // [N, D·H]
	empty := b.Op("is_empty", "Equal", []string{lengths, b.Int32s("zero_i32", []int{}, 0)})
	empty = b.Op("is_empty_col", "Unsqueeze", []string{empty, axis1}) // [N, 1]
	features := b.Op("features", "Where", []string{empty, b.Floats("zero_f32", []int{}, []float32{0}), h})
	cfg.Head.ONNX(b, "fc", features, dirs*H)
	return b.Finish(cfg, fmt.Sprintf("tapeml lstm: ids int64 [batch, %d] (0 = padding, anywhere) → %s", L, cfg.Head.ONNXDoc()))
}

// lstmOp adds layer l's weights and returns the function that adds its
// node on x with the given outputs: ONNX's LSTM, or, when every weight
// matrix of the layer is int8, ONNX Runtime's DynamicQuantizeLSTM
// (com.microsoft; opset 13's LSTM takes float weights only), whose
// weights are [D, In, 4H] int8 with per-column scales and whose inputs
// are quantized at run time. A layer with some of its matrices in int8
// runs in float32 with those dequantized, as tapeml's does.
func lstmOp(b *onnx.GraphBuilder, l, in, H, dirs int, x, seqLens string) func(name string, outputs []string, attrs ...onnx.Attribute) {
	allInt8 := true
	for d := 0; d < dirs; d++ {
		s := lstmSuffix(l, d)
		allInt8 = allInt8 && b.Quantized("rnn.weight_ih"+s) && b.Quantized("rnn.weight_hh"+s)
	}
	if !allInt8 {
		w, r, bias := lstmWeights(b, l, in, H, dirs)
		return func(name string, outputs []string, attrs ...onnx.Attribute) {
			b.OpN(name, "LSTM", []string{x, w, r, bias, seqLens}, outputs, attrs...)
		}
	}
	var W, R []int8
	var WS, RS []float32
	for d := 0; d < dirs; d++ {
		s := lstmSuffix(l, d)
		q, sc, _ := b.QuantWeight("rnn.weight_ih"+s, 4*H, in)
		W = append(W, transpose(reorderGates(q, H*in), 4*H, in)...)
		WS = append(WS, reorderGates(sc, H)...)
		q, sc, _ = b.QuantWeight("rnn.weight_hh"+s, 4*H, H)
		R = append(R, transpose(reorderGates(q, H*H), 4*H, H)...)
		RS = append(RS, reorderGates(sc, H)...)
	}
	p := fmt.Sprintf("rnn.l%d.", l)
	inputs := []string{x,
		b.Int8s(p+"W.int8", []int{dirs, in, 4 * H}, W...),
		b.Int8s(p+"R.int8", []int{dirs, H, 4 * H}, R...),
		lstmBias(b, l, H, dirs), seqLens, "", "", "",
		b.Floats(p+"W.scale", []int{dirs, 4 * H}, WS),
		b.Int8s(p+"W.zero_point", []int{dirs, 4 * H}, make([]int8, len(WS))...),
		b.Floats(p+"R.scale", []int{dirs, 4 * H}, RS),
		b.Int8s(p+"R.zero_point", []int{dirs, 4 * H}, make([]int8, len(RS))...),
	}
	return func(name string, outputs []string, attrs ...onnx.Attribute) {
		b.ContribOpN(name, "DynamicQuantizeLSTM", inputs, outputs, attrs...)
	}
}

// lstmSuffix is the PyTorch name suffix of layer l, direction d.
func lstmSuffix(l, d int) string {
	s := fmt.Sprintf("_l%d", l)
	if d == 1 {
		s += "_reverse"
	}
	return s
}

// lstmBias adds layer l's B initializer [D, 8H] (bias_ih then bias_hh per
// direction, gates reordered) and returns its name.
func lstmBias(b *onnx.GraphBuilder, l, H, dirs int) string {
	var B []float32
	for d := 0; d < dirs; d++ {
		s := lstmSuffix(l, d)
		B = append(B, reorderGates(b.Weight("rnn.bias_ih"+s, 4*H), H)...)
		B = append(B, reorderGates(b.Weight("rnn.bias_hh"+s, 4*H), H)...)
	}
	return b.Floats(fmt.Sprintf("rnn.B_l%d", l), []int{dirs, 8 * H}, B)
}

// transpose returns m [rows, cols] as [cols, rows].
func transpose[T any](m []T, rows, cols int) []T {
	t := make([]T, len(m))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = m[r*cols+c]
		}
	}
	return t
}

// onnxGateOrder lists, for each of ONNX's gate blocks (i, o, f, c), the
// PyTorch block (i, f, g, o) it comes from.
var onnxGateOrder = [4]int{0, 3, 1, 2}

// lstmWeights adds layer l's W, R and B initializers, both directions
// stacked, gates reordered, and returns their names.
func lstmWeights(b *onnx.GraphBuilder, l, in, H, dirs int) (w, r, bias string) {
	var W, R []float32
	for d := 0; d < dirs; d++ {
		s := lstmSuffix(l, d)
		W = append(W, reorderGates(b.Weight("rnn.weight_ih"+s, 4*H, in), H*in)...)
		R = append(R, reorderGates(b.Weight("rnn.weight_hh"+s, 4*H, H), H*H)...)
	}
	w = b.Floats(fmt.Sprintf("rnn.W_l%d", l), []int{dirs, 4 * H, in}, W)
	r = b.Floats(fmt.Sprintf("rnn.R_l%d", l), []int{dirs, 4 * H, H}, R)
	return w, r, lstmBias(b, l, H, dirs)
}

// reorderGates returns v, four gate blocks of block values each in
// PyTorch's order, with the blocks in ONNX's order.
func reorderGates[T any](v []T, block int) []T {
	out := make([]T, 0, len(v))
	for _, g := range onnxGateOrder {
		out = append(out, v[g*block:(g+1)*block]...)
	}
	return out
}
