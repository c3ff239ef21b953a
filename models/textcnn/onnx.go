package textcnn

import (
	"fmt"

	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// ONNX returns the inference graph of the model:
//
//	ids int64 [batch, MaxLen] → Gather(embedding.weight) → [batch, MaxLen, E]
//	→ Transpose → Conv(conv.weight, conv.bias) → Relu → MaxPool(Pool, stride Pool)
//	→ Flatten → Gemm(fc) → logits [batch, 1] → Sigmoid → probs [batch, 1]
//
// Ids must lie in [0, NumWords); 0 is an ordinary row, as in training.
// Every initializer keeps its PyTorch name and layout.
func (cfg Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	pooled := (cfg.MaxLen - cfg.Kernel + 1) / cfg.Pool
	b := onnx.NewGraphBuilder(Kind, weights)
	b.Input("ids", onnx.Int64, onnx.BatchDim, onnx.Dim{Value: int64(cfg.MaxLen)})

	emb := b.Param("embedding.weight", cfg.NumWords, cfg.EmbedDim)
	x := b.Op("embedded", "Gather", []string{emb, "ids"})                              // [N, L, E]
	x = b.Op("embedded_ncl", "Transpose", []string{x}, onnx.IntsAttr("perm", 0, 2, 1)) // [N, E, L]
	w := b.Param("conv.weight", cfg.Filters, cfg.EmbedDim, cfg.Kernel)
	bias := b.Param("conv.bias", cfg.Filters)
	x = b.Op("conv", "Conv", []string{x, w, bias}, onnx.IntsAttr("kernel_shape", int64(cfg.Kernel)))
	x = b.Op("conv_relu", "Relu", []string{x})
	x = b.Op("pool", "MaxPool", []string{x}, // floor mode, as max_pool1d
		onnx.IntsAttr("kernel_shape", int64(cfg.Pool)), onnx.IntsAttr("strides", int64(cfg.Pool)))
	x = b.Op("flat", "Flatten", []string{x}, onnx.IntAttr("axis", 1))
	logits := b.Gemm("logits", x, "fc", cfg.Filters*pooled, 1)
	b.Op("probs", "Sigmoid", []string{logits})

	b.Output("logits", onnx.Float, onnx.BatchDim, onnx.Dim{Value: 1})
	b.Output("probs", onnx.Float, onnx.BatchDim, onnx.Dim{Value: 1})
	return b.Finish(cfg, fmt.Sprintf("tapeml textcnn: ids int64 [batch, %d] (0 = padding) → logits, probs = sigmoid(logits) [batch, 1]", cfg.MaxLen))
}
