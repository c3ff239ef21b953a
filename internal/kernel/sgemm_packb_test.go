package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// sgemmPackB of a transposed op(B) (16×16 blocks in registers with
// AVX-512) against the definition, at every level, on every depth and
// width in sizes (partial panels, depths past the last block of 16), at an
// offset into B, with guards around the panels.
func TestPackBTransposed(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		arch := sgemmArchFor(l)
		if arch == nil {
			t.Skip("no packed product")
		}
		nr := arch.nr
		rng := rand.New(rand.NewPCG(111, 112))
		for _, kc := range sizes {
			for _, nc := range sizes {
				name := fmt.Sprintf("kc=%d nc=%d", kc, nc)
				const pc, jc = 3, 2
				ldb := pc + kc + 5
				b := randFloats(rng, (jc+nc)*ldb)
				size := (nc + nr - 1) / nr * nr * kc
				dst := newGuardedF32(size)
				sgemmPackB(dst.v(), b, nr, true, ldb, pc, jc, kc, nc)
				dst.check(t, name)
				for jr := 0; jr < nc; jr += nr {
					for p := 0; p < kc; p++ {
						for j := 0; j < nr; j++ {
							want := float32(0) // a partial panel's padding
							if jr+j < nc {
								want = b[(jc+jr+j)*ldb+pc+p]
							}
							if got := dst.v()[jr*kc+p*nr+j]; math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("%s: panel %d depth %d column %d = %v, want %v", name, jr/nr, p, j, got, want)
							}
						}
					}
				}
			}
		}
	})
}
