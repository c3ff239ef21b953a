package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestMaxPool2DGradients(t *testing.T) {
	cases := []struct {
		name         string
		shape        []int
		size, stride int
	}{
		{"2x2", []int{2, 3, 4, 6}, 2, 0},
		{"FloorOddSizes", []int{2, 2, 5, 7}, 2, 0}, // the last row and column are dropped
		{"Overlap3Stride2", []int{1, 2, 7, 6}, 3, 2},
		{"Stride3Size2", []int{2, 1, 8, 8}, 2, 3}, // gaps between windows
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := GradCheck(func(b *Builder) (*G.Node, []*G.Node, error) {
				x := randomInput(b, "x", uint64(50+i), c.shape...)
				return weightedSum(b, MaxPool2D(x, c.size, c.stride)), []*G.Node{x}, nil
			}, GradCheckConfig{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// runPool pools x [1, 1, h, w] and returns the output and the gradient of
// the sum of the outputs with respect to x.
func runPool(t *testing.T, x []float64, h, w, size, stride int) (y, dx []float64) {
	t.Helper()
	b := NewBuilder(NewParams(tensor.Float64, 1), Train, nil)
	xn := constInput(b, "x", x, 1, 1, h, w)
	out := MaxPool2D(xn, size, stride)
	grads, err := G.Grad(G.Must(G.Sum(out)), xn)
	if err != nil {
		t.Fatal(err)
	}
	if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
		t.Fatal(err)
	}
	return out.Value().(*tensor.Dense).Float64s(), grads[0].Value().(*tensor.Dense).Float64s()
}

// Ties go to the first maximum in row-major order, as PyTorch's CPU kernel
// (which replaces its running maximum only on a strictly greater value);
// a NaN wins its window.
func TestMaxPool2DTiesAndNaN(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name     string
		x        []float64
		h, w     int
		size     int
		stride   int
		wantY    []float64
		wantGrad []float64
	}{
		{"tie goes to the first", []float64{
			1, 5, 5, 2,
			5, 0, 3, 5,
		}, 2, 4, 2, 2, []float64{5, 5}, []float64{
			0, 1, 1, 0,
			0, 0, 0, 0,
		}},
		{"overlapping windows share a maximum", []float64{
			0, 0, 0,
			0, 9, 0,
			0, 0, 0,
		}, 3, 3, 2, 1, []float64{9, 9, 9, 9}, []float64{
			0, 0, 0,
			0, 4, 0,
			0, 0, 0,
		}},
		{"NaN wins", []float64{
			1, nan,
			7, 3,
		}, 2, 2, 2, 2, []float64{nan}, []float64{
			0, 1,
			0, 0,
		}},
		{"NaN wins overlapping windows", []float64{
			1, nan, 2,
			3, 4, 5,
		}, 2, 3, 2, 1, []float64{nan, nan}, []float64{
			0, 2, 0,
			0, 0, 0,
		}},
		{"first maximum of a 3×3 window", []float64{
			1, 8, 2,
			8, 0, 8,
			3, 4, 5,
		}, 3, 3, 3, 3, []float64{8}, []float64{
			0, 1, 0,
			0, 0, 0,
			0, 0, 0,
		}},
		{"all -Inf", []float64{
			math.Inf(-1), math.Inf(-1),
			math.Inf(-1), math.Inf(-1),
		}, 2, 2, 2, 2, []float64{math.Inf(-1)}, []float64{
			1, 0,
			0, 0,
		}},
	}
	same := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(p, q float64) bool { return p == q || (p != p && q != q) })
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y, dx := runPool(t, c.x, c.h, c.w, c.size, c.stride)
			if !same(y, c.wantY) {
				t.Errorf("output %v, want %v", y, c.wantY)
			}
			if !same(dx, c.wantGrad) {
				t.Errorf("gradient %v, want %v", dx, c.wantGrad)
			}
		})
	}
}

func TestMaxPool2DShapes(t *testing.T) {
	cases := []struct {
		in           tensor.Shape
		size, stride int
		want         tensor.Shape
		err          bool
	}{
		{tensor.Shape{4, 64, 32, 32}, 2, 2, tensor.Shape{4, 64, 16, 16}, false},
		{tensor.Shape{4, 128, 7, 7}, 2, 2, tensor.Shape{4, 128, 3, 3}, false}, // floor mode
		{tensor.Shape{1, 1, 5, 4}, 3, 1, tensor.Shape{1, 1, 3, 2}, false},
		{tensor.Shape{1, 1, 1, 4}, 2, 2, nil, true},
		{tensor.Shape{1, 4, 4}, 2, 2, nil, true},
	}
	for _, c := range cases {
		k := &maxPool2DKernel[float32]{size: c.size, stride: c.stride}
		got, err := k.outShape([]tensor.Shape{c.in})
		if (err != nil) != c.err || (!c.err && !got.Eq(c.want)) {
			t.Errorf("outShape(%v, size %d, stride %d) = %v, %v; want %v (error %v)", c.in, c.size, c.stride, got, err, c.want, c.err)
		}
	}
}

// pool2x2, the unrolled 2×2 stride-2 forward pass, against the general
// window rule (first maximum, a NaN wins) written plainly, on plane sides
// from the kernel tests' sizes list (odd sides leave a row and a column
// out), with ties, NaNs and −Inf, and guard regions around its outputs.
func TestPool2x2MatchesGeneralRule(t *testing.T) {
	const gl = 16
	const guardY, guardA = float32(-1234.5678), int32(-0x5a5a5a5a)
	rng := rand.New(rand.NewPCG(61, 62))
	sides := []int{2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65}
	for _, h := range sides {
		for _, w := range sides {
			x := make([]float32, h*w)
			for i := range x {
				switch r := rng.IntN(40); {
				case r == 0:
					x[i] = float32(math.NaN())
				case r == 1:
					x[i] = float32(math.Inf(-1))
				default:
					x[i] = float32(rng.IntN(5)) // ties
				}
			}
			oh, ow := h/2, w/2
			yAll, aAll := make([]float32, oh*ow+2*gl), make([]int32, oh*ow+2*gl)
			for i := range yAll {
				yAll[i], aAll[i] = guardY, guardA
			}
			const base = 1000
			pool2x2(x, yAll[gl:gl+oh*ow], aAll[gl:gl+oh*ow], base, w, oh, ow)
			for i := range yAll {
				o := i - gl
				if o < 0 || o >= oh*ow {
					if math.Float32bits(yAll[i]) != math.Float32bits(guardY) || aAll[i] != guardA {
						t.Fatalf("%d×%d: wrote (%v, %d) at %d of a guard region", h, w, yAll[i], aAll[i], o)
					}
					continue
				}
				oy, ox := o/ow, o%ow
				best, at := float32(math.Inf(-1)), 2*oy*w+2*ox
			window:
				for r := 2 * oy; r < 2*oy+2; r++ {
					for c := 2 * ox; c < 2*ox+2; c++ {
						if v := x[r*w+c]; v > best || v != v {
							best, at = v, r*w+c
							if v != v {
								break window
							}
						}
					}
				}
				if math.Float32bits(yAll[i]) != math.Float32bits(best) && !(best != best && yAll[i] != yAll[i]) || aAll[i] != base+int32(at) {
					t.Fatalf("%d×%d: output (%d, %d) = (%v, %d), want (%v, %d)", h, w, oy, ox, yAll[i], aAll[i], best, base+int32(at))
				}
			}
		}
	}
}
