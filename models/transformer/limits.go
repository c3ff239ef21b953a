package transformer

import (
	"fmt"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// Upper bounds Validate enforces, so that a configuration read from a
// file (meta.json, an imported model's config.json) cannot ask for more
// memory than any sensible model needs. BERT-large (1024 wide, 24 layers,
// 16 heads, 4096 feed-forward, 512 positions, 30 522 pieces) is within
// them. MaxParams bounds the total: 2^29 values are 2 GiB of float32.
const (
	MaxVocab     = 1 << 20 // text.MaxVocabTokens
	MaxMaxLen    = 1 << 13 // 8192 positions: one [T, T] block per head is 256 MiB of float32
	MaxTypeVocab = 1 << 10
	MaxDModel    = 1 << 13
	MaxLayers    = 64
	MaxHeads     = 256
	MaxFFN       = 1 << 15
	MaxParams    = 1 << 29
)

// checkLimits reports the first field over its bound, then a total
// parameter count over MaxParams.
func (c Config) checkLimits() error {
	for _, f := range []struct {
		name   string
		v, max int
	}{{"vocab_size", c.VocabSize, MaxVocab}, {"maxlen", c.MaxLen, MaxMaxLen}, {"max_position_embeddings", c.MaxPosition, MaxMaxLen},
		{"type_vocab_size", c.TypeVocab, MaxTypeVocab}, {"hidden_size", c.DModel, MaxDModel}, {"num_hidden_layers", c.Layers, MaxLayers},
		{"num_attention_heads", c.Heads, MaxHeads}, {"intermediate_size", c.FFN, MaxFFN}} {
		if f.v > f.max {
			return train.Invalidf("transformer: %s %d is over the limit of %d", train.Field(f.name), f.v, f.max)
		}
	}
	if n := graph.SpecNumel(c.ParamSpecs()); n > MaxParams {
		return fmt.Errorf("transformer: the configuration needs %d parameters, over the limit of %d", n, MaxParams)
	}
	return nil
}

// ParamSpecs returns the names and shapes of the parameters the model
// creates, in the order Build creates them, without allocating them:
// loaders compare them with a weight file's tensors first.
func (c Config) ParamSpecs() []graph.ParamSpec {
	d := c.DModel
	vec := func(name string, n int) graph.ParamSpec { return graph.ParamSpec{Name: name, Shape: []int{n}} }
	mat := func(name string, r, k int) graph.ParamSpec { return graph.ParamSpec{Name: name, Shape: []int{r, k}} }
	linear := func(name string, out, in int) []graph.ParamSpec {
		return []graph.ParamSpec{mat(name+".weight", out, in), vec(name+".bias", out)}
	}
	norm := func(name string) []graph.ParamSpec {
		return []graph.ParamSpec{vec(name+".weight", d), vec(name+".bias", d)}
	}
	specs := []graph.ParamSpec{mat("bert.embeddings.word_embeddings.weight", c.VocabSize, d)}
	if c.TypeVocab > 0 {
		specs = append(specs, mat("bert.embeddings.token_type_embeddings.weight", c.TypeVocab, d))
	}
	specs = append(specs, mat("bert.embeddings.position_embeddings.weight", c.MaxPosition, d))
	specs = append(specs, norm("bert.embeddings.LayerNorm")...)
	for l := range c.Layers {
		p := fmt.Sprintf("bert.encoder.layer.%d.", l)
		var attn []graph.ParamSpec
		for _, s := range []string{"query", "key", "value"} {
			attn = append(attn, linear(p+"attention.self."+s, d, d)...)
		}
		attn = append(attn, linear(p+"attention.output.dense", d, d)...)
		ffn := append(linear(p+"intermediate.dense", c.FFN, d), linear(p+"output.dense", d, c.FFN)...)
		if c.Norm == PreLN {
			specs = append(specs, norm(p+"attention.output.LayerNorm")...)
			specs = append(specs, attn...)
			specs = append(specs, norm(p+"output.LayerNorm")...)
			specs = append(specs, ffn...)
		} else {
			specs = append(specs, attn...)
			specs = append(specs, norm(p+"attention.output.LayerNorm")...)
			specs = append(specs, ffn...)
			specs = append(specs, norm(p+"output.LayerNorm")...)
		}
	}
	if c.Norm == PreLN {
		specs = append(specs, norm("bert.encoder.LayerNorm")...)
	}
	if c.Pooling == CLS {
		specs = append(specs, linear("bert.pooler.dense", d, d)...)
	}
	return append(specs, c.Head.ParamSpecs("classifier", d)...)
}
