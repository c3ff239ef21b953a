package mf

import (
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
)

// Weights packs a biased factorization — what recsys.FitBiasedALS fits,
// the ALS solver of this model's objective — as the network's
// parameters, so that a model fitted by ALS is this network: the same
// checkpoint, Recommender, serving and ONNX graph as one trained by SGD.
func Weights(f *recsys.BiasedFactors) []safetensors.Tensor {
	users, items, k := len(f.UserBias), len(f.ItemBias), f.Factors
	f32 := func(x []float64) []float32 {
		out := make([]float32, len(x))
		for j, v := range x {
			out[j] = float32(v)
		}
		return out
	}
	return []safetensors.Tensor{
		safetensors.F32(UserFactors, []int{users, k}, f32(f.User)),
		safetensors.F32(ItemFactors, []int{items, k}, f32(f.Item)),
		safetensors.F32(UserBias, []int{users, 1}, f32(f.UserBias)),
		safetensors.F32(ItemBias, []int{items, 1}, f32(f.ItemBias)),
		safetensors.F32(GlobalBias, []int{1}, []float32{float32(f.Mean)}),
	}
}
