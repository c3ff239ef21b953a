package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// transposeFast at AVX-512 against the definition, for 0–3 blocks, odd
// leading dimensions on both sides, with guards around dst and in the
// gaps between its rows (which it must not write); below AVX-512 it
// declines.
func TestTransposeFast(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for l := Generic; l <= Supported(); l++ {
		restore := Set(l)
		for blocks := range 4 {
			for _, lds := range []int{16 * blocks, 16*blocks + 3} {
				for _, ldd := range []int{16, 17, 32, 33} {
					src := randFloats(rng, 16*lds+1)
					rows := 16 * blocks
					d := newGuardedF32(max(rows*ldd, 1))
					ok := transposeFast(d.v(), ldd, src, lds, blocks)
					if want := l >= AVX512 && blocks > 0; ok != want {
						t.Fatalf("%s: transposeFast of %d blocks = %v, want %v", l, blocks, ok, want)
					}
					d.check(t, "transposeFast")
					for r := range rows {
						for i := range ldd {
							g := d.v()[r*ldd+i]
							want := guard
							if ok && i < 16 {
								want = src[i*lds+r]
							}
							if math.Float32bits(g) != math.Float32bits(want) {
								t.Fatalf("%s blocks %d lds %d ldd %d: dst[%d][%d] = %v, want %v", l, blocks, lds, ldd, r, i, g, want)
							}
						}
					}
				}
			}
		}
		restore()
	}
}

// Transpose against the definition at every level, on sizes around the
// 16×16 blocks with padded rows on both sides, writing nothing of dst
// but the transpose (guards around dst and in its rows' padding).
func TestTranspose(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(43, 44))
		for _, rows := range sizes {
			for _, cols := range sizes {
				for _, pad := range []int{0, 5} {
					lds, ldd := cols+pad, rows+pad
					src := randFloats(rng, rows*lds)
					d := newGuardedF32(cols * ldd)
					Transpose(d.v(), ldd, src, lds, rows, cols)
					d.check(t, "Transpose")
					for c := range cols {
						for r := range ldd {
							got, want := d.v()[c*ldd+r], guard
							if r < rows {
								want = src[r*lds+c]
							}
							if math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("%dx%d pad %d: dst[%d][%d] = %v, want %v", rows, cols, pad, c, r, got, want)
							}
						}
					}
				}
			}
		}
	})
}
