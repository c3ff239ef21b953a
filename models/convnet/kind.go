package convnet

import (
	"fmt"
	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml/imageclass"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/train"
)

func init() { kinds.Register(kind) }

var kind = &kinds.Kind{
	Name:    Kind,
	Family:  imageclass.Family,
	Summary: "2×(conv → batchnorm → ReLU → max-pool) → 1024 → 512 → classes; image classifier (Fashion-MNIST, CIFAR-10, image folders)",
	Torch:   "ConvNet",
	Default: func() kinds.Config { c := DefaultConfig(); return &c },
}

// Network is the ConvNet graph of c.
func (c Config) Network() (kinds.Network, error) { return New(c) }

// Training is the reference training setup (DefaultTraining).
func (Config) Training() train.Config { return DefaultTraining() }

// InputShape is the images' [C, H, W].
func (c Config) InputShape() (channels, height, width int) { return c.Channels, c.Height, c.Width }

// NumClasses is the number of classes.
func (c Config) NumClasses() int { return c.Classes }

// AddFlags binds the architecture's choices to command-line flags: the
// normalization (batch when unset) and the dropout. The widths stay the
// reference's, and the input shape and classes come from the data.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	if c.Norm == "" {
		c.Norm = NormBatch
	}
	fs.StringVar(&c.Norm, "norm", c.Norm, "normalization after each convolution: batch (BatchNorm) or group (GroupNorm, needed by --dp)")
	fs.Float64Var(&c.Dropout, "dropout", c.Dropout, "drop probability of the two dropout layers (the reference's 0.5; DP-SGD usually trains better with 0)")
}

// CheckDP reports whether the configuration trains under DP-SGD: BatchNorm
// mixes the examples of a batch, so an example's gradient is not its own
// and cannot be clipped.
func (c Config) CheckDP() error {
	if c.Norm != NormGroup {
		return train.Fieldf("%s: the convnet's BatchNorm mixes the examples of a batch, so an example's gradient is not its own and cannot be clipped: add %s %s (GroupNorm)", train.Field("dp"), train.Field("norm"), NormGroup)
	}
	return nil
}

// WithData returns the configuration for images of c×h×w in the given
// number of classes.
func (c Config) WithData(channels, height, width, classes int) kinds.Config {
	c.Channels, c.Height, c.Width, c.Classes = channels, height, width, classes
	return &c
}

// WithTraining returns the configuration with the dropout of from, which
// changes the training but not the weights.
func (c Config) WithTraining(from kinds.Config) kinds.Config {
	if f, ok := from.(*Config); ok {
		c.Dropout = f.Dropout
	}
	return &c
}

// Describe names the architecture's choices: "norm batch, dropout 0.5".
func (c Config) Describe() string {
	norm := c.Norm
	if norm == "" {
		norm = NormBatch
	}
	return fmt.Sprintf("norm %s, dropout %g", norm, c.Dropout)
}
