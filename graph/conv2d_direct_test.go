package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// The float32 forward pass and input gradient (the direct convolutions
// with AVX-512 and stride 1, the products elsewhere) against the float64
// kernel's, on shapes around the direct kernel's tiles (16 columns, two
// rows, panels of 12 channels), every padding a 3×3 or 5×5 kernel allows,
// a rectangular kernel (no direct input gradient) and stride 2 (neither).
func TestConv2DFloat32MatchesFloat64(t *testing.T) {
	type shape struct{ n, c, h, w, o, kh, kw, stride, pad int }
	shapes := []shape{
		{2, 3, 32, 32, 64, 3, 3, 1, 1}, {2, 64, 16, 16, 128, 3, 3, 1, 1}, // the ConvNet's
		{3, 13, 9, 19, 5, 3, 3, 1, 0}, {2, 4, 17, 33, 25, 3, 3, 1, 2}, {1, 2, 7, 5, 12, 5, 5, 1, 2},
		{2, 5, 6, 18, 8, 1, 1, 1, 0}, {2, 3, 8, 9, 4, 2, 3, 1, 1}, {2, 3, 9, 9, 4, 3, 3, 2, 1},
	}
	rng := rand.New(rand.NewPCG(41, 3))
	for _, s := range shapes {
		name := fmt.Sprintf("%+v", s)
		xs, ws := []int{s.n, s.c, s.h, s.w}, []int{s.o, s.c, s.kh, s.kw}
		oh, ow := (s.h+2*s.pad-s.kh)/s.stride+1, (s.w+2*s.pad-s.kw)/s.stride+1
		ys := []int{s.n, s.o, oh, ow}
		rand32 := func(shape []int) (*tensor.Dense, *tensor.Dense) {
			n := 1
			for _, d := range shape {
				n *= d
			}
			v32, v64 := make([]float32, n), make([]float64, n)
			for i := range v32 {
				v32[i] = float32(rng.NormFloat64())
				v64[i] = float64(v32[i])
			}
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v32)), tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v64))
		}
		x32, x64 := rand32(xs)
		w32, w64 := rand32(ws)
		b32, b64 := rand32([]int{s.o})
		g32, g64 := rand32(ys)
		k32 := &conv2dKernel[float32]{stride: s.stride, pad: s.pad, inputGrad: true}
		k64 := &conv2dKernel[float64]{stride: s.stride, pad: s.pad, inputGrad: true}
		y32 := tensor.New(tensor.WithShape(ys...), tensor.Of(tensor.Float32))
		y64 := tensor.New(tensor.WithShape(ys...), tensor.Of(tensor.Float64))
		for range 2 { // again with the kernels' kept scratch and packing
			if err := k32.forward([]*tensor.Dense{x32, w32, b32}, y32); err != nil {
				t.Fatal(err)
			}
			if err := k64.forward([]*tensor.Dense{x64, w64, b64}, y64); err != nil {
				t.Fatal(err)
			}
			tol := 1e-5 * math.Sqrt(float64(s.c*s.kh*s.kw))
			compare(t, name+" y", y32.Float32s(), y64.Float64s(), tol)
			d32 := tensor.New(tensor.WithShape(xs...), tensor.Of(tensor.Float32))
			d64 := tensor.New(tensor.WithShape(xs...), tensor.Of(tensor.Float64))
			if err := k32.backward([]*tensor.Dense{x32, w32, b32}, y32, g32, 0, d32); err != nil {
				t.Fatal(err)
			}
			if err := k64.backward([]*tensor.Dense{x64, w64, b64}, y64, g64, 0, d64); err != nil {
				t.Fatal(err)
			}
			compare(t, name+" dx", d32.Float32s(), d64.Float64s(), 1e-5*math.Sqrt(float64(s.o*s.kh*s.kw)))
		}
		if kern.DirectConvFast() && s.stride == 1 && (k32.direct.p == nil || (s.kh == s.kw) != (k32.directGrad.p != nil)) {
			t.Errorf("%s: direct forward %t, direct input gradient %t", name, k32.direct.p != nil, k32.directGrad.p != nil)
		}
	}
}

func compare(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i, v := range got {
		if d := math.Abs(float64(v) - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
			t.Fatalf("%s[%d] = %v, want %v", name, i, v, want[i])
		}
	}
}
