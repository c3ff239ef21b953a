package optim

import (
	"math"
	"testing"
)

// benchParams returns about n parameters in three tensors (a large weight,
// a smaller one and a bias), with a gradient that is not constant.
func benchParams(n int) []Param {
	sizes := []int{n * 3 / 4, n/4 - n/100, n / 100}
	ps := make([]Param, len(sizes))
	for k, size := range sizes {
		v, g := make([]float32, size), make([]float32, size)
		for i := range v {
			v[i] = float32(math.Sin(float64(i)))
			g[i] = float32(math.Cos(float64(i+k))) * 1e-2
		}
		ps[k] = Param{Name: string(rune('a' + k)), Shape: []int{size}, Value: v, Grad: g}
	}
	return ps
}

// BenchmarkStep times one update of ~700k float32 parameters.
func BenchmarkStep(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"sgd", Config{Name: SGD}},
		{"sgd_momentum", Config{Name: SGD, Momentum: 0.9}},
		{"sgd_momentum_l1_clip_decay", Config{Name: SGD, Momentum: 0.9, L1: 1e-5, ClipNorm: 1, WeightDecay: 1e-4}},
		{"adam", Config{Name: Adam}},
		{"adamw_amsgrad", Config{Name: AdamW, AMSGrad: true}},
		{"rmsprop_centered_momentum", Config{Name: RMSProp, Centered: true, Momentum: 0.9}},
	} {
		b.Run(c.name, func(b *testing.B) {
			opt, err := New(c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			params := benchParams(700_000)
			if err := opt.Step(params, 1e-3); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(700_000 * 4)
			b.ResetTimer()
			for range b.N {
				if err := opt.Step(params, 1e-3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
