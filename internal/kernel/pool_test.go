package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refPool2x2 is the one-output-at-a-time 2×2 max pooling MaxPool2x2 must
// match: the first maximum in window order (Go's max, so ±0 give +0), or
// the first NaN.
func refPool2x2(y []float32, arg []int32, x []float32, base int32, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			at := [4]int{2*oy*w + 2*ox, 2*oy*w + 2*ox + 1, (2*oy+1)*w + 2*ox, (2*oy+1)*w + 2*ox + 1}
			best, bestAt := x[at[0]], at[0]
			nan := -1
			for n, i := range at {
				if x[i] != x[i] {
					nan = n
					break
				}
				if n > 0 {
					if x[i] > best {
						bestAt = i
					}
					best = max(best, x[i])
				}
			}
			if nan >= 0 {
				best, bestAt = x[at[nan]], at[nan]
			}
			y[oy*ow+ox], arg[oy*ow+ox] = best, base+int32(bestAt)
		}
	}
}

// MaxPool2x2 and Unpool2x2 against the references, bit for bit, on planes
// of every height and width in sizes (odd ones leave a row and a column no
// window covers), with values drawn from a few so that windows tie, ±0,
// NaNs with payloads and guards around every output. Below AVX-512 both
// report false and write nothing.
func TestMaxPool2x2(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(81, 82))
		values := []float32{-2, -1, float32(math.Copysign(0, -1)), 0, 0.5, 1, 3}
		nans := []float32{float32(math.NaN()), math.Float32frombits(0x7fc01234), math.Float32frombits(0xffc00077)}
		for _, h := range sizes {
			for _, w := range sizes {
				oh, ow := h/2, w/2
				name := fmt.Sprintf("%d×%d", h, w)
				x := make([]float32, h*w)
				for i := range x {
					switch r := rng.IntN(40); {
					case r == 0:
						x[i] = nans[rng.IntN(len(nans))]
					case r < 20:
						x[i] = values[rng.IntN(len(values))]
					default:
						x[i] = float32(rng.NormFloat64())
					}
				}
				base := int32(rng.IntN(1000))
				y, arg := newGuardedF32(oh*ow), newGuardedI32(oh*ow)
				did := MaxPool2x2(y.v(), arg.v(), x, base, w, oh, ow)
				y.check(t, name+" MaxPool2x2 y")
				arg.check(t, name+" MaxPool2x2 arg")
				if did != (l >= AVX512) {
					t.Fatalf("%s: MaxPool2x2 at %s reports %v", name, l, did)
				}
				wantY, wantArg := make([]float32, oh*ow), make([]int32, oh*ow)
				refPool2x2(wantY, wantArg, x, base, w, oh, ow)
				if !did {
					continue
				}
				for o := range wantY {
					if math.Float32bits(y.v()[o]) != math.Float32bits(wantY[o]) || arg.v()[o] != wantArg[o] {
						t.Fatalf("%s: output %d = %v at %d, want %v at %d", name, o, y.v()[o], arg.v()[o], wantY[o], wantArg[o])
					}
				}

				// Unpool2x2 spreads a gradient (with ±0 and NaN) back.
				g := randFloats(rng, oh*ow)
				for o := range g {
					switch rng.IntN(8) {
					case 0:
						g[o] = float32(math.Copysign(0, -1))
					case 1:
						g[o] = nans[rng.IntN(len(nans))]
					}
				}
				want := make([]float32, h*w)
				for o, at := range wantArg {
					want[at-base] += g[o]
				}
				gz := newGuardedF32(h * w)
				if !Unpool2x2(gz.v(), g, wantArg, base, w, h, oh, ow) {
					t.Fatalf("%s: Unpool2x2 at %s did nothing", name, l)
				}
				gz.check(t, name+" Unpool2x2")
				for i := range want {
					if math.Float32bits(gz.v()[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: Unpool2x2 [%d] = %v (%#x), want %v (%#x)", name, i, gz.v()[i], math.Float32bits(gz.v()[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
		if l < AVX512 && Unpool2x2(make([]float32, 4), make([]float32, 1), make([]int32, 1), 0, 2, 2, 1, 1) {
			t.Fatalf("Unpool2x2 at %s reports true", l)
		}
	})
}

// guardedI32 is guardedF32 for int32 outputs.
type guardedI32 struct {
	all []int32
	n   int
}

const guardI32 = int32(-7654321)

func newGuardedI32(n int) guardedI32 {
	all := make([]int32, n+2*guardLen)
	for i := range all {
		all[i] = guardI32
	}
	return guardedI32{all, n}
}

func (g guardedI32) v() []int32 { return g.all[guardLen : guardLen+g.n] }

func (g guardedI32) check(t *testing.T, name string) {
	t.Helper()
	for i, x := range g.all {
		if (i < guardLen || i >= guardLen+g.n) && x != guardI32 {
			t.Fatalf("%s: wrote %d at %d of a guard region", name, x, i-guardLen)
		}
	}
}
