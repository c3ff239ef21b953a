package textcnn

import (
	"fmt"
	"math"

	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// ONNX returns the inference graph of the model. Kim:
//
//	ids int64 [batch, MaxLen] → Gather(embedding.weight) → Transpose → [batch, E, MaxLen]
//	tokens = Cast(ids ≠ 0) [batch, 1, MaxLen]
//	per width k: Conv(convs.i, pads k−1) → [batch, F, MaxLen+k−1]
//	  → Where(Conv(tokens, ones k, pads k−1) > 0, ·, −∞) → ReduceMax(axis 2) → Relu → [batch, F]
//	→ Concat → [Norm layer: LayerNorm over the features, as ReduceMean, Sub, Mul, Sqrt, Div (opset 13 has no LayerNormalization)]
//	→ Gemm(fc) → logits → Sigmoid (two classes) or Softmax → probs
//
// (a text of padding only gives −∞ before the Relu, so zero features, as
// in tapeml); Seed:
//
//	ids → Gather(embedding.weight) → [batch, MaxLen, E] → Transpose → Conv(conv.weight, conv.bias)
//	→ Relu → MaxPool(Pool, stride Pool) → Flatten → Gemm(fc) → logits → probs
//
// Ids must lie in [0, NumWords). Every initializer keeps its PyTorch name
// and layout.
func (cfg Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	b := onnx.NewGraphBuilder(Kind, weights)
	b.Input("ids", onnx.Int64, onnx.BatchDim, onnx.Dim{Value: int64(cfg.MaxLen)})
	x := b.Embedding("embedded", "embedding.weight", cfg.NumWords, cfg.EmbedDim, "ids") // [N, L, E]
	x = b.Op("embedded_ncl", "Transpose", []string{x}, onnx.IntsAttr("perm", 0, 2, 1))  // [N, E, L]
	var features string
	var width int
	if cfg.seed() {
		w := b.Param("conv.weight", cfg.Filters, cfg.EmbedDim, cfg.Kernel)
		bias := b.Param("conv.bias", cfg.Filters)
		x = b.Op("conv", "Conv", []string{b.ConvInput(x, "conv.weight"), w, bias}, onnx.IntsAttr("kernel_shape", int64(cfg.Kernel)))
		x = b.Op("conv_relu", "Relu", []string{x})
		x = b.Op("pool", "MaxPool", []string{x}, // floor mode, as max_pool1d
			onnx.IntsAttr("kernel_shape", int64(cfg.Pool)), onnx.IntsAttr("strides", int64(cfg.Pool)))
		features = b.Op("flat", "Flatten", []string{x}, onnx.IntAttr("axis", 1))
		width = cfg.Filters * ((cfg.MaxLen - cfg.Kernel + 1) / cfg.Pool)
	} else {
		features, width = cfg.kimONNX(b, x)
		if cfg.layerNorm() {
			features = b.LayerNorm("norm", features, width, normEps)
		}
	}
	cfg.Head.ONNX(b, "fc", features, width)
	arch := ""
	if !cfg.seed() {
		arch = " (" + Kim + ")"
	}
	return b.Finish(cfg, fmt.Sprintf("tapeml textcnn%s: ids int64 [batch, %d] (0 = padding) → %s", arch, cfg.MaxLen, cfg.Head.ONNXDoc()))
}

// kimONNX adds the Kim front end on x [N, E, L] and returns the features
// [N, F·len(Widths)] and their width.
func (cfg Config) kimONNX(b *onnx.GraphBuilder, x string) (string, int) {
	isPad := b.Op("is_pad", "Equal", []string{"ids", b.Int64s("zero_i64", []int{}, 0)})
	tokens := b.Op("is_token", "Not", []string{isPad})
	tokens = b.Op("token_f", "Cast", []string{tokens}, onnx.IntAttr("to", int64(onnx.Float)))
	tokens = b.Op("token_ncl", "Unsqueeze", []string{tokens, b.Int64s("axes_1", []int{1}, 1)}) // [N, 1, L]
	negInf := b.Floats("neg_inf", []int{}, []float32{float32(math.Inf(-1))})
	half := b.Floats("half", []int{}, []float32{0.5})
	feats := make([]string, len(cfg.Widths))
	for i, k := range cfg.Widths {
		name := fmt.Sprintf("convs.%d", i)
		pads := onnx.IntsAttr("pads", int64(k-1), int64(k-1))
		w := b.Param(name+".weight", cfg.Filters, cfg.EmbedDim, k)
		bias := b.Param(name+".bias", cfg.Filters)
		c := b.Op(name+".conv", "Conv", []string{b.ConvInput(x, name+".weight"), w, bias}, onnx.IntsAttr("kernel_shape", int64(k)), pads) // [N, F, L+k−1]
		ones := make([]float32, k)
		for j := range ones {
			ones[j] = 1
		}
		count := b.Op(name+".tokens", "Conv", []string{tokens, b.Floats(name+".ones", []int{1, 1, k}, ones)}, onnx.IntsAttr("kernel_shape", int64(k)), pads) // [N, 1, L+k−1]
		valid := b.Op(name+".valid", "Greater", []string{count, half})
		c = b.Op(name+".masked", "Where", []string{valid, c, negInf})
		c = b.Op(name+".max", "ReduceMax", []string{c}, onnx.IntsAttr("axes", 2), onnx.IntAttr("keepdims", 0)) // [N, F]
		feats[i] = b.Op(name+".relu", "Relu", []string{c})
	}
	if len(feats) == 1 {
		return feats[0], cfg.Filters
	}
	return b.Op("features", "Concat", feats, onnx.IntAttr("axis", 1)), cfg.Filters * len(cfg.Widths)
}

func (cfg Config) archName() string {
	if cfg.seed() {
		return Seed
	}
	return Kim
}
