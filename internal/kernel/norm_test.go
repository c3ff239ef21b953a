package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// MeanVar and Normalize at every level against plain Go: the mean and
// variance with the lanes of norm.go bit for bit and within 1e-12 of a
// serial float64 sum, the normalized row bit for bit against the Go
// expression, on every length in sizes and a few beyond (768, BERT's
// width), with guards around dst and in place; NaN and ±∞ propagate.
func TestMeanVarNormalize(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(61, 62))
		for _, n := range append(sizes[:len(sizes):len(sizes)], 100, 128, 768) {
			x, gamma, beta := randFloats(rng, n), randFloats(rng, n), randFloats(rng, n)
			for i := range x {
				x[i] = x[i]*3 + 5 // an offset, as residual sums have
			}
			name := fmt.Sprintf("n=%d", n)
			mean, variance := MeanVar(x)
			var part [SquareLanes]float64
			for i, v := range x {
				part[i%SquareLanes] += float64(v)
			}
			wantMean := ReduceLanes(&part) / float64(n)
			part = [SquareLanes]float64{}
			var serial, serialSq float64
			for i, v := range x {
				d := float64(v) - wantMean
				part[i%SquareLanes] += d * d
				serial += float64(v)
			}
			wantVar := ReduceLanes(&part) / float64(n)
			if n == 0 {
				if mean == mean || variance == variance {
					t.Fatalf("%s: MeanVar = %v, %v, want NaN", name, mean, variance)
				}
				continue
			}
			serial /= float64(n)
			for _, v := range x {
				serialSq += (float64(v) - serial) * (float64(v) - serial)
			}
			serialSq /= float64(n)
			if mean != wantMean || variance != wantVar {
				t.Fatalf("%s: MeanVar = %v, %v, lanes in Go %v, %v", name, mean, variance, wantMean, wantVar)
			}
			if math.Abs(mean-serial) > 1e-12*math.Abs(serial) || math.Abs(variance-serialSq) > 1e-12*serialSq {
				t.Fatalf("%s: MeanVar = %v, %v, serial %v, %v", name, mean, variance, serial, serialSq)
			}
			inv := 1 / math.Sqrt(variance+1e-12)
			dst := newGuardedF32(n)
			Normalize(dst.v(), x, gamma, beta, mean, inv)
			dst.check(t, name)
			inPlace := append([]float32(nil), x...)
			Normalize(inPlace, inPlace, gamma, beta, mean, inv)
			for i, v := range x {
				want := float32((float64(v)-mean)*inv*float64(gamma[i]) + float64(beta[i]))
				if math.Float32bits(dst.v()[i]) != math.Float32bits(want) || math.Float32bits(inPlace[i]) != math.Float32bits(want) {
					t.Fatalf("%s: [%d] = %v (in place %v), want %v", name, i, dst.v()[i], inPlace[i], want)
				}
			}
			if n > 20 {
				for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
					y := append([]float32(nil), x...)
					y[n/2] = bad
					if m, v := MeanVar(y); v == v && !math.IsInf(m, 0) {
						t.Fatalf("%s: MeanVar with %v = %v, %v", name, bad, m, v)
					}
				}
			}
		}
	})
}
