package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// The serving graph's AddLayerNorm kernel against the two kernels it
// replaces, Add then LayerNorm, bit for bit, at every level, on row counts
// and widths from the kernel tests' sizes list (odd widths and vector
// tails), with a row of NaN and a constant row, and guard regions around
// its output.
func TestAddLayerNormKernel(t *testing.T) {
	const gl = 16
	const guard = float32(-1234.5678)
	sizes := []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65}
	rng := rand.New(rand.NewPCG(71, 72))
	for l := kern.Generic; l <= kern.Supported(); l++ {
		restore := kern.Set(l)
		for _, rows := range []int{1, 2, 3, 7, 13} {
			for _, d := range sizes {
				name := fmt.Sprintf("%s rows=%d d=%d", l, rows, d)
				x, r := randn32(rng, rows*d), randn32(rng, rows*d)
				gamma, beta := randn32(rng, d), randn32(rng, d)
				if rows > 2 {
					x[d+d/2] = float32(math.NaN()) // a row of NaN
					for j := 0; j < d; j++ {
						x[2*d+j], r[2*d+j] = 0.25, 0.5 // a constant row: variance 0
					}
				}
				dense := func(v []float32, shape ...int) *tensor.Dense {
					return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
				}
				sum := make([]float32, rows*d)
				if err := (addKernel[float32]{}).forward([]*tensor.Dense{dense(x, rows, d), dense(r, rows, d)}, dense(sum, rows, d)); err != nil {
					t.Fatal(err)
				}
				want := make([]float32, rows*d)
				ln := &layerNormKernel[float32]{eps: 1e-12}
				if err := ln.forward([]*tensor.Dense{dense(sum, rows, d), dense(gamma, d), dense(beta, d)}, dense(want, rows, d)); err != nil {
					t.Fatal(err)
				}
				all := make([]float32, rows*d+2*gl)
				for i := range all {
					all[i] = guard
				}
				got := all[gl : gl+rows*d]
				k := &addLayerNormKernel{ln: *ln}
				if _, err := k.outShape([]tensor.Shape{{rows, d}, {rows, d}, {d}, {d}}); err != nil {
					t.Fatal(err)
				}
				if err := k.forward([]*tensor.Dense{dense(x, rows, d), dense(r, rows, d), dense(gamma, d), dense(beta, d)}, dense(got, rows, d)); err != nil {
					t.Fatal(err)
				}
				for i, v := range all {
					c := i - gl
					if c < 0 || c >= rows*d {
						if math.Float32bits(v) != math.Float32bits(guard) {
							t.Fatalf("%s: wrote %v at %d outside the output", name, v, c)
						}
						continue
					}
					if math.Float32bits(v) != math.Float32bits(want[c]) {
						t.Fatalf("%s: [%d][%d] = %v, Add then LayerNorm give %v", name, c/d, c%d, v, want[c])
					}
				}
			}
		}
		restore()
	}
	if _, err := (&addLayerNormKernel{}).outShape([]tensor.Shape{{2, 3}, {2, 4}, {3}, {3}}); err == nil {
		t.Errorf("AddLayerNorm of shapes [2, 3] and [2, 4]: no error")
	}
}
