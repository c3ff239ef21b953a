package fasttext

import (
	G "gorgonia.org/gorgonia"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// Kind names the model in checkpoints and on the command line.
const Kind = "fasttext"

// Config is the architecture. Defaults are the reference model's.
type Config struct {
	NumWords int `json:"num_words"` // vocabulary size (Keras num_words); id 0 is padding; default 50000
	Buckets  int `json:"buckets"`   // hash buckets of word bigrams; 0 for words only; default 200000
	EmbedDim int `json:"embed_dim"` // vector width; default 50
	MaxLen   int `json:"maxlen"`    // tokens per text after padding/truncation; default 1000
	textclass.Head
}

// DefaultConfig returns the reference architecture.
func DefaultConfig() Config {
	return Config{NumWords: 50000, Buckets: 200000, EmbedDim: 50, MaxLen: 1000}
}

// Validate reports the first field that cannot build a model.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"num_words", c.NumWords}, {"embed_dim", c.EmbedDim}, {"maxlen", c.MaxLen}} {
		if f.v < 1 {
			return train.Invalidf("fasttext: %s must be at least 1, got %d", train.Field(f.name), f.v)
		}
	}
	if c.NumWords < 2 {
		return train.Invalidf("fasttext: %s must be at least 2 (id 0 is padding), got %d", train.Field("num_words"), c.NumWords)
	}
	if c.Buckets < 0 {
		return train.Invalidf("fasttext: %s must not be negative, got %d", train.Field("buckets"), c.Buckets)
	}
	if err := c.Head.Validate(Kind); err != nil {
		return err
	}
	return c.checkLimits()
}

// Model is the fastText graph.
type Model struct{ Config Config }

// New returns the model for cfg.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Model{Config: cfg}, nil
}

// Build adds the forward pass for a batch of n texts: input "ids" [n,
// MaxLen] (0 = padding, anywhere), output the logits [n, 1] (two classes)
// or [n, classes].
func (m *Model) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	c := m.Config
	ids := b.Input("ids", n, c.MaxLen)
	x := graph.BigramEmbedding(b, "embedding", ids, c.NumWords, c.Buckets, c.EmbedDim) // [N, L, E]
	h := graph.TokenMean(x, ids, 0, c.Buckets > 0)                                     // [N, E]
	logits := c.Head.Logits(b, "fc", h)                                                // [N, 1] or [N, classes]
	return graph.Outputs{Inputs: []*G.Node{ids}, Output: logits}, nil
}

// Loss is binary cross-entropy on the logit against target "label" [n]
// (0 or 1) for two classes, cross-entropy against class indices for more;
// weighted by the configuration's class weights.
func (m *Model) Loss(b *graph.Builder, out graph.Outputs) (graph.Objective, error) {
	return m.Config.Head.Loss(b, out)
}

// Task says how to read the logits.
func (m *Model) Task() metrics.Task { return m.Config.Head.Task() }

// Classes is the number of classes.
func (m *Model) Classes() int { return m.Config.NumClasses() }

// SeqLen is the number of token ids per text the model takes.
func (c Config) SeqLen() int { return c.MaxLen }

// Vocab is the number of word ids: ids are below it (the bigram rows
// follow them in the table).
func (c Config) Vocab() int { return c.NumWords }
