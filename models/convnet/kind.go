package convnet

import (
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
