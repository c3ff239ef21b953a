package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// reluSpecials are the inputs where a vector max or compare could differ
// from Go's: zeros of both signs, NaN, infinities and subnormals.
var reluSpecials = []float32{
	0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1, -1,
}

// reluInput is n random floats with the specials sprinkled in.
func reluInput(rng *rand.Rand, n int) []float32 {
	x := randFloats(rng, n)
	for i := range x {
		if rng.IntN(4) == 0 {
			x[i] = reluSpecials[rng.IntN(len(reluSpecials))]
		}
	}
	return x
}

// ReLU, ReLUGrad and Fill against Go's loops, bit for bit, on lengths
// around the vector widths, writing between guard regions.
func TestReLUFill(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(3, 4))
		for n := 0; n <= 70; n++ {
			x, g := reluInput(rng, n), reluInput(rng, n)

			y := newGuardedF32(n)
			ReLU(y.v(), x)
			y.check(t, fmt.Sprintf("ReLU n=%d", n))
			for i, v := range x {
				if want := max(v, 0); math.Float32bits(y.v()[i]) != math.Float32bits(want) {
					t.Fatalf("ReLU n=%d: [%d] = max(%v, 0) gave %v (%#x), want %v (%#x)", n, i, v, y.v()[i], math.Float32bits(y.v()[i]), want, math.Float32bits(want))
				}
			}

			d := newGuardedF32(n)
			ReLUGrad(d.v(), x, g)
			d.check(t, fmt.Sprintf("ReLUGrad n=%d", n))
			for i, v := range x {
				want := float32(0)
				if v > 0 {
					want = g[i]
				}
				if math.Float32bits(d.v()[i]) != math.Float32bits(want) {
					t.Fatalf("ReLUGrad n=%d: [%d] with x %v, g %v gave %v, want %v", n, i, v, g[i], d.v()[i], want)
				}
			}

			f := newGuardedF32(n)
			v := float32(rng.NormFloat64())
			Fill(f.v(), v)
			f.check(t, fmt.Sprintf("Fill n=%d", n))
			for i, got := range f.v() {
				if math.Float32bits(got) != math.Float32bits(v) {
					t.Fatalf("Fill n=%d: [%d] = %v, want %v", n, i, got, v)
				}
			}
		}
	})
}
