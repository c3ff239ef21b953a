package onnx

import (
	"fmt"

	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/safetensors"
)

// TextCNN returns the inference graph of a textcnn model (models/textcnn):
//
//	ids int64 [batch, MaxLen] → Gather(embedding.weight) → [batch, MaxLen, E]
//	→ Transpose → Conv(conv.weight, conv.bias) → Relu → MaxPool(Pool, stride Pool)
//	→ Flatten → Gemm(fc) → logits [batch, 1] → Sigmoid → probs [batch, 1]
//
// Ids must lie in [0, NumWords); 0 is an ordinary row, as in training.
// Every initializer keeps its PyTorch name and layout.
func TextCNN(cfg textcnn.Config, weights []safetensors.Tensor) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	pooled := (cfg.MaxLen - cfg.Kernel + 1) / cfg.Pool
	b := newGraphBuilder(textcnn.Kind, weights)
	b.input("ids", Int64, batchDim, Dim{Value: int64(cfg.MaxLen)})

	emb := b.param("embedding.weight", cfg.NumWords, cfg.EmbedDim)
	x := b.op("embedded", "Gather", []string{emb, "ids"})                         // [N, L, E]
	x = b.op("embedded_ncl", "Transpose", []string{x}, attrInts("perm", 0, 2, 1)) // [N, E, L]
	w := b.param("conv.weight", cfg.Filters, cfg.EmbedDim, cfg.Kernel)
	bias := b.param("conv.bias", cfg.Filters)
	x = b.op("conv", "Conv", []string{x, w, bias}, attrInts("kernel_shape", int64(cfg.Kernel)))
	x = b.op("conv_relu", "Relu", []string{x})
	x = b.op("pool", "MaxPool", []string{x}, // floor mode, as max_pool1d
		attrInts("kernel_shape", int64(cfg.Pool)), attrInts("strides", int64(cfg.Pool)))
	x = b.op("flat", "Flatten", []string{x}, attrInt("axis", 1))
	logits := b.gemm("logits", x, "fc", cfg.Filters*pooled, 1)
	b.op("probs", "Sigmoid", []string{logits})

	b.output("logits", Float, batchDim, Dim{Value: 1})
	b.output("probs", Float, batchDim, Dim{Value: 1})
	return b.finish(cfg, fmt.Sprintf("tapeml textcnn: ids int64 [batch, %d] (0 = padding) → logits, probs = sigmoid(logits) [batch, 1]", cfg.MaxLen))
}
