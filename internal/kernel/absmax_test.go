package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// AbsMaxBits at every level against a plain loop, on the sizes list and
// longer, with −0, subnormals, the largest float, infinities and NaN in
// every position of a vector and in the tail, and with guards of larger
// magnitude around x that it must not read.
func TestAbsMaxBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	specials := []float32{float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1)), -math.MaxFloat32, 1e-45, float32(math.Copysign(0, -1))}
	for l := Generic; l <= Supported(); l++ {
		restore := Set(l)
		for _, n := range append(sizes, 64, 95, 96, 127, 200) {
			for at := -1; at < min(n, 40); at++ {
				for si, special := range specials {
					if at < 0 && si > 0 {
						break
					}
					g := newGuardedF32(n)
					x := g.all[guardLen : guardLen+n]
					for i := range g.all {
						g.all[i] = 1e30 // read outside x, it would win
					}
					for i := range x {
						x[i] = float32(rng.NormFloat64())
					}
					if at >= 0 {
						x[at] = special
					}
					var want float64
					nan := false
					for _, v := range x {
						nan = nan || v != v
						want = max(want, math.Abs(float64(v)))
					}
					got := AbsMaxBits(x)
					name := fmt.Sprintf("%s n=%d at=%d %v", l, n, at, special)
					if nan {
						if got <= 0x7f800000 {
							t.Fatalf("%s: %#x, want above +Inf's bits", name, got)
						}
						continue
					}
					if g := float64(math.Float32frombits(got)); g != want {
						t.Fatalf("%s: %v, want %v", name, g, want)
					}
				}
			}
		}
		restore()
	}
}

func BenchmarkAbsMaxBits(b *testing.B) {
	x := make([]float32, 512)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	for b.Loop() {
		AbsMaxBits(x)
	}
}
