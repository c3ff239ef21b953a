package lstm

import (
	G "gorgonia.org/gorgonia"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// Kind names the model in checkpoints and on the command line.
const Kind = "lstm"

// Config is the architecture. Defaults are the reference model's.
type Config struct {
	NumWords      int     `json:"num_words"`     // vocabulary size (Keras num_words); id 0 is padding, its embedding row stays zero; default 25000
	EmbedDim      int     `json:"embed_dim"`     // embedding width; default 100
	Hidden        int     `json:"hidden"`        // LSTM hidden size per direction; default 256
	Layers        int     `json:"layers"`        // stacked LSTM layers; default 2
	Bidirectional bool    `json:"bidirectional"` // also run each layer backwards in time; default true
	Dropout       float64 `json:"dropout"`       // dropout after the embedding, between LSTM layers and before the classifier; default 0.5
	MaxLen        int     `json:"maxlen"`        // tokens per text after padding/truncation; default 200
	textclass.Head
}

// DefaultConfig returns the reference architecture.
func DefaultConfig() Config {
	return Config{NumWords: 25000, EmbedDim: 100, Hidden: 256, Layers: 2, Bidirectional: true, Dropout: 0.5, MaxLen: 200}
}

// Validate reports the first field that cannot build a model.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"num_words", c.NumWords}, {"embed_dim", c.EmbedDim}, {"hidden", c.Hidden}, {"layers", c.Layers}, {"maxlen", c.MaxLen}} {
		if f.v < 1 {
			return train.Invalidf("lstm: %s must be at least 1, got %d", train.Field(f.name), f.v)
		}
	}
	if c.NumWords < 2 {
		return train.Invalidf("lstm: %s must be at least 2 (id 0 is padding), got %d", train.Field("num_words"), c.NumWords)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return train.Invalidf("lstm: %s must be in [0, 1), got %v", train.Field("dropout"), c.Dropout)
	}
	if err := c.Head.Validate(Kind); err != nil {
		return err
	}
	return c.checkLimits()
}

// Model is the LSTM classifier graph.
type Model struct{ Config Config }

// New returns the model for cfg.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Model{Config: cfg}, nil
}

// Build adds the forward pass for a batch of n texts: input "ids" [n,
// MaxLen] (0 = padding, on either side), output the logits [n, 1] (two
// classes) or [n, classes].
func (m *Model) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	c := m.Config
	ids := b.Input("ids", n, c.MaxLen)
	mask := graph.PaddingMask(ids, 0)
	x := graph.Embedding(b, "embedding", ids, c.NumWords, c.EmbedDim, 0) // [N, L, E]
	x = graph.Dropout(b, x, c.Dropout)
	rnn := graph.LSTM(b, "rnn", x, mask, graph.LSTMConfig{
		Hidden: c.Hidden, Layers: c.Layers, Bidirectional: c.Bidirectional, Dropout: c.Dropout,
	})
	h := graph.Dropout(b, rnn.Hidden(c.Layers-1), c.Dropout) // [N, D·H]
	logits := c.Head.Logits(b, "fc", h)                      // [N, 1] or [N, classes]
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

// Vocab is the number of rows of the embedding table: ids are below it.
func (c Config) Vocab() int { return c.NumWords }
