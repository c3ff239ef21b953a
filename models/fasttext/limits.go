package fasttext

import (
	"fmt"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// Upper bounds Validate enforces, so that a configuration read from a
// file (meta.json, an imported file's metadata) cannot ask for more
// memory than any sensible model needs. MaxParams bounds the total: 2^27
// values are 512 MiB of float32. Word ids stay below 2²² so that bigram
// hashing cannot overflow (graph.BigramBucket).
const (
	MaxNumWords = 1 << 22 // 4,194,304 words
	MaxBuckets  = 1 << 24
	MaxEmbedDim = 4096
	MaxMaxLen   = 1 << 16 // 65,536 tokens
	MaxParams   = 1 << 27
)

// checkLimits reports the first field over its bound, then a total
// parameter count over MaxParams.
func (c Config) checkLimits() error {
	for _, f := range []struct {
		name   string
		v, max int
	}{{"num_words", c.NumWords, MaxNumWords}, {"buckets", c.Buckets, MaxBuckets}, {"embed_dim", c.EmbedDim, MaxEmbedDim}, {"maxlen", c.MaxLen, MaxMaxLen}} {
		if f.v > f.max {
			return train.Invalidf("fasttext: %s %d is over the limit of %d", train.Field(f.name), f.v, f.max)
		}
	}
	if n := graph.SpecNumel(c.ParamSpecs()); n > MaxParams {
		return fmt.Errorf("fasttext: the configuration needs %d parameters, over the limit of %d", n, MaxParams)
	}
	return nil
}

// ParamSpecs returns the names and shapes of the parameters the model
// creates, in state_dict order, without allocating them.
func (c Config) ParamSpecs() []graph.ParamSpec {
	return append([]graph.ParamSpec{{Name: "embedding.weight", Shape: []int{c.NumWords + c.Buckets, c.EmbedDim}}},
		c.Head.ParamSpecs("fc", c.EmbedDim)...)
}
