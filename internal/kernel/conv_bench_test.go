package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkConv times one example of the ConvNet's two convolutions,
// directly (Conv: stored unpooled with the bias) and fused with the
// pooling (ConvPool), on one goroutine, padding included.
//
//	go test -run '^$' -bench Conv ./internal/kernel
func BenchmarkConv(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range []struct{ c, h, w, o int }{{3, 32, 32, 64}, {64, 16, 16, 128}} {
		x := randFloats(rng, s.c*s.h*s.w)
		w := randFloats(rng, s.o*s.c*9)
		bias := randFloats(rng, s.o)
		p, err := NewConv(s.c, s.h, s.w, s.o, 3, 3, 1)
		if err != nil {
			b.Fatal(err)
		}
		p.Pack(w)
		cp, err := NewConvPool(s.c, s.h, s.w, s.o, 3, 3, 1, w, bias)
		if err != nil {
			b.Fatal(err)
		}
		xp := make([]float32, p.PaddedLen())
		y := make([]float32, s.o*s.h*s.w)
		flops := float64(2 * s.o * s.c * 9 * s.h * s.w)
		b.Run(fmt.Sprintf("conv/c%d", s.c), func(b *testing.B) {
			for b.Loop() {
				p.Pad(xp, x)
				p.Run(y, xp, bias, 0, p.Tiles())
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("convpool/c%d", s.c), func(b *testing.B) {
			for b.Loop() {
				cp.Pad(xp, x)
				cp.Run(y, xp, 0, cp.Tiles())
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
