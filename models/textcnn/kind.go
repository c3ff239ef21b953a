package textcnn

import (
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
	"github.com/tapeml/tapeml/train/optim"
)

func init() { kinds.Register(kind) }

var kind = &kinds.Kind{
	Name:    Kind,
	Family:  textclass.Family,
	Order:   0,
	Summary: "embedding → Conv1D → max-pool → dense; binary text classifier (spam, sentiment)",
	Torch:   "TextCNN",
	Default: func() kinds.Config { c := DefaultConfig(); return &c },
}

// Network is the TextCNN graph of c.
func (c Config) Network() (kinds.Network, error) { return New(c) }

// Training is the reference training setup: Adam at lr 0.001, batch 32,
// 10 epochs.
func (Config) Training() train.Config {
	return train.Config{Epochs: 10, Batch: 32, LR: 0.001, Seed: 1, Optimizer: optim.Config{Name: optim.Adam}}
}
