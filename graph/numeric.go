package graph

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// float is the element type of every kernel: float32 for training, float64
// for gradient checks.
type float interface{ float32 | float64 }

// values returns t's backing slice (length 1 for a scalar).
func values[T float](t *tensor.Dense) []T {
	var z T
	switch any(z).(type) {
	case float32:
		return any(t.Float32s()).([]T)
	default:
		return any(t.Float64s()).([]T)
	}
}

// gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(A) is m×k, op(B) is k×n and C is m×n, on up to threads goroutines
// (1 inside a kernel that already splits its batch across the cores):
// kern.Sgemm for float32, gonum's Dgemm for float64.
func gemm[T float](threads int, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if a32, ok := any(a).([]float32); ok {
		kern.Sgemm(threads, transA, transB, m, n, k, float32(alpha), a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	blas64.Implementation().Dgemm(ta, tb, m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
}

// typed picks the kernel instantiated for the element type dt.
func typed(dt tensor.Dtype, f32, f64 kernel) kernel {
	if dt == tensor.Float64 {
		return f64
	}
	return f32
}
