//go:build amd64 && !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// convPool8x32 and convPool4x32 give the bits of convPool12x32 on the
// rows (1–8, 1–4) they compute, for the ConvNet's layers and an odd shape, every mask width,
// with guards around y.
func TestConvPool8x32(t *testing.T) {
	if Supported() < AVX512 {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(39, 8))
	for _, s := range []struct{ c, h, w, kh, kw, pad int }{{3, 32, 32, 3, 3, 1}, {64, 16, 16, 3, 3, 1}, {5, 9, 19, 2, 3, 0}} {
		p, err := NewConvPool(s.c, s.h, s.w, 12, s.kh, s.kw, s.pad, randFloats(rng, 12*s.c*s.kh*s.kw), randFloats(rng, 12))
		if err != nil {
			t.Fatal(err)
		}
		xp := make([]float32, p.PaddedLen())
		p.Pad(xp, randFloats(rng, s.c*s.h*s.w))
		plane := p.ph * p.pw
		for rows := 1; rows <= 8; rows++ {
			for cols := 1; cols <= min(8, p.pw); cols++ {
				want, got := newGuardedF32(12*plane), newGuardedF32(12*plane)
				convPool12x32(&p.panels[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &want.v()[0], plane, &p.bias[0], rows, uint32(1)<<cols-1)
				convPool8x32(&p.panels[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &got.v()[0], plane, &p.bias[0], rows, uint32(1)<<cols-1)
				got.check(t, "convPool8x32")
				for i := range got.all {
					if math.Float32bits(got.all[i]) != math.Float32bits(want.all[i]) {
						t.Fatalf("%+v rows %d cols %d: convPool8x32 gives %v at %d, convPool12x32 %v", s, rows, cols, got.all[i], i-guardLen, want.all[i])
					}
				}
				if rows > 4 {
					continue
				}
				got4 := newGuardedF32(12 * plane)
				convPool4x32(&p.panels[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &got4.v()[0], plane, &p.bias[0], rows, uint32(1)<<cols-1)
				got4.check(t, "convPool4x32")
				for i := range got4.all {
					if math.Float32bits(got4.all[i]) != math.Float32bits(want.all[i]) {
						t.Fatalf("%+v rows %d cols %d: convPool4x32 gives %v at %d, convPool12x32 %v", s, rows, cols, got4.all[i], i-guardLen, want.all[i])
					}
				}
			}
		}
	}
}

// conv8x32 and conv4x32 give the bits of conv12x32 on the rows (1–8,
// 1–4) they compute, for the ConvNet's layers and an odd shape, every
// mask width of both halves, with guards around y.
func TestConv8x32(t *testing.T) {
	if Supported() < AVX512 {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(41, 8))
	for _, s := range []struct{ c, h, w, kh, kw, pad int }{{3, 32, 32, 3, 3, 1}, {64, 16, 16, 3, 3, 1}, {5, 9, 19, 2, 3, 0}} {
		p, err := NewConv(s.c, s.h, s.w, 12, s.kh, s.kw, s.pad)
		if err != nil {
			t.Fatal(err)
		}
		p.Pack(randFloats(rng, 12*s.c*s.kh*s.kw))
		bias := randFloats(rng, 12)
		xp := make([]float32, p.PaddedLen())
		p.Pad(xp, randFloats(rng, s.c*s.h*s.w))
		plane := p.oh * p.ow
		for rows := 1; rows <= 8; rows++ {
			for cols := 1; cols <= min(16, p.ow); cols++ {
				for _, lower := range []uint32{0, 1<<cols - 1} {
					run := func(f func(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy, ow int, bias *float32, rows int, mask0, mask1 uint32)) guardedF32 {
						g := newGuardedF32(12 * plane)
						f(&p.panels[0], &xp[0], p.c, p.kh, p.kw, p.hp*p.wp, p.wp, &g.v()[0], plane, p.ow, &bias[0], rows, 1<<cols-1, lower)
						g.check(t, "conv tile")
						return g
					}
					want := run(conv12x32)
					for name, f := range map[string]func(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy, ow int, bias *float32, rows int, mask0, mask1 uint32){"conv8x32": conv8x32, "conv4x32": conv4x32} {
						if name == "conv4x32" && rows > 4 {
							continue
						}
						got := run(f)
						for i := range got.all {
							if math.Float32bits(got.all[i]) != math.Float32bits(want.all[i]) {
								t.Fatalf("%+v rows %d cols %d lower %b: %s gives %v at %d, conv12x32 %v", s, rows, cols, lower, name, got.all[i], i-guardLen, want.all[i])
							}
						}
					}
				}
			}
		}
	}
}
