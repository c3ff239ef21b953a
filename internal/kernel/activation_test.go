package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tanh and Sigmoid at every level against the scalar tanh32 and sigmoid32
// (bit for bit at the generic level, within 4e-7 with vectors), on every
// length in sizes and a few vectors beyond, out of place with guards
// around dst and in place.
func TestActivationsReference(t *testing.T) {
	for _, f := range []struct {
		name string
		vec  func(dst, src []float32)
		ref  func(float32) float32
	}{{"Tanh", Tanh, tanh32}, {"Sigmoid", Sigmoid, sigmoid32}} {
		t.Run(f.name, func(t *testing.T) {
			levels(t, func(t *testing.T, l Level) {
				rng := rand.New(rand.NewPCG(31, 32))
				for _, n := range append(sizes[:len(sizes):len(sizes)], 100, 1000) {
					src := randFloats(rng, n)
					for i := range src {
						src[i] *= 4
					}
					if n > 3 { // saturation and non-finite values
						src[0], src[1], src[2], src[n-1] = 30, float32(math.Inf(-1)), -1e30, float32(math.Inf(1))
					}
					src0 := append([]float32(nil), src...)
					dst := newGuardedF32(n)
					f.vec(dst.v(), src)
					name := fmt.Sprintf("n=%d", n)
					dst.check(t, name)
					inPlace := append([]float32(nil), src...)
					f.vec(inPlace, inPlace)
					for i, x := range src {
						if math.Float32bits(x) != math.Float32bits(src0[i]) {
							t.Fatalf("%s: src[%d] changed", name, i)
						}
						got, want := dst.v()[i], f.ref(x)
						if math.Float32bits(inPlace[i]) != math.Float32bits(got) {
							t.Fatalf("%s: in place [%d] = %v, out of place %v", name, i, inPlace[i], got)
						}
						if l == Generic && math.Float32bits(got) != math.Float32bits(want) {
							t.Fatalf("%s: [%d] = %v, scalar %v", name, i, got, want)
						}
						if d := math.Abs(float64(got - want)); !(d <= 4e-7) {
							t.Fatalf("%s: [%d] = %v for %v, scalar %v", name, i, got, x, want)
						}
					}
				}
			})
		})
	}
}

// AddTo gives dst + src rounded once, the same bits at every level, on
// every length in sizes with guards around dst.
func TestAddTo(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(33, 34))
		for _, n := range append(sizes[:len(sizes):len(sizes)], 100) {
			dst, src := randGuarded(rng, n, false), randFloats(rng, n+3) // src may be longer
			want := make([]float32, n)
			for i := range want {
				want[i] = dst.v()[i] + src[i]
			}
			AddTo(dst.v(), src)
			name := fmt.Sprintf("n=%d", n)
			dst.check(t, name)
			for i, got := range dst.v() {
				if math.Float32bits(got) != math.Float32bits(want[i]) {
					t.Fatalf("%s: [%d] = %v, want %v", name, i, got, want[i])
				}
			}
		}
	})
}
