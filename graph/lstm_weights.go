package graph

import kern "github.com/tapeml/tapeml/internal/kernel"

// lstmWeights is a weight matrix used as op(B) by many products: packed
// once when the fast product applies.
type lstmWeights[T float] struct {
	trans  bool
	b      []T
	ldb    int
	packed kern.PackedB
	fast   bool
}

// set makes w hold op(B) = b (trans false) or bᵀ, of k×n.
func (w *lstmWeights[T]) set(trans bool, b []T, ldb, k, n int) {
	w.trans, w.b, w.ldb = trans, b, ldb
	b32, ok := any(b).([]float32)
	w.fast = ok && kern.Packed()
	if w.fast {
		w.packed.Pack(trans, b32, ldb, k, n)
	}
}

// lstmGemmWeights is gemm with op(B) = w, on the calling goroutine; with
// rev, through the columns last to first where that is faster and gives
// the same bits (kern.SgemmPackedReverse): the steps of a recurrence
// alternate, so that each finds in cache what the last one read.
func lstmGemmWeights[T float](transA bool, m, n, k int, alpha T, a []T, lda int, w *lstmWeights[T], beta T, c []T, ldc int, rev bool) {
	if w.fast {
		if rev {
			kern.SgemmPackedReverse(transA, m, n, k, float32(alpha), any(a).([]float32), lda, &w.packed, float32(beta), any(c).([]float32), ldc)
			return
		}
		kern.SgemmPacked(transA, m, n, k, float32(alpha), any(a).([]float32), lda, &w.packed, float32(beta), any(c).([]float32), ldc)
		return
	}
	gemm(1, transA, w.trans, m, n, k, alpha, a, lda, w.b, w.ldb, beta, c, ldc)
}
