package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// convBlockRun builds ConvBlock (3×3, padding 1, or the given kernel) in
// mode over the images x [n, c, h, w] and returns its output after one run.
func convBlockRun(t *testing.T, ps *Params, mode Mode, x []float32, n, c, h, w, out, kernel, pad int) []float32 {
	t.Helper()
	b := NewBuilder(ps, mode, nil)
	in := G.NewTensor(b.G, tensor.Float32, 4, G.WithShape(n, c, h, w), G.WithName("image"),
		G.WithValue(tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(slices.Clone(x)))))
	y := ConvBlock(b, "conv", "bn", in, Conv2DConfig{Out: out, Kernel: kernel, Padding: pad, Bias: true}, BatchNormConfig{}, 2)
	if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(y.Value().(*tensor.Dense).Float32s())
}

// randomizeBN moves the batch norm's parameters away from the identity,
// so that the folding matters.
func randomizeBN(ps *Params, rng *rand.Rand) {
	for _, name := range []string{"bn.weight", "bn.bias", "bn.running_mean"} {
		for i := range ps.Get(name).Value.Float32s() {
			ps.Get(name).Value.Float32s()[i] = float32(rng.NormFloat64())
		}
	}
	for i := range ps.Get("bn.running_var").Value.Float32s() {
		ps.Get("bn.running_var").Value.Float32s()[i] = 0.2 + rng.Float32()
	}
}

func closeTo(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol*(1+math.Abs(float64(want[i])))) {
			t.Fatalf("%s: [%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

// The serving ConvBlock (the BN folded once, the direct convolution with
// AVX-512, the im2col product below it) gives the evaluation graph's
// Conv2D → BatchNorm2D → MaxPool2D → ReLU, at every level, on odd image
// sides and channel counts around the tiles, with batches below, at and
// above the thread count, on one and two threads.
func TestConvBlockServing(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 9))
	for _, s := range []struct{ n, c, h, w, out, kernel, pad int }{
		{1, 3, 32, 32, 64, 3, 1}, {2, 64, 16, 16, 128, 3, 1}, // the ConvNet's blocks
		{3, 2, 9, 17, 13, 3, 1}, {1, 1, 2, 3, 1, 3, 1}, {5, 5, 15, 33, 33, 3, 1}, {2, 3, 7, 7, 5, 1, 0}, {3, 2, 11, 10, 12, 5, 2},
	} {
		ps := NewParams(tensor.Float32, 1)
		x := make([]float32, s.n*s.c*s.h*s.w)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		convBlockRun(t, ps, Eval, x, s.n, s.c, s.h, s.w, s.out, s.kernel, s.pad) // materialize
		randomizeBN(ps, rng)
		want := convBlockRun(t, ps, Eval, x, s.n, s.c, s.h, s.w, s.out, s.kernel, s.pad)
		for l := kern.Generic; l <= kern.Supported(); l++ {
			for _, threads := range []int{1, 2} {
				restore, old := kern.Set(l), SetMaxThreads(threads)
				// A fresh store per level: the folded convolution is made
				// for the level of its first run.
				qs := NewParams(tensor.Float32, 1)
				convBlockRun(t, qs, Eval, x, s.n, s.c, s.h, s.w, s.out, s.kernel, s.pad)
				for _, p := range ps.List() {
					copy(qs.Get(p.Name).Value.Float32s(), p.Value.Float32s())
				}
				got := convBlockRun(t, qs, Infer, x, s.n, s.c, s.h, s.w, s.out, s.kernel, s.pad)
				closeTo(t, fmt.Sprintf("%+v %s threads=%d", s, l, threads), got, want, 1e-4)
				SetMaxThreads(old)
				restore()
			}
		}
	}
}

// The folded weights are derived once per parameter store and shared by
// its serving machines, whatever their batch size; a new store — how a
// model is loaded, and how the server reloads a new version — folds its
// own weights, so a machine never runs another store's.
func TestFoldedConvPerStore(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 10))
	x := make([]float32, 4*3*8*8)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	stores := make([]*Params, 2)
	for i := range stores {
		ps := NewParams(tensor.Float32, uint64(i+1)) // different weights
		convBlockRun(t, ps, Eval, x, 4, 3, 8, 8, 5, 3, 1)
		randomizeBN(ps, rng)
		stores[i] = ps
	}
	for _, ps := range stores {
		want := convBlockRun(t, ps, Eval, x, 4, 3, 8, 8, 5, 3, 1)
		closeTo(t, "batch 4", convBlockRun(t, ps, Infer, x, 4, 3, 8, 8, 5, 3, 1), want, 1e-4)
		closeTo(t, "batch 1", convBlockRun(t, ps, Infer, x[:3*8*8], 1, 3, 8, 8, 5, 3, 1), want[:5*4*4], 1e-4)
		if len(ps.convs) != 1 {
			t.Fatalf("%d folded convolutions in the store, want 1 shared by both machines", len(ps.convs))
		}
		for _, f := range ps.convs {
			if want := kern.DirectConvFast(); (f.pool != nil) != want {
				t.Errorf("direct convolution made: %v, want %v", f.pool != nil, want)
			}
		}
	}
}
