package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// packedWeights.productT (yᵀ = W·xᵀ, a batch of few rows) at every level
// with the packed product, on the kernel tests' sizes for the rows and
// output widths around the tiles, depths across the depth block, with and
// without a bias, rectified or not: the same bits as productThen (x·Wᵀ,
// which TestPackedWeightsProductSizes checks against the float64
// product), guards around y (NaN in it before: it is not read), and its
// buffers reused across sizes as a serving kernel reuses them.
func TestPackedWeightsProductT(t *testing.T) {
	const gl = 16
	const guard = float32(-1234.5678)
	sizes := []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65}
	rng := rand.New(rand.NewPCG(71, 72))
	count := 0
	for l := kern.AVX2; l <= kern.Supported(); l++ {
		restore := kern.Set(l)
		var xts [][]float32
		var tsite transposedSite
		var yt []float32
		for _, out := range append(sizes[:len(sizes):len(sizes)], 200) { // 200: several stripes
			for _, in := range []int{1, 17, 300} {
				w := randn32(rng, out*in)
				var pw packedWeights
				pw.pack(w, out, in)
				pw.packRows(w, out, in)
				for _, m := range sizes {
					count++
					var bias []float32 // a bias on every other case
					if count%2 == 0 {
						bias = randn32(rng, out)
					}
					x := randn32(rng, m*in)
					want := make([]float32, m*out)
					pw.product(new(productSite), x, m, in, out, bias, want)
					all := make([]float32, m*out+2*gl)
					for i := range all {
						all[i] = guard
					}
					y := all[gl : gl+m*out]
					for i := range y {
						y[i] = float32(math.NaN()) // not read
					}
					relu := count%3 == 0 // rectified on every third case
					if relu {
						for i, v := range want {
							want[i] = max(v, 0)
						}
					}
					yt = resizeT(yt, m*out)
					pw.productT(&tsite, x, m, in, out, bias, y, &xts, yt, relu)
					for i, g := range all {
						c := i - gl
						if c < 0 || c >= m*out {
							if math.Float32bits(g) != math.Float32bits(guard) {
								t.Fatalf("%s %dx%dx%d: wrote %v at %d outside y", l, m, out, in, g, c)
							}
							continue
						}
						if math.Float32bits(g) != math.Float32bits(want[c]) {
							t.Fatalf("%s %dx%dx%d bias %v relu %v: y[%d][%d] = %v, product's %v", l, m, out, in, bias != nil, relu, c/out, c%out, g, want[c])
						}
					}
				}
			}
		}
		restore()
	}
}

// transposedRows takes the transposed product only where the level
// streams it, for weights too large for the caches and a batch of fewer
// rows than outputs that fills its panels of columns but for an eighth.
func TestTransposedRows(t *testing.T) {
	for l := kern.Generic; l <= kern.Supported(); l++ {
		restore := kern.Set(l)
		if got := transposedRows(32, 8192, 1024); got != kern.PackedAStreams() {
			t.Errorf("%s: transposedRows(32, 8192, 1024) = %v with PackedAStreams %v", l, got, kern.PackedAStreams())
		}
		restore()
	}
	defer kern.Set(kern.Supported())()
	if !kern.PackedAStreams() {
		t.Skip("no streaming product")
	}
	nr := kern.PackedCols()
	big := minTransposedWeights
	for _, c := range []struct {
		m, in, out int
		want       bool
	}{
		{nr, big / 1024, 1024, true}, {2 * nr, big / 1024, 1024, true}, {nr - 1, big / 1024, 1024, true},
		{nr, big / nr, nr, false}, {nr, big/(nr+1) + 1, nr + 1, true}, {nr, 1024, 1024, false},
		{1, big / 1024, 1024, false}, {nr/2 - 1, big / 1024, 1024, false}, {nr + 1, big / 1024, 1024, false},
		{4096, big / 1024, 1024, false},
	} {
		if got := transposedRows(c.m, c.in, c.out); got != c.want {
			t.Errorf("transposedRows(%d, %d, %d) = %v at %d columns a panel, want %v", c.m, c.in, c.out, got, nr, c.want)
		}
	}
}

// LinearReLU's serving kernel gives the bits of the Linear kernel followed
// by ReLU's max(v, 0), on the transposed product (the ConvNet's fc.0 at a
// batch of 32: weights past minTransposedWeights) and on x·Wᵀ, with a NaN
// in x spreading as it does through the ReLU node.
func TestLinearReLUInfer(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	for l := kern.Generic; l <= kern.Supported(); l++ {
		restore := kern.Set(l)
		if !kern.Packed() {
			restore()
			continue // no packed product: Linear builds the two nodes
		}
		for _, c := range []struct{ m, in, out int }{{32, minTransposedWeights / 1024, 1024}, {5, 33, 17}, {32, 64, 48}} {
			x, w, b := randn32(rng, c.m*c.in), randn32(rng, c.out*c.in), randn32(rng, c.out)
			x[c.in+3] = float32(math.NaN())
			in := []*tensor.Dense{
				tensor.New(tensor.WithShape(c.m, c.in), tensor.WithBacking(x)),
				tensor.New(tensor.WithShape(c.out, c.in), tensor.WithBacking(w)),
				tensor.New(tensor.WithShape(c.out), tensor.WithBacking(b)),
			}
			want := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(c.m, c.out))
			got := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(c.m, c.out))
			if err := (&linearInferKernel{w: new(packedWeights)}).forward(in, want); err != nil {
				t.Fatal(err)
			}
			wv := want.Data().([]float32)
			for i, v := range wv {
				wv[i] = max(v, 0)
			}
			if err := (&linearInferKernel{w: new(packedWeights), relu: true}).forward(in, got); err != nil {
				t.Fatal(err)
			}
			for i, v := range got.Data().([]float32) {
				if math.Float32bits(v) != math.Float32bits(wv[i]) {
					t.Fatalf("%s %+v: y[%d] = %v, ReLU(Linear) %v", l, c, i, v, wv[i])
				}
			}
		}
		restore()
	}
}
