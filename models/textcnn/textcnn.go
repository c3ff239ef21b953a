package textcnn

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// Kind names the model in checkpoints and on the command line.
const Kind = "textcnn"

// The architectures (Config.Arch).
const (
	// Kim is Kim (2014)'s sentence CNN, the default: convolutions of
	// several widths, each max-pooled over the whole text.
	Kim = "kim"
	// Seed is the Keras model tapeml started from: one convolution, local
	// max-pooling and a dense layer over the pooled positions. Its output
	// depends on where in the row the text is, and so on its padding.
	Seed = "seed"
)

// Config is the architecture. DefaultConfig is the Kim preset's, SeedConfig
// the seed's.
type Config struct {
	// Arch is the architecture: Kim or Seed. Checkpoints written before
	// presets existed have none and are Seed.
	Arch     string `json:"arch,omitempty"`
	NumWords int    `json:"num_words"`        // vocabulary size (Keras num_words); id 0 is padding: a zero row without gradient (Kim), an ordinary row as in Keras without mask_zero (Seed); default 20000 (Kim), 10000 (Seed)
	EmbedDim int    `json:"embed_dim"`        // embedding width; default 128 (Kim), 64 (Seed)
	Filters  int    `json:"filters"`          // convolution filters (Kim: per width); default 100 (Kim), 64 (Seed)
	Kernel   int    `json:"kernel,omitempty"` // Seed: convolution width; default 5
	Pool     int    `json:"pool,omitempty"`   // Seed: max-pool size and stride; default 5
	Widths   []int  `json:"widths,omitempty"` // Kim: convolution widths; default 3, 4, 5
	// Dropout is Kim's dropout before the dense layer; default 0.5.
	Dropout float64 `json:"dropout,omitempty"`
	MaxLen  int     `json:"maxlen"` // tokens per text after padding/truncation; default 200 (Kim), 100 (Seed)
	// Norm is Kim's normalization of the pooled features before the
	// dropout and the dense layer: "" for none (the default, Kim's), or
	// NormLayer. DP-SGD runs default to NormLayer (ForDP).
	Norm string `json:"norm,omitempty"`
	textclass.Head
}

// The values of Config.Norm. NormLayer is PyTorch's nn.LayerNorm over the
// pooled features, eps 1e-5, named "norm"; NormNone (or "") is none.
const (
	NormLayer = "layer"
	NormNone  = "none"
)

// layerNorm reports whether the pooled features are layer-normalized.
func (c Config) layerNorm() bool { return c.Norm == NormLayer }

// normEps is NormLayer's eps, PyTorch's nn.LayerNorm default.
const normEps = 1e-5

// DefaultConfig returns the default architecture, Kim's.
func DefaultConfig() Config {
	return Config{Arch: Kim, NumWords: 20000, EmbedDim: 128, Filters: 100, Widths: []int{3, 4, 5}, Dropout: 0.5, MaxLen: 200}
}

// SeedConfig returns the seed architecture with its reference sizes.
func SeedConfig() Config {
	return Config{Arch: Seed, NumWords: 10000, EmbedDim: 64, Filters: 64, Kernel: 5, Pool: 5, MaxLen: 100}
}

// Presets are the named architectures, with their default sizes.
func (Config) Presets() map[string]kinds.Config {
	return map[string]kinds.Config{Kim: DefaultConfig(), Seed: SeedConfig()}
}

// seed reports whether c is the seed architecture.
func (c Config) seed() bool { return c.Arch == Seed || c.Arch == "" }

// Validate reports the first field that cannot build a model.
func (c Config) Validate() error {
	if c.Arch != "" && c.Arch != Kim && c.Arch != Seed {
		return train.Invalidf("textcnn: %s %q: want %s or %s", train.Field("arch"), c.Arch, Kim, Seed)
	}
	fields := []struct {
		name string
		v    int
	}{{"num_words", c.NumWords}, {"embed_dim", c.EmbedDim}, {"filters", c.Filters}, {"maxlen", c.MaxLen}}
	if c.seed() {
		fields = append(fields, []struct {
			name string
			v    int
		}{{"kernel", c.Kernel}, {"pool", c.Pool}}...)
	}
	for _, f := range fields {
		if f.v < 1 {
			return train.Invalidf("textcnn: %s must be at least 1, got %d", train.Field(f.name), f.v)
		}
	}
	if c.NumWords < 2 {
		return train.Invalidf("textcnn: %s must be at least 2 (id 0 is padding), got %d", train.Field("num_words"), c.NumWords)
	}
	if c.seed() {
		switch {
		case len(c.Widths) > 0 || c.Dropout != 0 || c.layerNorm():
			return train.Invalidf("textcnn: %s, %s and %s belong to the %s architecture, not %s", train.Field("widths"), train.Field("dropout"), train.Field("norm"), Kim, Seed)
		case c.MaxLen-c.Kernel+1 < c.Pool:
			return train.Invalidf("textcnn: %s %d is too short for kernel %d and pool %d (need maxlen ≥ kernel+pool−1 = %d)",
				train.Field("maxlen"), c.MaxLen, c.Kernel, c.Pool, c.Kernel+c.Pool-1)
		}
	} else {
		switch {
		case c.Kernel != 0 || c.Pool != 0:
			return train.Invalidf("textcnn: %s and %s belong to the %s architecture, not %s (its widths are %s)", train.Field("kernel"), train.Field("pool"), Seed, Kim, train.Field("widths"))
		case len(c.Widths) == 0 || len(c.Widths) > MaxWidths:
			return train.Invalidf("textcnn: %s: want 1 to %d convolution widths, got %d", train.Field("widths"), MaxWidths, len(c.Widths))
		case !(c.Dropout >= 0 && c.Dropout < 1):
			return train.Invalidf("textcnn: %s must be in [0, 1), got %v", train.Field("dropout"), c.Dropout)
		case c.Norm != "" && c.Norm != NormLayer && c.Norm != NormNone:
			return train.Invalidf("textcnn: %s %q: want %s or %s", train.Field("norm"), c.Norm, NormLayer, NormNone)
		}
		for _, k := range c.Widths {
			if k < 1 || k > MaxKernel {
				return train.Invalidf("textcnn: %s: width %d outside [1, %d]", train.Field("widths"), k, MaxKernel)
			}
		}
	}
	if err := c.Head.Validate(Kind); err != nil {
		return err
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
	cfg.Widths = slices.Clone(cfg.Widths)
	return &Model{Config: cfg}, nil
}

// Build adds the forward pass for a batch of n texts: input "ids" [n,
// MaxLen], output the logits [n, 1] (two classes) or [n, classes].
func (m *Model) Build(b *graph.Builder, n int) (graph.Outputs, error) {
	c := m.Config
	ids := b.Input("ids", n, c.MaxLen)
	var x *G.Node
	if c.seed() {
		// Embedding [N, L, E] → permute → Conv1D → ReLU → MaxPool1D, fused
		// in the serving graph.
		x = graph.EmbeddingConv1DPool(b, "embedding", "conv", ids, c.NumWords, c.EmbedDim,
			graph.Conv1DConfig{Out: c.Filters, Kernel: c.Kernel, Bias: true}, c.Pool) // [N, F, (L−K+1)/P]
		x = graph.Flatten(x) // [N, F·P']
	} else {
		convs := make([]string, len(c.Widths))
		for i := range convs {
			convs[i] = fmt.Sprintf("convs.%d", i)
		}
		// Per width k: a full convolution (the text zero-padded by k−1 on
		// both sides, as Kim's code pads sentences) → max over the windows
		// that touch a token → ReLU; fused in the serving graph.
		x = graph.EmbeddingConvMax(b, "embedding", convs, ids, c.NumWords, c.EmbedDim, c.Filters, c.Widths) // [N, F·len(Widths)]
		if c.layerNorm() {
			x = graph.LayerNorm(b, "norm", x, graph.LayerNormConfig{Eps: normEps}) // [N, F·len(Widths)]
		}
		x = graph.Dropout(b, x, c.Dropout)
	}
	logits := c.Head.Logits(b, "fc", x) // [N, 1] or [N, classes]
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

// PadsZero reports whether padding is a zero vector without gradient
// (Kim), rather than an embedded id like any other (Seed).
func (c Config) PadsZero() bool { return !c.seed() }
