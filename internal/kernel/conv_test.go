package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Conv at every level against convRef plus the bias, over output
// channels from the sizes list (partial and several 12-channel panels),
// sides around the tile's 16 columns and two rows (odd heights leave a
// last tile without its lower row), kernels 1×1 to 5×3 with and without
// padding, tile ranges split as threads split them, and weights packed
// again over an earlier packing; guards around y.
func TestConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 1))
	type shape struct{ c, h, w, kh, kw, pad int }
	shapes := []shape{
		{3, 32, 32, 3, 3, 1}, {64, 16, 16, 3, 3, 1}, // the ConvNet's layers
		{1, 1, 1, 1, 1, 0}, {2, 3, 5, 3, 3, 1}, {1, 7, 9, 3, 3, 0}, {5, 9, 15, 3, 3, 1},
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
				p, err := NewConv(s.c, s.h, s.w, o, s.kh, s.kw, s.pad)
				if err != nil {
					t.Fatal(err)
				}
				p.Pack(randFloats(rng, len(w))) // an earlier step's weights
				p.Pack(w)
				want := convRef(x, w, s.c, s.h, s.w, o, s.kh, s.kw, s.pad)
				plane := len(want) / o
				for i := range want {
					want[i] += float64(bias[i/plane])
				}
				xp := make([]float32, p.PaddedLen())
				p.Pad(xp, x)
				for _, parts := range []int{1, 2, 3} {
					g := newGuardedF32(len(want))
					n := p.Tiles()
					for i := range parts {
						p.Run(g.v(), xp, bias, i*n/parts, (i+1)*n/parts)
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

// A NaN input reaches exactly the outputs whose windows read it, at every
// level.
func TestConvNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 2))
	const c, h, w, o, pad = 2, 5, 20, 13, 1
	for l := Generic; l <= Supported(); l++ {
		restore := Set(l)
		p, err := NewConv(c, h, w, o, 3, 3, pad)
		if err != nil {
			t.Fatal(err)
		}
		p.Pack(randFloats(rng, o*c*9))
		x := randFloats(rng, c*h*w)
		const cy, cx = 2, 17
		x[(1*h+cy)*w+cx] = float32(math.NaN())
		xp := make([]float32, p.PaddedLen())
		p.Pad(xp, x)
		y := make([]float32, o*h*w)
		p.Run(y, xp, make([]float32, o), 0, p.Tiles())
		for i, v := range y {
			oy, ox := i/w%h, i%w
			reads := oy-pad <= cy && cy <= oy+2-pad && ox-pad <= cx && cx <= ox+2-pad
			if reads != math.IsNaN(float64(v)) {
				t.Fatalf("%s: output (%d, %d, %d) = %v; it reads the NaN: %t", l, i/(h*w), oy, ox, v, reads)
			}
		}
		restore()
	}
}

func TestNewConvRejects(t *testing.T) {
	for _, s := range [][7]int{{0, 1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 3, 3, 0}, {1, 2, 2, 1, 1, 1, -1}} {
		if _, err := NewConv(s[0], s[1], s[2], s[3], s[4], s[5], s[6]); err == nil {
			t.Errorf("NewConv%v: no error", s)
		}
	}
}
