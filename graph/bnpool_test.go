package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestBatchNormPoolGradients(t *testing.T) {
	for i, shape := range [][]int{{3, 2, 4, 4}, {2, 3, 5, 7}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			err := GradCheck(func(b *Builder) (*G.Node, []*G.Node, error) {
				x := randomInput(b, "x", uint64(80+i), shape...)
				xv := x.Value().(*tensor.Dense).Float64s()
				for j := range xv {
					xv[j] = 3*xv[j] + 2
				}
				y := batchNormPool(b, "bn", x, BatchNormConfig{}, true, true)
				fillRandom(b.Params.Get("bn.weight"), 1, -2, 2) // negative γ too: the maximum moves
				fillRandom(b.Params.Get("bn.bias"), 2, -1, 1)
				return weightedSum(b, y), []*G.Node{x, b.ParamNode("bn.weight"), b.ParamNode("bn.bias")}, nil
			}, GradCheckConfig{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBatchNormPoolMatchesLayers runs the fused node and the two layers it
// replaces (BatchNorm2D in training, then MaxPool2D(2)) on the same
// values, in float32 and float64, on planes of odd sizes (the last row
// and column outside every window) and sizes with vector tails: the
// output and the gradients of x, γ and β must be the same bits, whichever
// gradient is asked for first.
func TestBatchNormPoolMatchesLayers(t *testing.T) {
	for _, shape := range [][]int{{2, 3, 2, 2}, {3, 2, 5, 7}, {2, 4, 16, 16}, {4, 3, 9, 33}} {
		t.Run(fmt.Sprint(shape, "/float32"), func(t *testing.T) { bnPoolMatches[float32](t, shape) })
		t.Run(fmt.Sprint(shape, "/float64"), func(t *testing.T) { bnPoolMatches[float64](t, shape) })
	}
}

func bnPoolMatches[T float](t *testing.T, shape []int) {
	rng := rand.New(rand.NewPCG(uint64(shape[2]*shape[3]), 11))
	c := shape[1]
	pooled := []int{shape[0], c, shape[2] / 2, shape[3] / 2}
	dense := func(s []int, f func() float64) *tensor.Dense {
		v := make([]T, tensor.Shape(s).TotalSize())
		for i := range v {
			v[i] = T(f())
		}
		return tensor.New(tensor.WithShape(s...), tensor.WithBacking(v))
	}
	in := []*tensor.Dense{
		dense(shape, func() float64 { return 2 + 3*rng.NormFloat64() }),
		dense([]int{c}, func() float64 { return 2*rng.Float64() - 1 }), // γ of both signs
		dense([]int{c}, rng.NormFloat64),
		dense([]int{c}, func() float64 { return 0 }),
		dense([]int{c}, func() float64 { return 1 }),
	}
	gOut := dense(pooled, rng.NormFloat64)
	state := batchNormState{training: true, eps: 1e-5, momentum: 0.1}
	zero := func(s []int) *tensor.Dense { return dense(s, func() float64 { return 0 }) }
	// grads asks for the gradients in the order given (the fused node
	// computes the input's gradient with the sums when it comes first).
	grads := func(k kernel, out, g *tensor.Dense, order ...int) []*tensor.Dense {
		res := make([]*tensor.Dense, 3)
		for _, wrt := range order {
			d := zero(in[wrt].Shape())
			if err := k.backward(in, out, g, wrt, d); err != nil {
				t.Fatal(err)
			}
			res[wrt] = d
		}
		return res
	}

	fused := &batchNormPoolKernel[T]{bn: batchNormKernel[T]{batchNormState: state}}
	y := zero(pooled)
	if err := fused.forward(in, y); err != nil {
		t.Fatal(err)
	}
	got := append([]*tensor.Dense{y}, grads(fused, y, gOut, 0, 1, 2)...)
	if err := fused.forward(in, y); err != nil {
		t.Fatal(err)
	}
	got = append(got, grads(fused, y, gOut, 2, 1, 0)...)

	bn := &batchNormKernel[T]{batchNormState: state}
	pool := &maxPool2DKernel[T]{size: 2, stride: 2}
	z, y2, gz := zero(shape), zero(pooled), zero(shape)
	if err := bn.forward(in, z); err != nil {
		t.Fatal(err)
	}
	if err := pool.forward([]*tensor.Dense{z}, y2); err != nil {
		t.Fatal(err)
	}
	if err := pool.backward([]*tensor.Dense{z}, y2, gOut, 0, gz); err != nil {
		t.Fatal(err)
	}
	want := append([]*tensor.Dense{y2}, grads(bn, z, gz, 0, 1, 2)...)
	want = append(want, want[1:]...)

	for i, what := range []string{"y", "dx", "dγ", "dβ", "dx (asked last)", "dγ (asked second)", "dβ (asked first)"} {
		g, w := values[T](got[i]), values[T](want[i])
		for j := range w {
			if math.Float64bits(float64(g[j])) != math.Float64bits(float64(w[j])) {
				t.Fatalf("%s[%d] = %v fused, %v from the layers", what, j, g[j], w[j])
			}
		}
	}
}

// The ConvNet's first block: BatchNorm2D+MaxPool2D(2) on [32, 64, 32, 32]
// in float32, forward and the three gradients (a training step's share).
//
//	go test -run '^$' -bench BatchNormPoolStep ./graph
func BenchmarkBatchNormPoolStep(b *testing.B) {
	shape, pooled := []int{32, 64, 32, 32}, []int{32, 64, 16, 16}
	rng := rand.New(rand.NewPCG(1, 2))
	dense := func(s []int, f func() float32) *tensor.Dense {
		v := make([]float32, tensor.Shape(s).TotalSize())
		for i := range v {
			v[i] = f()
		}
		return tensor.New(tensor.WithShape(s...), tensor.WithBacking(v))
	}
	one := func() float32 { return 1 }
	in := []*tensor.Dense{
		dense(shape, func() float32 { return float32(rng.NormFloat64()) }),
		dense([]int{64}, one), dense([]int{64}, one), dense([]int{64}, one), dense([]int{64}, one),
	}
	y, g := dense(pooled, one), dense(pooled, func() float32 { return float32(rng.NormFloat64()) })
	grads := []*tensor.Dense{dense(shape, one), dense([]int{64}, one), dense([]int{64}, one)}
	k := &batchNormPoolKernel[float32]{bn: batchNormKernel[float32]{batchNormState: batchNormState{training: true, eps: 1e-5, momentum: 0.1}}}
	for i := 0; i < b.N; i++ {
		if err := k.forward(in, y); err != nil {
			b.Fatal(err)
		}
		for wrt, d := range grads {
			if err := k.backward(in, y, g, wrt, d); err != nil {
				b.Fatal(err)
			}
		}
	}
}
