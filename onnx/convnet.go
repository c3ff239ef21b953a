package onnx

import (
	"fmt"

	"github.com/tapeml/tapeml/models/convnet"
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

// ConvNet returns the inference graph of a convnet model (models/convnet):
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
func ConvNet(cfg convnet.Config, weights []safetensors.Tensor) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if cfg.Norm == convnet.NormGroup {
		return nil, fmt.Errorf("onnx: a convnet with GroupNorm (--norm group) has no ONNX export yet; export it as safetensors")
	}
	b := newGraphBuilder(convnet.Kind, weights)
	b.input("images", Float, batchDim, Dim{Value: int64(cfg.Channels)}, Dim{Value: int64(cfg.Height)}, Dim{Value: int64(cfg.Width)})

	x := convBlock(b, "layer1", "images", cfg.Channels, convnetFilters1)
	x = convBlock(b, "layer2", x, convnetFilters1, convnetFilters2)
	x = b.op("flat", "Flatten", []string{x}, attrInt("axis", 1))
	x = b.op("fc.1", "Relu", []string{b.gemm("fc.0", x, "fc.0", cfg.FlatWidth(), convnetHidden1)})
	x = b.op("fc.4", "Relu", []string{b.gemm("fc.3", x, "fc.3", convnetHidden1, convnetHidden2)})
	logits := b.gemm("logits", x, "fc.6", convnetHidden2, cfg.Classes)
	b.op("probs", "Softmax", []string{logits}, attrInt("axis", 1))

	b.output("logits", Float, batchDim, Dim{Value: int64(cfg.Classes)})
	b.output("probs", Float, batchDim, Dim{Value: int64(cfg.Classes)})
	return b.finish(cfg, fmt.Sprintf("tapeml convnet: images float [batch, %d, %d, %d] (normalized) → logits, probs = softmax(logits) [batch, %d]",
		cfg.Channels, cfg.Height, cfg.Width, cfg.Classes))
}

// convBlock adds one nn.Sequential(Conv2d(3×3, padding 1), BatchNorm2d,
// ReLU, MaxPool2d(2)) whose conv is "<name>.0" and batch norm "<name>.1";
// node outputs are named after the Sequential's indices.
func convBlock(b *graphBuilder, name, x string, in, out int) string {
	w := b.param(name+".0.weight", out, in, 3, 3)
	bias := b.param(name+".0.bias", out)
	x = b.op(name+".0", "Conv", []string{x, w, bias},
		attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1))
	bn := name + ".1"
	x = b.op(bn, "BatchNormalization", []string{x,
		b.param(bn+".weight", out), b.param(bn+".bias", out),
		b.param(bn+".running_mean", out), b.param(bn+".running_var", out),
	}, attrFloat("epsilon", batchNormEps))
	x = b.op(name+".2", "Relu", []string{x})
	return b.op(name+".3", "MaxPool", []string{x}, attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2))
}
