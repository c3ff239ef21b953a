package convnet

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

// Kind names the model in checkpoints and on the command line.
const Kind = "convnet"

// The fixed widths of the reference architecture.
const (
	conv1Filters = 64
	conv2Filters = 128
	hidden1      = 1024
	hidden2      = 512
)

// Config is the architecture. Defaults are the reference model's on
// CIFAR-10.
type Config struct {
	Channels int     `json:"channels"` // input channels: 3 for RGB, 1 for grayscale; default 3
	Height   int     `json:"height"`   // input height in pixels, at least 4; default 32
	Width    int     `json:"width"`    // input width in pixels, at least 4; default 32
	Classes  int     `json:"classes"`  // output classes, at least 2; default 10
	Dropout  float64 `json:"dropout"`  // drop probability of both dropout layers, in [0, 1); default 0.5
	// Norm is the normalization after each convolution: "batch"
	// (BatchNorm2d, the reference; "" means batch) or "group" (GroupNorm
	// with gcd(32, channels) groups, which differentially private training
	// needs: it does not mix the examples of a batch). Both keep their
	// weight and bias under "layerN.1".
	Norm string `json:"norm,omitempty"`
}

// The values of Config.Norm.
const (
	NormBatch = "batch"
	NormGroup = "group"
)

// DefaultConfig returns the reference architecture for 3×32×32 images in 10
// classes (CIFAR-10).
func DefaultConfig() Config {
	return Config{Channels: 3, Height: 32, Width: 32, Classes: 10, Dropout: 0.5}
}

// DefaultTraining returns the reference training setup: SGD with lr 0.001
// and momentum 0.9, batch 32, 10 epochs, seed 1.
func DefaultTraining() train.Config {
	return train.Config{Epochs: 10, Batch: 32, LR: 0.001, Seed: 1, Optimizer: optim.Config{Name: optim.SGD, Momentum: 0.9}}
}

// Validate reports the first field that cannot build a model.
func (c Config) Validate() error {
	switch {
	case c.Channels < 1:
		return train.Invalidf("convnet: %s must be at least 1, got %d", train.Field("channels"), c.Channels)
	case c.Height < 4 || c.Width < 4:
		return fmt.Errorf("convnet: input %d×%d is too small: two 2×2 poolings need at least 4×4", c.Height, c.Width)
	case c.Classes < 2:
		return train.Invalidf("convnet: %s must be at least 2, got %d", train.Field("classes"), c.Classes)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return train.Invalidf("convnet: %s must be in [0, 1), got %v", train.Field("dropout"), c.Dropout)
	case c.Norm != "" && c.Norm != NormBatch && c.Norm != NormGroup:
		return train.Invalidf("convnet: %s must be %q or %q, got %q", train.Field("norm"), NormBatch, NormGroup, c.Norm)
	}
	return c.checkLimits()
}

// FlatWidth is the width of the first Linear layer's input: 128 channels
// of ⌊H/4⌋×⌊W/4⌋ after the two poolings.
func (c Config) FlatWidth() int { return conv2Filters * (c.Height / 2 / 2) * (c.Width / 2 / 2) }

// Model is the ConvNet graph.
type Model struct{ Config Config }

// New returns the model for cfg.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Model{Config: cfg}, nil
}

// Build adds the forward pass for a batch of n images: input "image" [n,
// Channels, Height, Width], output the logits [n, Classes].
func (m *Model) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	c := m.Config
	if err := c.Validate(); err != nil {
		return graph.Outputs{}, err
	}
	image := b.Input("image", n, c.Channels, c.Height, c.Width)
	x := block(b, "layer1", image, conv1Filters, c.Norm)
	x = block(b, "layer2", x, conv2Filters, c.Norm)
	x = graph.Flatten(x)
	x = graph.Dropout(b, graph.LinearReLU(b, "fc.0", x, hidden1, true), c.Dropout)
	x = graph.Dropout(b, graph.LinearReLU(b, "fc.3", x, hidden2, true), c.Dropout)
	logits := graph.Linear(b, "fc.6", x, c.Classes, true)
	return graph.Outputs{Inputs: []*G.Node{image}, Output: logits}, nil
}

// Loss is softmax cross-entropy against target "label" [n] (class indices).
func (m *Model) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	return graph.MulticlassLoss(b, out)
}

// block is one nn.Sequential(Conv2d(3×3, padding 1), BatchNorm2d (or
// GroupNorm), ReLU, MaxPool2d(2)); its conv is "<name>.0" and its
// normalization "<name>.1".
//
// It pools before the ReLU, on a quarter of the values. That is the same
// function with the same gradient: ReLU is monotonic, so it commutes with
// max; and where the two orders pick different maxima (a window of
// non-positive values, all 0 after a ReLU) the ReLU's gradient is 0 either
// way.
//
// With batch normalization, ConvBlock is these layers: the serving graph
// folds the normalization into the convolution and runs the block as one
// kernel. GroupNorm depends on each example's own statistics and stays a
// layer of its own.
func block(b *graph.Builder, name string, x *G.Node, filters int, norm string) *G.Node {
	conv := graph.Conv2DConfig{Out: filters, Kernel: 3, Padding: 1, Bias: true}
	if norm == NormGroup {
		x = graph.GroupNorm(b, name+".1", graph.Conv2D(b, name+".0", x, conv), graph.GroupNormConfig{})
		return graph.ReLU(graph.MaxPool2D(x, 2, 0))
	}
	return graph.ConvBlock(b, name+".0", name+".1", x, conv, graph.BatchNormConfig{}, 2)
}

// Task says the output is one row of class logits per image.
func (m *Model) Task() metrics.Task { return metrics.Multiclass }

// Classes is the number of classes the output has.
func (m *Model) Classes() int { return m.Config.Classes }
