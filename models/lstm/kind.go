package lstm

import (
	"github.com/spf13/pflag"

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
	Summary: "embedding → 2-layer bidirectional LSTM → dense; text classifier, any number of classes (sentiment, spam, topics)",
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

// TextHead is the configuration's output head.
func (c Config) TextHead() textclass.Head { return c.Head }

// WithHead returns the configuration with head h.
func (c Config) WithHead(h textclass.Head) textclass.Arch {
	c.Head = h
	return c
}

// AddFlags binds the architecture's fields to command-line flags, their
// current values the defaults.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.NumWords, "num-words", c.NumWords, "vocabulary size: the num_words−1 most frequent training words, id 0 is padding")
	fs.IntVar(&c.MaxLen, "maxlen", c.MaxLen, "tokens per text (see --padding and --truncating; padding is skipped by the LSTM)")
	fs.IntVar(&c.EmbedDim, "embed-dim", c.EmbedDim, "embedding width")
	fs.IntVar(&c.Hidden, "hidden", c.Hidden, "LSTM hidden size per direction")
	fs.IntVar(&c.Layers, "layers", c.Layers, "stacked LSTM layers")
	fs.BoolVar(&c.Bidirectional, "bidirectional", c.Bidirectional, "also run each LSTM layer backwards in time")
	fs.Float64Var(&c.Dropout, "dropout", c.Dropout, "dropout after the embedding, between LSTM layers and before the dense layer")
}
