package mf

import (
	"fmt"

	"github.com/tapeml/tapeml/onnx"
	"github.com/tapeml/tapeml/safetensors"
)

// MF returns the inference graph of a matrix-factorization recommender
// (models/recsys, checkpoint kind "recsys" with algo "mf"):
//
//	user, item int64 [batch] (dense indices)
//	→ rating = Clip(global_bias + user_bias[user] + item_bias[item]
//	              + Σ user_factors[user]·item_factors[item], Scale.Min, Scale.Max)  [batch]
//
// which is the evaluation graph's clamped prediction. Indices must lie in
// [0, Users) and [0, Items): the recsys id maps turn raw ids into them.
// Every initializer keeps its PyTorch name and layout.
func (cfg Config) ONNX(weights []safetensors.Tensor) (*onnx.Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	b := onnx.NewGraphBuilder(Kind, weights)
	b.Input("user", onnx.Int64, onnx.BatchDim)
	b.Input("item", onnx.Int64, onnx.BatchDim)

	p := b.Op("p", "Gather", []string{b.Param(UserFactors, cfg.Users, cfg.Factors), "user"}) // [N, F]
	q := b.Op("q", "Gather", []string{b.Param(ItemFactors, cfg.Items, cfg.Factors), "item"}) // [N, F]
	pq := b.Op("pq", "Mul", []string{p, q})
	axis1 := b.Int64s("axes_1", []int{1}, 1)
	dot := b.Op("dot", "ReduceSum", []string{pq, axis1}, onnx.IntAttr("keepdims", 1)) // [N, 1]
	bu := b.Op("bu", "Gather", []string{b.Param(UserBias, cfg.Users, 1), "user"})     // [N, 1]
	bi := b.Op("bi", "Gather", []string{b.Param(ItemBias, cfg.Items, 1), "item"})     // [N, 1]
	// Summed in the evaluation graph's order, for the same float32 rounding.
	sum := b.Op("dot_bu", "Add", []string{dot, bu})
	sum = b.Op("dot_bu_bi", "Add", []string{sum, bi})
	sum = b.Op("raw_rating", "Add", []string{sum, b.Param(GlobalBias, 1)}) // [N, 1] + [1]
	lo := b.Floats("scale_min", []int{}, []float32{float32(cfg.Scale.Min)})
	hi := b.Floats("scale_max", []int{}, []float32{float32(cfg.Scale.Max)})
	clipped := b.Op("clipped", "Clip", []string{sum, lo, hi})
	b.Op("rating", "Squeeze", []string{clipped, axis1})

	b.Output("rating", onnx.Float, onnx.BatchDim)
	return b.Finish(cfg, fmt.Sprintf("tapeml matrix factorization: user, item int64 [batch] (dense indices) → rating float [batch] in [%v, %v]",
		cfg.Scale.Min, cfg.Scale.Max))
}
