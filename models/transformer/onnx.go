package transformer

import (
	"fmt"
	"math"

	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// ONNX returns the inference graph of the model, tapeml's serving function
// written with opset 13's ops (it has no LayerNormalization, Gelu or
// Attention op, so they are written out):
//
//	ids int64 [batch, L] ([CLS] pieces… [SEP], then 0 = [PAD]); real = ids ≠ 0
//	h = Gather(word_embeddings, ids) + token_type_embeddings[0] (if type_vocab_size > 0)
//	    + position_embeddings[0:L] → Reshape [batch·L, D] → LayerNorm
//	each layer (post-LN, BERT):  h = LN(h + attention(h)); h = LN(h + FFN(h))
//	           (pre-LN):         h = h + attention(LN(h)); h = h + FFN(LN(h)); a last LN after the layers
//	  attention(x): Q, K, V = Gemm(x, query|key|value) → [batch, heads, L, D/heads]
//	    S = Q·Kᵀ / √(D/heads), Where(real key, S, lowest float32) → Softmax(last axis) → P·V
//	    → [batch·L, D] → Gemm(attention.output.dense)
//	  FFN(x): Gemm(intermediate.dense) → GELU = x·½·(1 + Erf(x/√2)) → Gemm(output.dense)
//	  LN(x): (x − mean)/√(var + layer_norm_eps)·γ + β over the last axis
//	pooling: [CLS] → Gather(h, 0, axis 1) → Gemm(bert.pooler.dense) → Tanh (BERT) or Relu (DistilBERT)
//	         mean → Σ real rows / max(1, real count) → [batch, D]
//	→ Gemm(classifier) → logits → Sigmoid (two classes) or Softmax → probs
//
// The attention mask comes from the ids as tapeml's does (PaddingMask: 1
// where id ≠ 0), wherever the padding is. A padded key's score becomes
// the lowest float32, so its probability is exactly 0, and a text of
// padding only attends uniformly to every position, as tapeml's attention
// does; its mean pooling gives zero features, as TokenMean. Token types
// are all 0 for single texts (tapeml's constant ids), so the graph adds
// row 0 of the table. Dropout is the identity at inference and has no
// node. Every initializer keeps its tapeml (Hugging Face BERT) name and
// PyTorch layout: a DistilBERT import's weights were renamed to BERT's on
// import. Ids must lie in [0, vocab_size).
func (c Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	L, d := c.MaxLen, c.DModel
	b := onnx.NewGraphBuilder(Kind, weights)
	b.Input("ids", onnx.Int64, onnx.BatchDim, onnx.Dim{Value: int64(L)})
	isReal := b.Op("is_real", "Not", []string{b.Op("is_pad", "Equal", []string{"ids", b.Int64s("zero_i64", nil, 0)})}) // [N, L] bool

	// BertEmbeddings.
	h := b.Embedding("embeddings.words", "bert.embeddings.word_embeddings.weight", c.VocabSize, d, "ids") // [N, L, D]
	if c.TypeVocab > 0 {
		types := b.Op("embeddings.type_0", "Gather", []string{b.Param("bert.embeddings.token_type_embeddings.weight", c.TypeVocab, d), "zero_i64"}) // [D]
		h = b.Op("embeddings.typed", "Add", []string{h, types})
	}
	positions := b.Op("embeddings.positions", "Slice", []string{b.Param("bert.embeddings.position_embeddings.weight", c.MaxPosition, d),
		b.Int64s("slice_start", []int{1}, 0), b.Int64s("slice_end", []int{1}, int64(L)), b.Int64s("slice_axes", []int{1}, 0)}) // [L, D]
	h = b.Op("embeddings.sum", "Add", []string{h, positions})
	rows := b.Int64s("shape_rows", []int{2}, -1, int64(d))
	h = b.Op("embeddings.rows", "Reshape", []string{h, rows}) // [N·L, D]
	h = b.LayerNorm("bert.embeddings.LayerNorm", h, d, c.Eps)

	g := onnxGraph{b: b, c: c, rows: rows,
		heads:    b.Int64s("shape_heads", []int{4}, -1, int64(L), int64(c.Heads), int64(d/c.Heads)),
		scale:    b.Floats("attention_scale", nil, []float32{float32(1 / math.Sqrt(float64(d/c.Heads)))}),
		lowest:   b.Floats("lowest_f32", nil, []float32{-math.MaxFloat32}),
		realKey:  b.Op("real_keys", "Unsqueeze", []string{isReal, b.Int64s("axes_1_2", []int{2}, 1, 2)}), // [N, 1, 1, L]
		one:      b.Floats("one_f32", nil, []float32{1}),
		half:     b.Floats("half_f32", nil, []float32{0.5}),
		invSqrt2: b.Floats("inv_sqrt2", nil, []float32{1 / math.Sqrt2}),
	}
	for l := range c.Layers {
		h = g.layer(fmt.Sprintf("bert.encoder.layer.%d.", l), h)
	}
	if c.Norm == PreLN {
		h = b.LayerNorm("bert.encoder.LayerNorm", h, d, c.Eps)
	}
	h = b.Op("encoded", "Reshape", []string{h, b.Int64s("shape_texts", []int{3}, -1, int64(L), int64(d))}) // [N, L, D]

	var x string // [N, D]
	if c.Pooling == CLS {
		x = b.Op("cls", "Gather", []string{h, "zero_i64"}, onnx.IntAttr("axis", 1))
		x = b.Gemm("pooler.dense", x, "bert.pooler.dense", d, d)
		if c.PoolerAct == "relu" {
			x = b.Op("pooled", "Relu", []string{x})
		} else {
			x = b.Op("pooled", "Tanh", []string{x})
		}
	} else {
		axis1 := b.Int64s("axes_1", []int{1}, 1)
		realF := b.Op("real_f", "Cast", []string{isReal}, onnx.IntAttr("to", int64(onnx.Float)))                                         // [N, L]
		masked := b.Op("real_rows", "Mul", []string{h, b.Op("real_col", "Unsqueeze", []string{realF, b.Int64s("axes_2", []int{1}, 2)})}) // [N, L, D]
		sum := b.Op("real_sum", "ReduceSum", []string{masked, axis1}, onnx.IntAttr("keepdims", 0))                                       // [N, D]
		count := b.Op("real_count", "ReduceSum", []string{realF, axis1}, onnx.IntAttr("keepdims", 1))                                    // [N, 1]
		count = b.Op("real_count_at_least_1", "Max", []string{count, g.one})
		x = b.Op("pooled", "Div", []string{sum, count})
	}
	c.Head.ONNX(b, "classifier", x, d)
	return b.Finish(c, fmt.Sprintf("tapeml transformer (%s-LN, %s pooling): ids int64 [batch, %d] ([CLS] pieces [SEP], 0 = padding) → %s",
		c.Norm, c.Pooling, L, c.Head.ONNXDoc()))
}

// onnxGraph holds what every encoder layer of an ONNX graph shares.
type onnxGraph struct {
	b       *onnx.GraphBuilder
	c       Config
	rows    string // the shape [−1, D]
	heads   string // the shape [−1, L, heads, D/heads]
	scale   string // 1/√(D/heads)
	lowest  string // the score of a padded key
	realKey string // [N, 1, 1, L] bool: the key is a real token

	one, half, invSqrt2 string // float32 scalars
}

// layer adds encoder layer p on h [N·L, D], as Config.layer.
func (g onnxGraph) layer(p string, h string) string {
	b, c := g.b, g.c
	if c.Norm == PreLN {
		h = b.Op(p+"attention.residual", "Add", []string{h, g.attention(p, b.LayerNorm(p+"attention.output.LayerNorm", h, c.DModel, c.Eps))})
		return b.Op(p+"output.residual", "Add", []string{h, g.ffn(p, b.LayerNorm(p+"output.LayerNorm", h, c.DModel, c.Eps))})
	}
	h = b.LayerNorm(p+"attention.output.LayerNorm", b.Op(p+"attention.residual", "Add", []string{g.attention(p, h), h}), c.DModel, c.Eps)
	return b.LayerNorm(p+"output.LayerNorm", b.Op(p+"output.residual", "Add", []string{g.ffn(p, h), h}), c.DModel, c.Eps)
}

// attention adds layer p's self-attention and output projection on x
// [N·L, D]: at most [N, heads, L, L] per layer, as tapeml's.
func (g onnxGraph) attention(p, x string) string {
	b, d := g.b, g.c.DModel
	// tapeml runs the input projection in int8 only when all three parts
	// are (graph.SelfAttention); otherwise in float32, the int8 parts
	// dequantized.
	gemm := b.Gemm
	for _, part := range []string{"query", "key", "value"} {
		if !b.Quantized(p + "attention.self." + part + ".weight") {
			gemm = b.GemmFloat
		}
	}
	split := func(name string, perm ...int64) string { // [N·L, D] → [N, heads, …]
		y := gemm(p+"attention.self."+name+".out", x, p+"attention.self."+name, d, d)
		y = b.Op(p+"attention.self."+name+".heads", "Reshape", []string{y, g.heads}) // [N, L, heads, D/heads]
		return b.Op(p+"attention.self."+name+".t", "Transpose", []string{y}, onnx.IntsAttr("perm", perm...))
	}
	q := split("query", 0, 2, 1, 3)                                                                             // [N, heads, L, D/heads]
	k := split("key", 0, 2, 3, 1)                                                                               // [N, heads, D/heads, L]
	v := split("value", 0, 2, 1, 3)                                                                             // [N, heads, L, D/heads]
	s := b.Op(p+"attention.scores", "Mul", []string{b.Op(p+"attention.qk", "MatMul", []string{q, k}), g.scale}) // [N, heads, L, L]
	s = b.Op(p+"attention.masked", "Where", []string{g.realKey, s, g.lowest})
	s = b.Op(p+"attention.probs", "Softmax", []string{s}, onnx.IntAttr("axis", -1))
	ctx := b.Op(p+"attention.context", "MatMul", []string{s, v})                                       // [N, heads, L, D/heads]
	ctx = b.Op(p+"attention.context.t", "Transpose", []string{ctx}, onnx.IntsAttr("perm", 0, 2, 1, 3)) // [N, L, heads, D/heads]
	ctx = b.Op(p+"attention.context.rows", "Reshape", []string{ctx, g.rows})                           // [N·L, D]
	return b.Gemm(p+"attention.output", ctx, p+"attention.output.dense", d, d)
}

// ffn adds layer p's feed-forward block on x [N·L, D], exact GELU between.
func (g onnxGraph) ffn(p, x string) string {
	b, c := g.b, g.c
	y := b.Gemm(p+"intermediate", x, p+"intermediate.dense", c.DModel, c.FFN) // [N·L, FFN]
	e := b.Op(p+"gelu.erf", "Erf", []string{b.Op(p+"gelu.scaled", "Mul", []string{y, g.invSqrt2})})
	e = b.Op(p+"gelu.cdf2", "Add", []string{e, g.one}) // 2·Φ(y)
	y = b.Op(p+"gelu.half", "Mul", []string{b.Op(p+"gelu.y_cdf2", "Mul", []string{y, e}), g.half})
	return b.Gemm(p+"output", y, p+"output.dense", c.FFN, c.DModel)
}
