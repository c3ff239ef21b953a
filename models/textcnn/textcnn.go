package textcnn

import (
	G "gorgonia.org/gorgonia"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/train"
)

// Kind names the model in checkpoints and on the command line.
const Kind = "textcnn"

// Config is the architecture. Defaults are the reference model's.
type Config struct {
	NumWords int `json:"num_words"` // vocabulary size (Keras num_words); id 0 is the padding value, embedded like any id as in Keras without mask_zero; default 10000
	EmbedDim int `json:"embed_dim"` // embedding width; default 64
	Filters  int `json:"filters"`   // convolution filters; default 64
	Kernel   int `json:"kernel"`    // convolution width; default 5
	Pool     int `json:"pool"`      // max-pool size and stride; default 5
	MaxLen   int `json:"maxlen"`    // tokens per text after padding/truncation; default 100
}

// DefaultConfig returns the reference architecture.
func DefaultConfig() Config {
	return Config{NumWords: 10000, EmbedDim: 64, Filters: 64, Kernel: 5, Pool: 5, MaxLen: 100}
}

// Validate reports the first field that cannot build a model.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"num_words", c.NumWords}, {"embed_dim", c.EmbedDim}, {"filters", c.Filters}, {"kernel", c.Kernel}, {"pool", c.Pool}, {"maxlen", c.MaxLen}} {
		if f.v < 1 {
			return train.Invalidf("textcnn: %s must be at least 1, got %d", train.Field(f.name), f.v)
		}
	}
	if c.NumWords < 2 {
		return train.Invalidf("textcnn: %s must be at least 2 (id 0 is padding), got %d", train.Field("num_words"), c.NumWords)
	}
	if c.MaxLen-c.Kernel+1 < c.Pool {
		return train.Invalidf("textcnn: %s %d is too short for kernel %d and pool %d (need maxlen ≥ kernel+pool−1 = %d)",
			train.Field("maxlen"), c.MaxLen, c.Kernel, c.Pool, c.Kernel+c.Pool-1)
	}
	return c.checkLimits()
}

// Model is the TextCNN graph.
type Model struct{ Config Config }

// New returns the model for cfg.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Model{Config: cfg}, nil
}

// Build adds the forward pass for a batch of n texts: input "ids" [n,
// MaxLen], output the logits [n, 1].
func (m *Model) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	c := m.Config
	ids := b.Input("ids", n, c.MaxLen)
	// Embedding [N, L, E] → permute → Conv1D → ReLU → MaxPool1D, fused in
	// the serving graph.
	x := graph.EmbeddingConv1DPool(b, "embedding", "conv", ids, c.NumWords, c.EmbedDim,
		graph.Conv1DConfig{Out: c.Filters, Kernel: c.Kernel, Bias: true}, c.Pool) // [N, F, (L−K+1)/P]
	x = graph.Flatten(x)                        // [N, F·P']
	logits := graph.Linear(b, "fc", x, 1, true) // [N, 1]
	return graph.Outputs{Inputs: []*G.Node{ids}, Output: logits}, nil
}

// Loss is binary cross-entropy on the logit against target "label" [n]
// (0 or 1).
func (m *Model) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	return graph.BinaryLoss(b, out)
}

// Task says the output is one binary logit per text.
func (m *Model) Task() metrics.Task { return metrics.Binary }

// SeqLen is the number of token ids per text the model takes.
func (c Config) SeqLen() int { return c.MaxLen }

// Vocab is the number of rows of the embedding table: ids are below it.
func (c Config) Vocab() int { return c.NumWords }
