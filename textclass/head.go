package textclass

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/train"
)

// MaxClasses bounds a text classifier's classes, so that a configuration
// read from a file cannot ask for a huge output layer.
const MaxClasses = 1 << 14

// Head is what every text kind's configuration holds about its output:
// the number of classes and the class weights of the loss. Two classes
// (or 0, which checkpoints written before the field existed have) give one
// logit, a sigmoid and binary cross-entropy, as PyTorch's
// BCEWithLogitsLoss; more give one logit per class, a softmax and
// CrossEntropyLoss. Text kinds embed it in their Config, so its fields are
// theirs in JSON.
type Head struct {
	Classes int `json:"classes,omitempty"` // output classes; 0 (older checkpoints) means 2
	// ClassWeights weigh each example's loss by its class, in target
	// order: [negative, positive] for two classes (BCEWithLogitsLoss with
	// weight w[y]: the mean of weighted losses), by class index for more
	// (CrossEntropyLoss(weight=w): the weighted mean). Empty: unweighted.
	ClassWeights []float64 `json:"class_weights,omitempty"`
	// WeightNorm, when > 0, makes the multiclass loss divide by N·WeightNorm
	// instead of Σ w[yᵢ], so that each example's loss is its own, as
	// DP-SGD's per-example clipping needs; the training set's mean weight.
	// Only DP runs of earlier versions set it: DP runs now weigh the
	// clipped gradients instead (train.DPConfig.ClassWeights).
	WeightNorm float64 `json:"class_weight_norm,omitempty"`
}

// NumClasses is the number of classes: 2 for a binary head.
func (h Head) NumClasses() int { return max(h.Classes, 2) }

// Binary reports whether the head scores one logit.
func (h Head) Binary() bool { return h.NumClasses() == 2 }

// Width is the number of logits per text: 1 for a binary head, else the
// number of classes.
func (h Head) Width() int {
	if h.Binary() {
		return 1
	}
	return h.Classes
}

// Validate checks the class count and weights; kind names the model in
// errors.
func (h Head) Validate(kind string) error {
	if h.Classes == 1 || h.Classes < 0 || h.Classes > MaxClasses {
		return train.Invalidf("%s: %s %d: want 2 to %d (0 in older checkpoints means 2)", kind, train.Field("classes"), h.Classes, MaxClasses)
	}
	if len(h.ClassWeights) > 0 && len(h.ClassWeights) != h.NumClasses() {
		return train.Invalidf("%s: %s has %d weights for %d classes", kind, train.Field("class_weights"), len(h.ClassWeights), h.NumClasses())
	}
	for i, w := range h.ClassWeights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return train.Invalidf("%s: %s[%d] is %v: want a finite weight ≥ 0", kind, train.Field("class_weights"), i, w)
		}
	}
	if !(h.WeightNorm >= 0) || math.IsInf(h.WeightNorm, 0) {
		return train.Invalidf("%s: %s %v: want a finite number ≥ 0", kind, train.Field("class_weight_norm"), h.WeightNorm)
	}
	return nil
}

// Logits adds the output layer, "<name>.weight" [Width, in] and
// "<name>.bias" [Width], to features x [N, in]: the logits [N, Width].
func (h Head) Logits(b *graph.Builder, name string, x *G.Node) *G.Node {
	return graph.Linear(b, name, x, h.Width(), true)
}

// Loss is the head's objective against target "label" [N]: 0/1 for a
// binary head (1 = the positive class), class indices otherwise.
func (h Head) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	w := h.ClassWeights
	if len(w) == 0 {
		w = nil
	}
	if h.Binary() {
		return graph.WeightedBinaryLoss(b, out, w)
	}
	return graph.WeightedMulticlassLoss(b, out, graph.ClassWeights{W: w, Norm: h.WeightNorm})
}

// Task says how to read the logits.
func (h Head) Task() metrics.Task {
	if h.Binary() {
		return metrics.Binary
	}
	return metrics.Multiclass
}

// ParamSpecs are the output layer's parameters on in features.
func (h Head) ParamSpecs(name string, in int) []graph.ParamSpec {
	return []graph.ParamSpec{
		{Name: name + ".weight", Shape: []int{h.Width(), in}},
		{Name: name + ".bias", Shape: []int{h.Width()}},
	}
}

// Headed is a text kind's configuration with a Head: the family sets the
// classes and weights the data asks for.
type Headed interface {
	Arch
	// TextHead is the configuration's head.
	TextHead() Head
	// WithHead returns the configuration with head h.
	WithHead(h Head) Arch
}

// FreshHeaded is a Headed configuration that can start from the weights of
// a model of other classes (train --init on data whose classes are not
// the checkpoint's): FreshHead returns its output layer's parameters
// initialized afresh for its head, as the kind's reference does (BERT's
// normal(0, initializer_range) weights and zero biases), seeded; every
// other parameter comes from the checkpoint.
type FreshHeaded interface {
	Headed
	FreshHead(seed uint64) []safetensors.Tensor
}

// ONNX adds the head to an ONNX graph on features [batch, in]: the output
// layer as Gemm, "logits" [batch, Width], and "probs", their sigmoid (one
// logit: the positive class's probability) or softmax, and declares both
// outputs.
func (h Head) ONNX(b *onnx.GraphBuilder, features string, in int) {
	logits := b.Gemm("logits", features, "fc", in, h.Width())
	if h.Binary() {
		b.Op("probs", "Sigmoid", []string{logits})
	} else {
		b.Op("probs", "Softmax", []string{logits}, onnx.IntAttr("axis", 1))
	}
	b.Output("logits", onnx.Float, onnx.BatchDim, onnx.Dim{Value: int64(h.Width())})
	b.Output("probs", onnx.Float, onnx.BatchDim, onnx.Dim{Value: int64(h.Width())})
}

// ONNXDoc describes the head's outputs for a graph's doc string.
func (h Head) ONNXDoc() string {
	if h.Binary() {
		return "logits, probs = sigmoid(logits) [batch, 1]"
	}
	return fmt.Sprintf("logits, probs = softmax(logits) [batch, %d]", h.Width())
}
