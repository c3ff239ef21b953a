package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// Kernels that claim to write all of an output or gradient give the same
// bits into a buffer of NaNs as into a zeroed one: the tape skips zeroing
// them, and reuses buffers between runs.
func TestWritesAllOverwrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	randT := func(shape ...int) *tensor.Dense {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	ids := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{0, 4, 2, 2, 1, 0}))
	pos := func(t *tensor.Dense) *tensor.Dense { // running variances
		for i, v := range t.Float64s() {
			t.Float64s()[i] = v*v + 0.5
		}
		return t
	}
	cases := []struct {
		name string
		k    kernel
		in   []*tensor.Dense
	}{
		{"relu", &activationKernel[float64]{fn: relu}, []*tensor.Dense{randT(3, 5)}},
		{"sigmoid", &activationKernel[float64]{fn: sigmoid}, []*tensor.Dense{randT(3, 5)}},
		{"tanh", &activationKernel[float64]{fn: tanh}, []*tensor.Dense{randT(3, 5)}},
		{"linear", linearKernel[float64]{}, []*tensor.Dense{randT(3, 5), randT(4, 5), randT(4)}},
		{"linear no bias", linearKernel[float64]{}, []*tensor.Dense{randT(3, 5), randT(4, 5)}},
		{"dropout", &dropoutKernel[float64]{p: 0.5, noise: &Noise{Seed: 1}}, []*tensor.Dense{randT(4, 6)}},
		{"swap", swapAxesKernel[float64]{}, []*tensor.Dense{randT(2, 3, 4)}},
		{"embedding", embeddingKernel[float64]{pad: -1}, []*tensor.Dense{ids, randT(5, 4)}},
		{"maxpool1d", &maxPool1DKernel[float64]{size: 2, stride: 2}, []*tensor.Dense{randT(2, 3, 7)}},
		{"maxpool2d", &maxPool2DKernel[float64]{size: 2, stride: 2}, []*tensor.Dense{randT(2, 2, 5, 4)}},
		{"maxpool2d 3", &maxPool2DKernel[float64]{size: 3, stride: 2}, []*tensor.Dense{randT(2, 2, 5, 5)}},
		{"conv1d", &conv1dKernel[float64]{stride: 1, pad: 1}, []*tensor.Dense{randT(3, 2, 7), randT(4, 2, 3), randT(4)}},
		{"conv2d", &conv2dKernel[float64]{stride: 1, pad: 1, inputGrad: true}, []*tensor.Dense{randT(3, 2, 5, 5), randT(4, 2, 3, 3), randT(4)}},
		{"batchnorm", &batchNormKernel[float64]{batchNormState{training: true, eps: 1e-5}}, []*tensor.Dense{randT(3, 2, 2, 3), randT(2), randT(2), randT(2), pos(randT(2))}},
	}
	filled := func(like *tensor.Dense, v float64) *tensor.Dense {
		d := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(like.Shape().Clone()...))
		for i := range d.Float64s() {
			d.Float64s()[i] = v
		}
		return d
	}
	same := func(a, b *tensor.Dense) bool {
		for i, v := range a.Float64s() {
			if math.Float64bits(v) != math.Float64bits(b.Float64s()[i]) {
				return false
			}
		}
		return true
	}
	for _, c := range cases {
		shapes := make([]tensor.Shape, len(c.in))
		for i, x := range c.in {
			shapes[i] = x.Shape()
		}
		s, err := c.k.outShape(shapes)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		like := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(s...))
		if !writesAll(c.k, -1) {
			t.Errorf("%s: expected to claim its output", c.name)
		}
		zeroOut, nanOut := filled(like, 0), filled(like, math.NaN())
		if err := c.k.forward(c.in, nanOut); err != nil {
			t.Fatalf("%s forward: %v", c.name, err)
		}
		if err := c.k.forward(c.in, zeroOut); err != nil {
			t.Fatalf("%s forward: %v", c.name, err)
		}
		if !same(zeroOut, nanOut) {
			t.Errorf("%s: forward left part of its output unwritten", c.name)
		}
		gOut := randT(s...)
		for wrt, diff := range c.k.differentiable() {
			if !diff || !writesAll(c.k, wrt) {
				continue
			}
			name := fmt.Sprintf("%s d/d%d", c.name, wrt)
			zeroG, nanG := filled(c.in[wrt], 0), filled(c.in[wrt], math.NaN())
			if err := c.k.backward(c.in, zeroOut, gOut, wrt, nanG); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := c.k.backward(c.in, zeroOut, gOut, wrt, zeroG); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !same(zeroG, nanG) {
				t.Errorf("%s: backward left part of the gradient unwritten", name)
			}
		}
	}
}

// validRange against testing every output position.
func TestConv1DValidRange(t *testing.T) {
	for l := 1; l <= 9; l++ {
		for kw := 1; kw <= 5; kw++ {
			for stride := 1; stride <= 3; stride++ {
				for pad := 0; pad <= 3; pad++ {
					k := &conv1dKernel[float32]{stride: stride, pad: pad}
					if l+2*pad < kw {
						continue
					}
					d := conv1dDims{l: l, kw: kw, lout: k.outLen(l, kw)}
					for j := 0; j < kw; j++ {
						t0, t1 := k.validRange(j, d)
						for tt := 0; tt < d.lout; tt++ {
							p := tt*stride + j - pad
							if in := p >= 0 && p < l; in != (tt >= t0 && tt < t1) {
								t.Fatalf("l=%d k=%d stride=%d pad=%d j=%d: validRange [%d, %d) disagrees at t=%d", l, kw, stride, pad, j, t0, t1, tt)
							}
						}
					}
				}
			}
		}
	}
}
