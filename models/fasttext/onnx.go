package fasttext

import (
	"fmt"

	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// bigramMultiplier is graph.BigramBucket's.
const bigramMultiplier = 116049371

// ONNX returns the inference graph of the model:
//
//	ids int64 [batch, L]; a = ids[:, :L−1], b = ids[:, 1:]
//	bigrams = Where(a ≠ 0 and b ≠ 0, NumWords + (a·116049371 + b) mod Buckets, 0), a 0 column appended → [batch, L]
//	vectors = (Gather(embedding.weight, ids) + Gather(embedding.weight, bigrams)) · (ids ≠ 0) → [batch, L, E]
//	mean = ReduceSum(vectors, axis 1) ÷ max(1, words + bigrams) → [batch, E]
//	→ Gemm(fc) → logits → Sigmoid (two classes) or Softmax → probs
//
// A text of padding only has zero features, so its logits are fc.bias, as
// in tapeml. Ids must lie in [0, NumWords).
func (cfg Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	L := cfg.MaxLen
	b := onnx.NewGraphBuilder(Kind, weights)
	b.Input("ids", onnx.Int64, onnx.BatchDim, onnx.Dim{Value: int64(L)})
	emb := b.Param("embedding.weight", cfg.NumWords+cfg.Buckets, cfg.EmbedDim)
	zero := b.Int64s("zero_i64", []int{}, 0)
	axis1 := b.Int64s("axes_1", []int{1}, 1)
	isToken := b.Op("is_token", "Not", []string{b.Op("is_pad", "Equal", []string{"ids", zero})}) // [N, L]
	tokenF := b.Op("token_f", "Cast", []string{isToken}, onnx.IntAttr("to", int64(onnx.Float)))
	items := b.Op("words", "ReduceSum", []string{tokenF, axis1}, onnx.IntAttr("keepdims", 1)) // [N, 1]
	vectors := b.Op("word_vectors", "Gather", []string{emb, "ids"})                           // [N, L, E]
	if cfg.Buckets > 0 && L > 1 {
		first := b.Op("pair_a", "Slice", []string{"ids", b.Int64s("start_0", []int{1}, 0), b.Int64s("end_last", []int{1}, int64(L-1)), axis1})
		second := b.Op("pair_b", "Slice", []string{"ids", b.Int64s("start_1", []int{1}, 1), b.Int64s("end_all", []int{1}, int64(L)), axis1})
		h := b.Op("pair_mul", "Mul", []string{first, b.Int64s("multiplier", []int{}, bigramMultiplier)})
		h = b.Op("pair_sum", "Add", []string{h, second})
		h = b.Op("pair_bucket", "Mod", []string{h, b.Int64s("buckets", []int{}, int64(cfg.Buckets))})
		h = b.Op("pair_row", "Add", []string{h, b.Int64s("num_words", []int{}, int64(cfg.NumWords))})
		valid := b.Op("pair_valid", "And", []string{
			b.Op("a_token", "Not", []string{b.Op("a_pad", "Equal", []string{first, zero})}),
			b.Op("b_token", "Not", []string{b.Op("b_pad", "Equal", []string{second, zero})})})
		h = b.Op("pair_rows", "Where", []string{valid, h, zero}) // [N, L−1]
		last := b.Op("last_column", "Mul", []string{b.Op("ids_last", "Slice", []string{"ids", b.Int64s("start_last", []int{1}, int64(L-1)), b.Int64s("end_all2", []int{1}, int64(L)), axis1}), zero})
		h = b.Op("bigram_rows", "Concat", []string{h, last}, onnx.IntAttr("axis", 1)) // [N, L]
		vectors = b.Op("vectors", "Add", []string{vectors, b.Op("bigram_vectors", "Gather", []string{emb, h})})
		validF := b.Op("pair_f", "Cast", []string{valid}, onnx.IntAttr("to", int64(onnx.Float)))
		items = b.Op("items", "Add", []string{items, b.Op("bigrams", "ReduceSum", []string{validF, axis1}, onnx.IntAttr("keepdims", 1))})
	}
	mask := b.Op("token_mask", "Unsqueeze", []string{tokenF, b.Int64s("axes_2", []int{1}, 2)}) // [N, L, 1]
	vectors = b.Op("masked_vectors", "Mul", []string{vectors, mask})
	sum := b.Op("sum", "ReduceSum", []string{vectors, axis1}, onnx.IntAttr("keepdims", 0)) // [N, E]
	items = b.Op("items_at_least_1", "Max", []string{items, b.Floats("one_f", []int{}, []float32{1})})
	mean := b.Op("mean", "Div", []string{sum, items})
	cfg.Head.ONNX(b, "fc", mean, cfg.EmbedDim)
	return b.Finish(cfg, fmt.Sprintf("tapeml fasttext: ids int64 [batch, %d] (0 = padding, anywhere) → %s", L, cfg.Head.ONNXDoc()))
}
