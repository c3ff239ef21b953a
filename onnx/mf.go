package onnx

import (
	"fmt"

	"github.com/tapeml/tapeml/models/mf"
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
func MF(cfg mf.Config, weights []safetensors.Tensor) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	b := newGraphBuilder(mf.Kind, weights)
	b.input("user", Int64, batchDim)
	b.input("item", Int64, batchDim)

	p := b.op("p", "Gather", []string{b.param(mf.UserFactors, cfg.Users, cfg.Factors), "user"}) // [N, F]
	q := b.op("q", "Gather", []string{b.param(mf.ItemFactors, cfg.Items, cfg.Factors), "item"}) // [N, F]
	pq := b.op("pq", "Mul", []string{p, q})
	axis1 := b.int64s("axes_1", []int{1}, 1)
	dot := b.op("dot", "ReduceSum", []string{pq, axis1}, attrInt("keepdims", 1))     // [N, 1]
	bu := b.op("bu", "Gather", []string{b.param(mf.UserBias, cfg.Users, 1), "user"}) // [N, 1]
	bi := b.op("bi", "Gather", []string{b.param(mf.ItemBias, cfg.Items, 1), "item"}) // [N, 1]
	// Summed in the evaluation graph's order, for the same float32 rounding.
	sum := b.op("dot_bu", "Add", []string{dot, bu})
	sum = b.op("dot_bu_bi", "Add", []string{sum, bi})
	sum = b.op("raw_rating", "Add", []string{sum, b.param(mf.GlobalBias, 1)}) // [N, 1] + [1]
	lo := b.floats("scale_min", []int{}, []float32{float32(cfg.Scale.Min)})
	hi := b.floats("scale_max", []int{}, []float32{float32(cfg.Scale.Max)})
	clipped := b.op("clipped", "Clip", []string{sum, lo, hi})
	b.op("rating", "Squeeze", []string{clipped, axis1})

	b.output("rating", Float, batchDim)
	return b.finish(cfg, fmt.Sprintf("tapeml matrix factorization: user, item int64 [batch] (dense indices) → rating float [batch] in [%v, %v]",
		cfg.Scale.Min, cfg.Scale.Max))
}
