package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// SgemmTransA against Sgemm's transposed-A product, bit for bit, on every
// m and n in sizes and depths around the depth block (one, several and a
// partial last one), with op(B) as stored and transposed, A and C wider
// than the product (lda > m, ldc > n) and guards around C and between its
// rows; with stream also with C on a 64-byte boundary and rows a multiple
// of 16 floats apart, where whole tiles take the non-temporal stores.
// Below AVX-512 it reports false and writes nothing.
func TestSgemmTransA(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(101, 102))
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range []int{0, 1, 7, 32, 256, 300} {
					for _, tc := range [][2]bool{{false, false}, {true, false}, {false, true}} {
						transB, stream := tc[0], tc[1]
						name := fmt.Sprintf("m=%d n=%d k=%d transB=%v stream=%v", m, n, k, transB, stream)
						lda, ldc := m+3, n+5
						if stream {
							ldc = (n+15)/16*16 + 16
						}
						a := randFloats(rng, k*lda)
						ldb := n + 2
						if transB {
							ldb = k + 2
						}
						b := randFloats(rng, max(k, n)*ldb)
						want := make([]float32, max(m*ldc, 1))
						Sgemm(1, true, transB, m, n, k, 1, a, lda, b, ldb, 0, want, ldc)
						got := newGuardedF32(m * ldc)
						if stream {
							got = newAlignedGuardedF32(m * ldc)
						}
						if !SgemmTransA(m, n, k, a, lda, transB, b, ldb, got.v(), ldc, stream) {
							if l >= AVX512 {
								t.Fatalf("%s: reports false at %s", name, l)
							}
							got.check(t, name)
							for _, v := range got.v() {
								if v != guard {
									t.Fatalf("%s: wrote %v at %s", name, v, l)
								}
							}
							continue
						}
						if l < AVX512 {
							t.Fatalf("%s: reports true at %s", name, l)
						}
						got.check(t, name)
						for i := 0; i < m; i++ {
							for j := 0; j < ldc; j++ {
								v := got.v()[i*ldc+j]
								if j >= n {
									if v != guard {
										t.Fatalf("%s: wrote %v at row %d column %d, past n", name, v, i, j)
									}
									continue
								}
								if w := want[i*ldc+j]; math.Float32bits(v) != math.Float32bits(w) {
									t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, v, w)
								}
							}
						}
					}
				}
			}
		}
	})
}

// newAlignedGuardedF32 is newGuardedF32 with the n floats starting on a
// 64-byte boundary.
func newAlignedGuardedF32(n int) guardedF32 {
	all := make([]float32, n+2*guardLen+16)
	o := 0
	for uintptr(unsafe.Pointer(&all[guardLen+o]))%64 != 0 {
		o++
	}
	all = all[o : o+n+2*guardLen]
	for i := range all {
		all[i] = guard
	}
	return guardedF32{all, n}
}
