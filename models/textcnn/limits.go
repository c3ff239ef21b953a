package textcnn

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
	MaxFilters  = 4096
	MaxKernel   = 1024
	MaxWidths   = 16
	MaxMaxLen   = 1 << 16 // 65,536 tokens
	MaxParams   = 1 << 27
)

// checkLimits reports the first field over its bound, then a total
// parameter count over MaxParams.
func (c Config) checkLimits() error {
	for _, f := range []struct {
		name   string
		v, max int
	}{{"num_words", c.NumWords, MaxNumWords}, {"embed_dim", c.EmbedDim, MaxEmbedDim}, {"filters", c.Filters, MaxFilters}, {"kernel", c.Kernel, MaxKernel}, {"maxlen", c.MaxLen, MaxMaxLen}} {
		if f.v > f.max {
			return train.Invalidf("textcnn: %s %d is over the limit of %d", train.Field(f.name), f.v, f.max)
		}
	}
	if n := graph.SpecNumel(c.ParamSpecs()); n > MaxParams {
		return fmt.Errorf("textcnn: the configuration needs %d parameters, over the limit of %d", n, MaxParams)
	}
	return nil
}

// ParamSpecs returns the names and shapes of the parameters the model
// creates, in state_dict order, without allocating them: loaders compare
// them with a weight file's tensors first (checkpoint.CheckShapes).
func (c Config) ParamSpecs() []graph.ParamSpec {
	specs := []graph.ParamSpec{{Name: "embedding.weight", Shape: []int{c.NumWords, c.EmbedDim}}}
	if !c.seed() {
		for i, k := range c.Widths {
			specs = append(specs,
				graph.ParamSpec{Name: fmt.Sprintf("convs.%d.weight", i), Shape: []int{c.Filters, c.EmbedDim, k}},
				graph.ParamSpec{Name: fmt.Sprintf("convs.%d.bias", i), Shape: []int{c.Filters}})
		}
		features := c.Filters * len(c.Widths)
		if c.layerNorm() {
			specs = append(specs,
				graph.ParamSpec{Name: "norm.weight", Shape: []int{features}},
				graph.ParamSpec{Name: "norm.bias", Shape: []int{features}})
		}
		return append(specs, c.Head.ParamSpecs("fc", features)...)
	}
	pooled := 0
	if c.Pool > 0 {
		pooled = (c.MaxLen - c.Kernel + 1) / c.Pool
	}
	specs = append(specs,
		graph.ParamSpec{Name: "conv.weight", Shape: []int{c.Filters, c.EmbedDim, c.Kernel}},
		graph.ParamSpec{Name: "conv.bias", Shape: []int{c.Filters}})
	return append(specs, c.Head.ParamSpecs("fc", c.Filters*pooled)...)
}
