package lstm

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
	Order:   1,
	Summary: "embedding → 2-layer bidirectional LSTM → dense; binary text classifier (sentiment, spam)",
	Torch:   "RNN",
	Default: func() kinds.Config { c := DefaultConfig(); return &c },
}

// Network is the LSTM classifier's graph of c.
func (c Config) Network() (kinds.Network, error) { return New(c) }

// Training is the training setup: Adam at lr 0.005 with the gradient norm
// clipped to 5, batch 32, 10 epochs — not the reference's lr 0.001 (see
// the package doc).
func (Config) Training() train.Config {
	return train.Config{Epochs: 10, Batch: 32, LR: 0.005, Seed: 1, Optimizer: optim.Config{Name: optim.Adam, ClipNorm: 5}}
}
