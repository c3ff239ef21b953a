package textcnn

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

// AddFlags binds the architecture's fields to command-line flags, their
// current values the defaults.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.NumWords, "num-words", c.NumWords, "vocabulary size: the num_words−1 most frequent training words, id 0 is padding")
	fs.IntVar(&c.MaxLen, "maxlen", c.MaxLen, "tokens per text ('pre' padding and truncation)")
	fs.IntVar(&c.EmbedDim, "embed-dim", c.EmbedDim, "embedding width")
	fs.IntVar(&c.Filters, "filters", c.Filters, "convolution filters")
	fs.IntVar(&c.Kernel, "kernel", c.Kernel, "convolution width")
	fs.IntVar(&c.Pool, "pool", c.Pool, "max-pool size")
}
