package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// SgemmPackedAXt at every level with the packed product, against the
// float64 reference, on every pair of sides in sizes (and the tile
// heights, and a width past a block of columns), depths across the depth
// block, storing and adding, with NaN between the rows of A and B (and in
// C when it is stored), guards around and inside C and around its packing
// buffer; and the same bits as SgemmPacked computing Cᵀ = op(B)ᵀ·op(A)ᵀ,
// the path it replaces in the serving graph.
func TestSgemmPackedAXt(t *testing.T) {
	for l := AVX2; l <= Supported(); l++ {
		t.Run(l.String(), func(t *testing.T) {
			defer Set(l)()
			rng := rand.New(rand.NewPCG(39, 40))
			var pa PackedA
			var pt PackedB
			count := 0
			for _, m := range append(sizes[:len(sizes):len(sizes)], 6, 12, 13, 24, 97) {
				for _, n := range append(sizes[:len(sizes):len(sizes)], 64, sgemmNC+33) {
					for _, k := range []int{0, 1, 3, 16, 17, 33, 300} {
						if (k == 300 || n > sgemmNC) && m > 13 && m != 97 {
							continue // the deep and wide cases on a sample of heights
						}
						count++
						beta := float32(count % 2) // store, then add
						s := sgemmCase{tb: true, m: m, n: n, k: k, alpha: 1, beta: beta, lda: k + 1 + count%3, ldb: k + 2, ldc: n + 1}
						o := newSgemmOperands(rng, s)
						pa.Pack(o.a, s.lda, m, k)
						if PackedRows() != sgemmArchFor(l).mr || PackedAStreams() != (l >= AVX512) {
							t.Fatalf("PackedRows() = %d, PackedAStreams() = %v at %s", PackedRows(), PackedAStreams(), l)
						}
						// Cᵀ the other way round, from the same C.
						ct := make([]float32, n*m)
						for i := range m {
							for j := range n {
								ct[j*m+i] = o.c.v()[i*s.ldc+j]
							}
						}
						want, bound := sgemmRef(s, o.a, o.b, o.c.v())
						xt := newGuardedF32(PackedXtLen(n))
						SgemmPackedAXt(&pa, o.b, s.ldb, n, xt.v(), o.c.v(), s.ldc, beta == 0)
						checkSgemm(t, s.String(), s, o, want, bound)
						xt.check(t, s.String()+" SgemmPackedAXt's buffer")
						if m == 0 {
							continue
						}
						pt.Pack(true, o.a, s.lda, k, m)
						SgemmPacked(false, n, m, k, 1, o.b, s.ldb, &pt, beta, ct, m)
						for i := range m {
							for j := range n {
								if got, other := o.c.v()[i*s.ldc+j], ct[j*m+i]; math.Float32bits(got) != math.Float32bits(other) {
									t.Fatalf("%s: C[%d][%d] = %v, the transposed product's %v", s, i, j, got, other)
								}
							}
						}
					}
				}
			}
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("SgemmPackedAXt of an unpacked operand did not panic")
					}
				}()
				var unpacked PackedA
				SgemmPackedAXt(&unpacked, make([]float32, 4), 2, 2, make([]float32, PackedXtLen(2)), make([]float32, 4), 2, true)
			}()
		})
	}
	t.Run("generic", func(t *testing.T) {
		defer Set(Generic)()
		if PackedRows() != 0 || PackedAStreams() {
			t.Fatalf("PackedRows() = %d, PackedAStreams() = %v at the generic level", PackedRows(), PackedAStreams())
		}
		defer func() {
			if recover() == nil {
				t.Errorf("PackedA.Pack at the generic level did not panic")
			}
		}()
		var p PackedA
		p.Pack(make([]float32, 4), 2, 2, 2)
	})
}
