package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Affine, BatchNormSums and BatchNormGrad at every level against plain Go
// references written out here, bit for bit, on every length in sizes and a
// few beyond (256 and 1024, the ConvNet's planes), with guards around dst
// and in place where dst may alias; the lane sums also within 1e-12 of a
// serial float64 sum. NaN propagates.
func TestBatchNormLoops(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(71, 72))
		for _, n := range append(sizes[:len(sizes):len(sizes)], 100, 256, 1024) {
			name := fmt.Sprintf("n=%d", n)
			x, g := randFloats(rng, n), randFloats(rng, n)
			for i := range x {
				x[i] = x[i]*3 + 5 // an offset, as convolution outputs have
			}
			scale, shift, a, mean, b := 0.7+rng.Float64(), rng.NormFloat64(), rng.NormFloat64()*0.1, 5+rng.NormFloat64()*0.1, rng.NormFloat64()*0.2

			// Affine.
			dst := newGuardedF32(n)
			Affine(dst.v(), x, scale, shift)
			dst.check(t, name+" Affine")
			inPlace := append([]float32(nil), x...)
			Affine(inPlace, inPlace, scale, shift)
			for i, v := range x {
				p := float64(float64(v) * scale) // float64(…): never fused with the add
				want := float32(p + shift)
				if math.Float32bits(dst.v()[i]) != math.Float32bits(want) || math.Float32bits(inPlace[i]) != math.Float32bits(want) {
					t.Fatalf("%s: Affine [%d] = %v (in place %v), want %v", name, i, dst.v()[i], inPlace[i], want)
				}
			}

			// BatchNormSums, added to lanes that already hold sums (a second plane).
			var sg, sgx, wg, wgx [SquareLanes]float64
			for i := range sg {
				sg[i], sgx[i] = float64(i), -float64(i)
			}
			wg, wgx = sg, sgx
			BatchNormSums(&sg, &sgx, g, x, mean)
			var serialG, serialGX float64
			for i := range g {
				gv := float64(g[i])
				p := float64(gv * (float64(x[i]) - mean))
				wg[i%SquareLanes] += gv
				wgx[i%SquareLanes] += p
				serialG += gv
				serialGX += p
			}
			if sg != wg || sgx != wgx {
				t.Fatalf("%s: BatchNormSums lanes %v, %v, want %v, %v", name, sg, sgx, wg, wgx)
			}
			var zg, zgx [SquareLanes]float64
			BatchNormSums(&zg, &zgx, g, x, mean)
			if sG, sGX := ReduceLanes(&zg), ReduceLanes(&zgx); math.Abs(sG-serialG) > 1e-12*(1+math.Abs(serialG)) || math.Abs(sGX-serialGX) > 1e-12*(1+math.Abs(serialGX)) {
				t.Fatalf("%s: BatchNormSums = %v, %v, serial %v, %v", name, sG, sGX, serialG, serialGX)
			}

			// BatchNormGrad.
			dst = newGuardedF32(n)
			BatchNormGrad(dst.v(), x, g, scale, a, mean, b)
			dst.check(t, name+" BatchNormGrad")
			inPlace = append([]float32(nil), g...)
			BatchNormGrad(inPlace, x, inPlace, scale, a, mean, b)
			for i := range g {
				tt := float64((float64(x[i]) - mean) * b)
				d := float64(g[i]) - a - tt
				want := float32(scale * d)
				if math.Float32bits(dst.v()[i]) != math.Float32bits(want) || math.Float32bits(inPlace[i]) != math.Float32bits(want) {
					t.Fatalf("%s: BatchNormGrad [%d] = %v (in place %v), want %v", name, i, dst.v()[i], inPlace[i], want)
				}
			}

			if n > 20 {
				nan := float32(math.NaN())
				y := append([]float32(nil), x...)
				y[n/2] = nan
				out := make([]float32, n)
				Affine(out, y, scale, shift)
				BatchNormGrad(out[:n/2], y[:n/2], g[:n/2], scale, a, mean, b) // the NaN is past this prefix
				if out[n/2] == out[n/2] {
					t.Fatalf("%s: Affine of NaN = %v", name, out[n/2])
				}
				var pg, pgx [SquareLanes]float64
				BatchNormSums(&pg, &pgx, g, y, mean)
				if s := ReduceLanes(&pgx); s == s {
					t.Fatalf("%s: BatchNormSums with a NaN = %v", name, s)
				}
			}
		}
	})
}
