package fasttext

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
	Order:   2,
	Summary: "the mean of word and hashed word-bigram vectors → dense (fastText, Joulin et al. 2016); fast baseline, any number of classes",
	Torch:   "FastText",
	Default: func() kinds.Config { c := DefaultConfig(); return &c },
}

// Network is the fastText graph of c.
func (c Config) Network() (kinds.Network, error) { return New(c) }

// Training is the reference training setup: SGD at lr 20 with a cosine
// decay over the run, batch 32, 20 epochs. The loss is the batch's mean,
// so lr 20 moves each text's rows as fastText's per-text step of 0.625
// would (its documented range is 0.1–1.0); on the built-in sample lr 0.5
// barely left the class prior in 10 epochs, lr 32 diverged after epoch 3.
// SGD keeps no state, so only the rows of a batch's words and bigrams are
// updated.
func (Config) Training() train.Config {
	return train.Config{Epochs: 20, Batch: 32, LR: 20, Seed: 1, Optimizer: optim.Config{Name: optim.SGD}, Schedule: optim.ScheduleConfig{Name: "cosine"}}
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
	fs.IntVar(&c.Buckets, "buckets", c.Buckets, "hash buckets of word bigrams (0: words only)")
	fs.IntVar(&c.MaxLen, "maxlen", c.MaxLen, "tokens per text (see --padding and --truncating; padding is left out of the mean)")
	fs.IntVar(&c.EmbedDim, "embed-dim", c.EmbedDim, "vector width")
}
