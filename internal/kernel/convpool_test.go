package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// convRef is a stride-1 convolution in float64, the plain way, without
// bias: [o, oh, ow].
func convRef(x, w []float32, c, h, wd, o, kh, kw, pad int) []float64 {
	oh, ow := h+2*pad-kh+1, wd+2*pad-kw+1
	conv := make([]float64, o*oh*ow)
	for oc := range o {
		for oy := range oh {
			for ox := range ow {
				var s float64
				for ci := range c {
					for i := range kh {
						for j := range kw {
							y, xx := oy+i-pad, ox+j-pad
							if y < 0 || y >= h || xx < 0 || xx >= wd {
								continue
							}
							s += float64(w[((oc*c+ci)*kh+i)*kw+j]) * float64(x[(ci*h+y)*wd+xx])
						}
					}
				}
				conv[(oc*oh+oy)*ow+ox] = s
			}
		}
	}
	return conv
}

// convPoolRef is ConvPool in float64, the plain way: the whole
// convolution (convRef), then each 2×2 window's maximum plus the bias,
// rectified; NaN when a window holds one.
func convPoolRef(x, w, bias []float32, c, h, wd, o, kh, kw, pad int) []float64 {
	oh, ow := h+2*pad-kh+1, wd+2*pad-kw+1
	conv := convRef(x, w, c, h, wd, o, kh, kw, pad)
	ph, pw := oh/2, ow/2
	out := make([]float64, o*ph*pw)
	for oc := range o {
		for py := range ph {
			for px := range pw {
				m := math.Inf(-1)
				for _, v := range []float64{conv[(oc*oh+2*py)*ow+2*px], conv[(oc*oh+2*py)*ow+2*px+1], conv[(oc*oh+2*py+1)*ow+2*px], conv[(oc*oh+2*py+1)*ow+2*px+1]} {
					m = max(m, v) // NaN wins
				}
				out[(oc*ph+py)*pw+px] = max(m+float64(bias[oc]), 0)
			}
		}
	}
	return out
}

// ConvPool at every level against convPoolRef, over output channels from
// the sizes list (partial and several 12-channel panels), input sides
// around the tile's 8 pooled (16 convolution) columns, odd sides (the
// floor of the pooling), kernels 1×1 to 5×3 with and without padding,
// and split into tile ranges as the threads split it; guards around y.
func TestConvPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 1))
	type shape struct{ c, h, w, kh, kw, pad int }
	shapes := []shape{
		{3, 32, 32, 3, 3, 1}, {64, 16, 16, 3, 3, 1}, // the ConvNet's layers
		{1, 2, 2, 1, 1, 0}, {2, 3, 5, 3, 3, 1}, {1, 7, 9, 3, 3, 0}, {5, 9, 15, 3, 3, 1},
		{3, 17, 33, 3, 3, 1}, {2, 16, 31, 5, 3, 2}, {1, 33, 17, 1, 1, 0}, {7, 8, 65, 3, 3, 1},
	}
	for l := Generic; l <= Supported(); l++ {
		restore := Set(l)
		for si, s := range shapes {
			for _, o := range sizes[1:] {
				if si >= 2 && o > 17 && o != 33 {
					continue // the small shapes try a few channel counts
				}
				x := randFloats(rng, s.c*s.h*s.w)
				w := randFloats(rng, o*s.c*s.kh*s.kw)
				bias := randFloats(rng, o)
				p, err := NewConvPool(s.c, s.h, s.w, o, s.kh, s.kw, s.pad, w, bias)
				if err != nil {
					t.Fatal(err)
				}
				want := convPoolRef(x, w, bias, s.c, s.h, s.w, o, s.kh, s.kw, s.pad)
				oo, ph, pw := p.OutShape()
				if oo*ph*pw != len(want) {
					t.Fatalf("%+v o=%d: output %d×%d×%d, want %d values", s, o, oo, ph, pw, len(want))
				}
				xp := make([]float32, p.PaddedLen())
				for i := range xp {
					xp[i] = float32(math.NaN()) // Pad must write every value, padding included
				}
				p.Pad(xp, x)
				for i, v := range xp { // the zero-padded image, then zeros
					var want float32
					c, y, xx := i/(p.hp*p.wp), i/p.wp%p.hp-s.pad, i%p.wp-s.pad
					if c < s.c && y >= 0 && y < s.h && xx >= 0 && xx < s.w {
						want = x[(c*s.h+y)*s.w+xx]
					}
					if math.Float32bits(v) != math.Float32bits(want) {
						t.Fatalf("%+v: padded input %v at %d, want %v", s, v, i, want)
					}
				}
				for _, parts := range []int{1, 2, 3} {
					g := newGuardedF32(len(want))
					n := p.Tiles()
					for i := range parts {
						p.Run(g.v(), xp, i*n/parts, (i+1)*n/parts)
					}
					name := fmt.Sprintf("%s %+v o=%d parts=%d", l, s, o, parts)
					g.check(t, name)
					tol := 1e-5 * math.Sqrt(float64(s.c*s.kh*s.kw))
					for i, v := range g.v() {
						if d := math.Abs(float64(v) - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
							t.Fatalf("%s: y[%d] = %v, want %v", name, i, v, want[i])
						}
					}
				}
			}
		}
		restore()
	}
}

// A NaN input spreads to exactly the pooled outputs whose windows read
// it, at every level; elsewhere the results stay finite, and −0 and
// negative maxima come out as 0 (ReLU of the largest, not of the first).
func TestConvPoolNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 2))
	c, h, w, o := 2, 12, 20, 13
	x := randFloats(rng, c*h*w)
	wt := randFloats(rng, o*c*9)
	bias := randFloats(rng, o)
	for _, at := range []int{0, 5, w - 1, h*w - 1, h*w + 3*w + 7} {
		x := append([]float32(nil), x...)
		x[at] = float32(math.NaN())
		want := convPoolRef(x, wt, bias, c, h, w, o, 3, 3, 1)
		for l := Generic; l <= Supported(); l++ {
			restore := Set(l)
			p, err := NewConvPool(c, h, w, o, 3, 3, 1, wt, bias)
			if err != nil {
				t.Fatal(err)
			}
			xp := make([]float32, p.PaddedLen())
			p.Pad(xp, x)
			y := make([]float32, len(want))
			p.Run(y, xp, 0, p.Tiles())
			for i, v := range y {
				if math.IsNaN(want[i]) != (v != v) || v == v && math.Abs(float64(v)-want[i]) > 1e-4*(1+math.Abs(want[i])) {
					t.Fatalf("%s NaN at %d: y[%d] = %v, want %v", l, at, i, v, want[i])
				}
			}
			restore()
		}
	}
}

func TestNewConvPoolRejects(t *testing.T) {
	for _, c := range []struct{ c, h, w, o, kh, kw, pad, nw, nb int }{
		{0, 4, 4, 1, 3, 3, 1, 0, 1},
		{1, 2, 2, 1, 3, 3, 0, 9, 1}, // kernel larger than the input
		{1, 4, 4, 2, 3, 3, 1, 9, 2}, // weights for one channel
		{1, 4, 4, 2, 3, 3, 1, 18, 1},
		{1, 4, 4, 1, 3, 3, -1, 9, 1},
	} {
		if _, err := NewConvPool(c.c, c.h, c.w, c.o, c.kh, c.kw, c.pad, make([]float32, c.nw), make([]float32, c.nb)); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func BenchmarkConvPool(b *testing.B) {
	rng := rand.New(rand.NewPCG(27, 3))
	for _, s := range []struct{ c, h, w, o int }{{3, 32, 32, 64}, {64, 16, 16, 128}} {
		p, err := NewConvPool(s.c, s.h, s.w, s.o, 3, 3, 1, randFloats(rng, s.o*s.c*9), randFloats(rng, s.o))
		if err != nil {
			b.Fatal(err)
		}
		x, xp := randFloats(rng, s.c*s.h*s.w), make([]float32, p.PaddedLen())
		o, ph, pw := p.OutShape()
		y := make([]float32, o*ph*pw)
		b.Run(fmt.Sprintf("%dx%dx%d-%d", s.c, s.h, s.w, s.o), func(b *testing.B) {
			for b.Loop() {
				p.Pad(xp, x)
				p.Run(y, xp, 0, p.Tiles())
			}
			flops := 2 * float64(s.o*s.c*9*s.h*s.w)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		// The product alone that an im2col lowering runs, for comparison
		// in the same run (its im2col and pooling not counted).
		k, n := s.c*9, s.h*s.w
		w, col, c := randFloats(rng, s.o*k), randFloats(rng, k*n), make([]float32, s.o*n)
		b.Run(fmt.Sprintf("%dx%dx%d-%d/sgemm", s.c, s.h, s.w, s.o), func(b *testing.B) {
			for b.Loop() {
				Sgemm(1, false, false, s.o, n, k, 1, w, k, col, n, 0, c, n)
			}
			b.ReportMetric(2*float64(s.o*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
