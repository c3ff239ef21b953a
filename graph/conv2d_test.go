package graph

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// conv2dCases cover the shapes the im2col bounds arithmetic must get right:
// padding wider than the kernel's reach, strides that skip the last
// column, rectangular kernels and 1×1 kernels.
var conv2dCases = []struct {
	name  string
	shape []int // x [N, C, H, W]
	cfg   Conv2DConfig
}{
	{"3x3", []int{2, 3, 6, 5}, Conv2DConfig{Out: 4, Kernel: 3, Bias: true}},
	{"3x3Pad1", []int{2, 2, 5, 5}, Conv2DConfig{Out: 3, Kernel: 3, Padding: 1, Bias: true}},
	{"Stride2Pad1", []int{3, 2, 7, 6}, Conv2DConfig{Out: 2, Kernel: 3, Stride: 2, Padding: 1}},
	{"Rect2x3Stride2", []int{2, 3, 6, 7}, Conv2DConfig{Out: 2, KH: 2, KW: 3, Stride: 2, Bias: true}},
	{"Pad2Stride3", []int{1, 2, 4, 5}, Conv2DConfig{Out: 3, Kernel: 3, Stride: 3, Padding: 2, Bias: true}},
	{"1x1", []int{3, 4, 3, 2}, Conv2DConfig{Out: 2, Kernel: 1}},
	// Stride 1 with outputs as wide as the inputs: im2col's shifted rows.
	{"5x5Pad2", []int{2, 2, 6, 7}, Conv2DConfig{Out: 3, Kernel: 5, Padding: 2, Bias: true}},
	{"Rect3x1Pad1", []int{2, 2, 4, 3}, Conv2DConfig{Out: 2, KH: 1, KW: 3, Padding: 1}},
	{"3x3Pad1Narrow", []int{2, 2, 2, 1}, Conv2DConfig{Out: 2, Kernel: 3, Padding: 1}},
}

func TestConv2DGradients(t *testing.T) {
	for _, c := range conv2dCases {
		t.Run(c.name, func(t *testing.T) {
			err := GradCheck(func(b *Builder) (*G.Node, []*G.Node, error) {
				// A parameter, not an input: Conv2D gives graph inputs no gradient.
				x := b.Param("x", c.shape, Normal(1))
				y := Conv2D(b, "conv", x, c.cfg)
				wrt := []*G.Node{x, b.ParamNode("conv.weight")}
				if c.cfg.Bias {
					wrt = append(wrt, b.ParamNode("conv.bias"))
				}
				return weightedSum(b, y), wrt, nil
			}, GradCheckConfig{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Conv2D against the definition, y[n,o,i,j] = b[o] +
// Σ_c,p,q w[o,c,p,q]·x[n, c, i·s+p−pad, j·s+q−pad] (zero outside the image).
func TestConv2DMatchesDefinition(t *testing.T) {
	for i, c := range conv2dCases {
		t.Run(c.name, func(t *testing.T) {
			ps := NewParams(tensor.Float64, uint64(i))
			b := NewBuilder(ps, Eval, nil)
			x := randomInput(b, "x", uint64(40+i), c.shape...)
			y := Conv2D(b, "conv", x, c.cfg)
			if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
				t.Fatal(err)
			}
			n, ch, h, w := c.shape[0], c.shape[1], c.shape[2], c.shape[3]
			kh, kw, s, pad := max(c.cfg.KH, c.cfg.Kernel), max(c.cfg.KW, c.cfg.Kernel), max(c.cfg.Stride, 1), c.cfg.Padding
			oh, ow := (h+2*pad-kh)/s+1, (w+2*pad-kw)/s+1
			if got, want := y.Shape(), (tensor.Shape{n, c.cfg.Out, oh, ow}); !got.Eq(want) {
				t.Fatalf("output shape %v, want %v", got, want)
			}
			xv, wv := x.Value().(*tensor.Dense).Float64s(), ps.Get("conv.weight").Value.Float64s()
			got := y.Value().(*tensor.Dense).Float64s()
			for nn := 0; nn < n; nn++ {
				for o := 0; o < c.cfg.Out; o++ {
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							want := 0.0
							if c.cfg.Bias {
								want = ps.Get("conv.bias").Value.Float64s()[o]
							}
							for cc := 0; cc < ch; cc++ {
								for p := 0; p < kh; p++ {
									for q := 0; q < kw; q++ {
										yy, xx := oy*s+p-pad, ox*s+q-pad
										if yy >= 0 && yy < h && xx >= 0 && xx < w {
											want += wv[((o*ch+cc)*kh+p)*kw+q] * xv[((nn*ch+cc)*h+yy)*w+xx]
										}
									}
								}
							}
							if g := got[((nn*c.cfg.Out+o)*oh+oy)*ow+ox]; math.Abs(g-want) > 1e-12 {
								t.Fatalf("y[%d,%d,%d,%d] = %v, want %v", nn, o, oy, ox, g, want)
							}
						}
					}
				}
			}
		})
	}
}

// The parameters follow nn.Conv2d's names, shapes and initialization
// bounds: U(±1/√fan_in) for both weight and bias.
func TestConv2DParameters(t *testing.T) {
	ps := NewParams(tensor.Float32, 1)
	b := NewBuilder(ps, Train, nil)
	Conv2D(b, "layer1.0", b.Input("x", 2, 3, 8, 8), Conv2DConfig{Out: 16, Kernel: 3, Padding: 1, Bias: true})
	var names []string
	for _, p := range ps.List() {
		names = append(names, p.Name)
	}
	if want := []string{"layer1.0.weight", "layer1.0.bias"}; !slices.Equal(names, want) {
		t.Fatalf("parameters %v, want %v", names, want)
	}
	if got := ps.Get("layer1.0.weight").Shape(); !slices.Equal(got, []int{16, 3, 3, 3}) {
		t.Fatalf("weight shape %v", got)
	}
	bound := float32(1 / math.Sqrt(27))
	for _, name := range names {
		var peak float32
		for _, v := range ps.Get(name).Value.Float32s() {
			peak = max(peak, float32(math.Abs(float64(v))))
		}
		if peak > bound || peak < bound/2 {
			t.Errorf("%s: largest |value| %v, want close to and at most 1/√27 = %v", name, peak, bound)
		}
	}
}

// The gradient of a graph input is left out; that of a parameter or of a
// computed node is not.
func TestConv2DInputGradientOnlyWhenUsable(t *testing.T) {
	b := NewBuilder(NewParams(tensor.Float32, 1), Train, nil)
	image := b.Input("image", 2, 3, 6, 6)
	param := b.Param("p", []int{2, 3, 6, 6}, Normal(1))
	computed := ReLU(param)
	for _, c := range []struct {
		name string
		x    *G.Node
		want bool
	}{{"input", image, false}, {"parameter", param, true}, {"computed", computed, true}} {
		y := Conv2D(b, "conv", c.x, Conv2DConfig{Out: 2, Kernel: 3})
		if got := y.Op().(*kernelOp).k.differentiable()[0]; got != c.want {
			t.Errorf("%s: differentiable wrt x = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestConv2DRejectsBadShapes(t *testing.T) {
	k := &conv2dKernel[float32]{stride: 1, pad: 0}
	cases := []struct {
		name string
		in   []tensor.Shape
		want string
	}{
		{"channels differ", []tensor.Shape{{1, 3, 5, 5}, {2, 4, 3, 3}}, "expected [N, C, H, W] and [O, C, KH, KW]"},
		{"3-D input", []tensor.Shape{{1, 3, 5}, {2, 3, 3, 3}}, "expected [N, C, H, W]"},
		{"bias size", []tensor.Shape{{1, 3, 5, 5}, {2, 3, 3, 3}, {3}}, "bias (3), expected [2]"},
		{"kernel taller than input", []tensor.Shape{{1, 3, 2, 5}, {2, 3, 3, 3}}, "input 2×5 (padding 0) is smaller than the kernel 3×3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := k.outShape(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// validRange must agree with testing every position.
func TestValidRange(t *testing.T) {
	for off := -4; off <= 4; off++ {
		for s := 1; s <= 3; s++ {
			for n := 0; n <= 6; n++ {
				for size := 1; size <= 7; size++ {
					lo, hi := validRange(off, s, n, size)
					for o := 0; o < n; o++ {
						in := o*s+off >= 0 && o*s+off < size
						if in != (o >= lo && o < hi) {
							t.Fatalf("validRange(off %d, s %d, n %d, size %d) = [%d, %d): position %d inside=%v", off, s, n, size, lo, hi, o, in)
						}
					}
				}
			}
		}
	}
}

// BenchmarkConv2D times the passes of the ConvNet's second convolution
// (batch 32, 64→128 channels, 16×16, 3×3, padding 1) in float32:
//
//	go test -run '^$' -bench Conv2D ./graph
func BenchmarkConv2D(b *testing.B) {
	const n, c, h, w, o = 32, 64, 16, 16, 128
	dense := func(shape ...int) *tensor.Dense {
		t := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
		for i := range t.Float32s() {
			t.Float32s()[i] = float32(i%13) - 6
		}
		return t
	}
	x, wt, bias := dense(n, c, h, w), dense(o, c, 3, 3), dense(o)
	in := []*tensor.Dense{x, wt, bias}
	k := &conv2dKernel[float32]{stride: 1, pad: 1, inputGrad: true}
	y, gy, dx, dw := dense(n, o, h, w), dense(n, o, h, w), dense(n, c, h, w), dense(o, c, 3, 3)
	flops := float64(2 * n * o * h * w * c * 9)
	for _, pass := range []struct {
		name string
		run  func()
	}{
		{"forward", func() { _ = k.forward(in, y) }},
		{"dx", func() { zero(dx); _ = k.backward(in, y, gy, 0, dx) }},
		{"dw", func() { zero(dw); _ = k.backward(in, y, gy, 1, dw) }},
	} {
		b.Run(pass.name, func(b *testing.B) {
			for b.Loop() {
				pass.run()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// For a given thread count the weight gradient is the same bits every run;
// other thread counts sum the chunks differently, within rounding.
func TestConv2DWeightGradientIsDeterministic(t *testing.T) {
	grad := func(procs int) []float64 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		b := NewBuilder(NewParams(tensor.Float64, 1), Train, nil)
		x := randomInput(b, "x", 70, 7, 3, 9, 9)
		loss := weightedSum(b, Conv2D(b, "conv", x, Conv2DConfig{Out: 4, Kernel: 3, Padding: 1}))
		gs, err := G.Grad(loss, b.ParamNode("conv.weight"))
		if err != nil {
			t.Fatal(err)
		}
		if err := G.NewTapeMachine(b.G).RunAll(); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(gs[0].Value().(*tensor.Dense).Float64s())
	}
	a, a2, one := grad(3), grad(3), grad(1)
	if !slices.Equal(a, a2) {
		t.Fatal("two runs with 3 threads gave different weight gradients")
	}
	for i := range a {
		if math.Abs(a[i]-one[i]) > 1e-12*math.Max(1, math.Abs(one[i])) {
			t.Fatalf("element %d: %v with 3 threads, %v with 1", i, a[i], one[i])
		}
	}
}

// TestIm2colShiftedRows checks im2col and col2imAdd in float32 against
// their definitions where the rows are shifted planes (stride 1, output as
// wide as the input), on odd planes and kernels, with guard values around
// the column matrix and the image gradient.
func TestIm2colShiftedRows(t *testing.T) {
	const guard = float32(-7.25)
	for _, c := range []struct{ ch, h, w, kh, kw, pad int }{
		{3, 32, 32, 3, 3, 1}, {64, 16, 16, 3, 3, 1}, {2, 5, 7, 3, 3, 1}, {2, 6, 9, 5, 5, 2},
		{1, 3, 17, 1, 3, 1}, {2, 2, 1, 3, 3, 1}, {1, 1, 1, 3, 3, 1},
	} {
		k := &conv2dKernel[float32]{stride: 1, pad: c.pad}
		d := conv2dDims{n: 1, c: c.ch, h: c.h, w: c.w, kh: c.kh, kw: c.kw}
		d.oh, d.ow = c.h+2*c.pad-c.kh+1, c.w+2*c.pad-c.kw+1
		d.ckk, d.hw, d.ohw = c.ch*c.kh*c.kw, c.h*c.w, d.oh*d.ow
		if d.ow != d.w {
			t.Fatalf("%+v: not a shifted case", c)
		}
		rng := rand.New(rand.NewPCG(uint64(c.h), uint64(c.w)))
		x := make([]float32, d.c*d.hw)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		const pad = 16
		colAll := make([]float32, d.ckk*d.ohw+2*pad)
		for i := range colAll {
			colAll[i] = guard
		}
		col := colAll[pad : pad+d.ckk*d.ohw]
		k.im2col(col, x, d)
		g := make([]float32, len(col)) // a column gradient
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		dxAll := make([]float32, d.c*d.hw+2*pad)
		for i := range dxAll {
			dxAll[i] = guard
		}
		dx := dxAll[pad : pad+d.c*d.hw]
		clear(dx)
		want := make([]float64, len(dx))
		k.col2imAdd(dx, append([]float32(nil), g...), d)
		for ci := 0; ci < d.c; ci++ {
			for i := 0; i < d.kh; i++ {
				for j := 0; j < d.kw; j++ {
					q := (ci*d.kh+i)*d.kw + j
					for oy := 0; oy < d.oh; oy++ {
						for ox := 0; ox < d.ow; ox++ {
							y, xx := oy+i-c.pad, ox+j-c.pad
							var v float32
							in := y >= 0 && y < d.h && xx >= 0 && xx < d.w
							if in {
								v = x[ci*d.hw+y*d.w+xx]
								want[ci*d.hw+y*d.w+xx] += float64(g[q*d.ohw+oy*d.ow+ox])
							}
							if got := col[q*d.ohw+oy*d.ow+ox]; got != v {
								t.Fatalf("%+v: col[%d, %d·%d+%d] = %v, want %v", c, q, oy, d.ow, ox, got, v)
							}
						}
					}
				}
			}
		}
		for i, v := range dx {
			if math.Abs(float64(v)-want[i]) > 1e-5 {
				t.Fatalf("%+v: dx[%d] = %v, want %v", c, i, v, want[i])
			}
		}
		for _, all := range [][]float32{colAll[:pad], colAll[len(colAll)-pad:], dxAll[:pad], dxAll[len(dxAll)-pad:]} {
			for _, v := range all {
				if v != guard {
					t.Fatalf("%+v: a guard value became %v", c, v)
				}
			}
		}
	}
}

// The bias gradient takes its plane sums from the weight gradient's pass
// when that came first in the same backward pass; it must give the bits
// of summing the planes itself (a bias gradient alone, after a new
// forward pass), which it also falls back to.
func TestConv2DBiasGradientFromWeightPass(t *testing.T) {
	const n, c, h, w, o = 5, 3, 7, 9, 6
	rng := rand.New(rand.NewPCG(5, 6))
	dense := func(shape ...int) *tensor.Dense {
		t := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
		for i := range t.Float32s() {
			t.Float32s()[i] = float32(rng.NormFloat64())
		}
		return t
	}
	x, wt, bias := dense(n, c, h, w), dense(o, c, 3, 3), dense(o)
	in := []*tensor.Dense{x, wt, bias}
	k := &conv2dKernel[float32]{stride: 1, pad: 1}
	y, gy, dw := dense(n, o, h, w), dense(n, o, h, w), dense(o, c, 3, 3)
	biasGrad := func(weightFirst bool) []float32 {
		db := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(o))
		copy(db.Float32s(), []float32{0.5, -1, 2, 0, 3, -0.25}) // the gradient adds to what is there
		if err := k.forward(in, y); err != nil {
			t.Fatal(err)
		}
		if weightFirst {
			if err := k.backward(in, y, gy, 1, dw); err != nil {
				t.Fatal(err)
			}
		}
		if fromWeightPass := k.biasSumsOf == k.forwards; fromWeightPass != weightFirst {
			t.Fatalf("weight gradient first %v: the bias gradient takes the weight pass's sums: %v", weightFirst, fromWeightPass)
		}
		if err := k.backward(in, y, gy, 2, db); err != nil {
			t.Fatal(err)
		}
		return db.Float32s()
	}
	fused, alone := biasGrad(true), biasGrad(false)
	for i := range fused {
		if math.Float32bits(fused[i]) != math.Float32bits(alone[i]) {
			t.Fatalf("bias gradient %d: %v from the weight pass's sums, %v summed alone", i, fused[i], alone[i])
		}
	}

	// Sums that were forgotten (a per-example rule's backward), or made by
	// a kernel that ran no forward pass (a per-example clone), are never
	// taken: the bias gradient of another output gradient is its own.
	other := dense(n, o, h, w)
	wantDB := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(o))
	if err := (&conv2dKernel[float32]{stride: 1, pad: 1}).backward(in, y, other, 2, wantDB); err != nil {
		t.Fatal(err)
	}
	want := wantDB.Float32s()
	for _, c := range []struct {
		name string
		k    *conv2dKernel[float32]
		prep func(k *conv2dKernel[float32])
	}{
		{"forgotten", k, func(k *conv2dKernel[float32]) {
			if err := k.forward(in, y); err != nil {
				t.Fatal(err)
			}
			if err := k.backward(in, y, gy, 1, dw); err != nil {
				t.Fatal(err)
			}
			forgetSums(k)
		}},
		{"no forward", &conv2dKernel[float32]{stride: 1, pad: 1}, func(k *conv2dKernel[float32]) {
			if err := k.backward(in, y, gy, 1, dw); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		c.prep(c.k)
		db := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(o))
		if err := c.k.backward(in, y, other, 2, db); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(db.Float32s(), want) {
			t.Fatalf("%s: bias gradient %v, want %v (its own output gradient's)", c.name, db.Float32s(), want)
		}
	}
}
