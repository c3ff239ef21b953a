package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// SgemmPackedBias at every level with the packed product, against the
// float64 reference (bias + op(A)·op(B)), on every pair of sides in sizes
// (and the tile heights) and depths across the depth block (300 > KC),
// both layouts of A, with NaN in C before the product (it must not be
// read), guards around and inside C; and the same bits as filling C with
// the bias and calling SgemmPacked with beta 1, the path it replaces.
func TestSgemmPackedBias(t *testing.T) {
	for l := AVX2; l <= Supported(); l++ {
		t.Run(l.String(), func(t *testing.T) {
			defer Set(l)()
			rng := rand.New(rand.NewPCG(31, 32))
			count := 0
			var p PackedB
			for _, n := range sizes {
				for _, k := range []int{0, 1, 3, 16, 17, 33, 300} {
					for _, m := range append(sizes[:len(sizes):len(sizes)], 6, 12, 13, 24, 97) {
						if k == 300 && m > 13 && m != 33 && m != 97 {
							continue // the deep case on a sample of heights
						}
						for _, ta := range []bool{false, true} {
							count++
							s := sgemmCase{ta: ta, tb: count%2 == 0, m: m, n: n, k: k, alpha: 1, beta: 0}
							ca, cb := k, n
							if ta {
								ca = m
							}
							if s.tb {
								cb = k
							}
							s.lda, s.ldb, s.ldc = ca+1+count%3, cb+1+count%4, n+2
							o := newSgemmOperands(rng, s) // beta 0: NaN in C
							bias := newGuardedF32(n)
							copy(bias.v(), randFloats(rng, n))
							p.Pack(s.tb, o.b, s.ldb, k, n)
							want, bound := sgemmRef(s, o.a, o.b, o.c.v())
							for i := range want {
								if i%s.ldc < n {
									b := float64(bias.v()[i%s.ldc])
									want[i] += b
									bound[i] += math.Abs(b) * 0x1p-23
								}
							}
							// The path it replaces: C filled with the bias, then added to.
							old := o.c.clone()
							for i := 0; i < m; i++ {
								copy(old.v()[i*s.ldc:][:n], bias.v())
							}
							SgemmPacked(ta, m, n, k, 1, o.a, s.lda, &p, 1, old.v(), s.ldc)
							SgemmPackedBias(ta, m, n, k, o.a, s.lda, &p, bias.v(), o.c.v(), s.ldc)
							name := s.String() + " bias"
							checkSgemm(t, name, s, o, want, bound)
							bias.check(t, name+" (bias)")
							for i := range old.all {
								if math.Float32bits(old.all[i]) != math.Float32bits(o.c.all[i]) {
									t.Fatalf("%s: %v at %d, the bias filled in first gives %v", name, o.c.all[i], i-guardLen, old.all[i])
								}
							}
						}
					}
				}
			}
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("SgemmPackedBias with a short bias did not panic")
					}
				}()
				p.Pack(false, make([]float32, 6), 3, 2, 3)
				SgemmPackedBias(false, 1, 3, 2, make([]float32, 2), 2, &p, make([]float32, 2), make([]float32, 3), 3)
			}()
		})
	}
}
