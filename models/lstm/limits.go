package lstm

import (
	"fmt"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// Upper bounds Validate enforces, so that a configuration read from a
// file (meta.json, an imported file's metadata) cannot ask for more
// memory than any sensible model needs. MaxParams bounds the total: 2^27
// values are 512 MiB of float32.
const (
	MaxNumWords = 1 << 22 // 4,194,304 words
	MaxEmbedDim = 4096
	MaxHidden   = 4096
	MaxLayers   = 16
	MaxMaxLen   = 1 << 16 // 65,536 tokens
	MaxParams   = 1 << 27
)

// checkLimits reports the first field over its bound, then a total
// parameter count over MaxParams.
func (c Config) checkLimits() error {
	for _, f := range []struct {
		name   string
		v, max int
	}{{"num_words", c.NumWords, MaxNumWords}, {"embed_dim", c.EmbedDim, MaxEmbedDim}, {"hidden", c.Hidden, MaxHidden}, {"layers", c.Layers, MaxLayers}, {"maxlen", c.MaxLen, MaxMaxLen}} {
		if f.v > f.max {
			return train.Invalidf("lstm: %s %d is over the limit of %d", train.Field(f.name), f.v, f.max)
		}
	}
	if n := graph.SpecNumel(c.ParamSpecs()); n > MaxParams {
		return fmt.Errorf("lstm: the configuration needs %d parameters, over the limit of %d", n, MaxParams)
	}
	return nil
}

// ParamSpecs returns the names and shapes of the parameters the model
// creates, in state_dict order (PyTorch's nn.LSTM names), without
// allocating them: loaders compare them with a weight file's tensors first
// (checkpoint.CheckShapes).
func (c Config) ParamSpecs() []graph.ParamSpec {
	dirs := 1
	if c.Bidirectional {
		dirs = 2
	}
	specs := []graph.ParamSpec{{Name: "embedding.weight", Shape: []int{c.NumWords, c.EmbedDim}}}
	for l := range c.Layers {
		in := c.EmbedDim
		if l > 0 {
			in = dirs * c.Hidden
		}
		for d := range dirs {
			suffix := fmt.Sprintf("_l%d", l)
			if d == 1 {
				suffix += "_reverse"
			}
			specs = append(specs,
				graph.ParamSpec{Name: "rnn.weight_ih" + suffix, Shape: []int{4 * c.Hidden, in}},
				graph.ParamSpec{Name: "rnn.weight_hh" + suffix, Shape: []int{4 * c.Hidden, c.Hidden}},
				graph.ParamSpec{Name: "rnn.bias_ih" + suffix, Shape: []int{4 * c.Hidden}},
				graph.ParamSpec{Name: "rnn.bias_hh" + suffix, Shape: []int{4 * c.Hidden}},
			)
		}
	}
	return append(specs, c.Head.ParamSpecs("fc", dirs*c.Hidden)...)
}
