package convnet

import (
	"fmt"

	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// The fixed widths of convnet's reference architecture (models/convnet).
const (
	convnetFilters1 = 64
	convnetFilters2 = 128
	convnetHidden1  = 1024
	convnetHidden2  = 512
)

// batchNormEps is graph.BatchNorm2D's default epsilon, which convnet uses
// (PyTorch's BatchNorm2d default too).
const batchNormEps = 1e-5

// ONNX returns the inference graph of the model:
//
//	images float [batch, C, H, W]
//	→ layer1: Conv(3×3, pad 1) → BatchNormalization (running statistics) → Relu → MaxPool(2)
//	→ layer2: the same with 128 filters
//	→ Flatten → Gemm(fc.0) → Relu → Gemm(fc.3) → Relu → Gemm(fc.6)
//	→ logits [batch, Classes] → Softmax(axis 1) → probs [batch, Classes]
//
// Images are expected as the checkpoint's evaluation pipeline feeds them
// (scaled and normalized). Dropout is the identity at inference and has no
// node. Every initializer keeps its PyTorch name and layout; the
// num_batches_tracked counters are not needed.
func (cfg Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if cfg.Norm == NormGroup {
		return nil, fmt.Errorf("onnx: a convnet with GroupNorm (norm %q) has no ONNX export yet; export it as safetensors", NormGroup)
	}
	b := onnx.NewGraphBuilder(Kind, weights)
	b.Input("images", onnx.Float, onnx.BatchDim, onnx.Dim{Value: int64(cfg.Channels)}, onnx.Dim{Value: int64(cfg.Height)}, onnx.Dim{Value: int64(cfg.Width)})

	x := convBlock(b, "layer1", "images", cfg.Channels, convnetFilters1)
	x = convBlock(b, "layer2", x, convnetFilters1, convnetFilters2)
	x = b.Op("flat", "Flatten", []string{x}, onnx.IntAttr("axis", 1))
	x = b.Op("fc.1", "Relu", []string{b.Gemm("fc.0", x, "fc.0", cfg.FlatWidth(), convnetHidden1)})
	x = b.Op("fc.4", "Relu", []string{b.Gemm("fc.3", x, "fc.3", convnetHidden1, convnetHidden2)})
	logits := b.Gemm("logits", x, "fc.6", convnetHidden2, cfg.Classes)
	b.Op("probs", "Softmax", []string{logits}, onnx.IntAttr("axis", 1))

	b.Output("logits", onnx.Float, onnx.BatchDim, onnx.Dim{Value: int64(cfg.Classes)})
	b.Output("probs", onnx.Float, onnx.BatchDim, onnx.Dim{Value: int64(cfg.Classes)})
	return b.Finish(cfg, fmt.Sprintf("tapeml convnet: images float [batch, %d, %d, %d] (normalized) → logits, probs = softmax(logits) [batch, %d]",
		cfg.Channels, cfg.Height, cfg.Width, cfg.Classes))
}

// convBlock adds one nn.Sequential(Conv2d(3×3, padding 1), BatchNorm2d,
// ReLU, MaxPool2d(2)) whose conv is "<name>.0" and batch norm "<name>.1";
// node outputs are named after the Sequential's indices.
func convBlock(b *onnx.GraphBuilder, name, x string, in, out int) string {
	w := b.Param(name+".0.weight", out, in, 3, 3)
	bias := b.Param(name+".0.bias", out)
	x = b.Op(name+".0", "Conv", []string{b.ConvInput(x, name+".0.weight"), w, bias},
		onnx.IntsAttr("kernel_shape", 3, 3), onnx.IntsAttr("pads", 1, 1, 1, 1))
	bn := name + ".1"
	x = b.Op(bn, "BatchNormalization", []string{x,
		b.Param(bn+".weight", out), b.Param(bn+".bias", out),
		b.Param(bn+".running_mean", out), b.Param(bn+".running_var", out),
	}, onnx.FloatAttr("epsilon", batchNormEps))
	x = b.Op(name+".2", "Relu", []string{x})
	return b.Op(name+".3", "MaxPool", []string{x}, onnx.IntsAttr("kernel_shape", 2, 2), onnx.IntsAttr("strides", 2, 2))
}
