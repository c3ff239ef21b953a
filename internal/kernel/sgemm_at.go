package kernel

import "unsafe"

// SgemmTransA sets C (m×n, rows ldc apart) = Aᵀ·op(B) on the calling
// goroutine, where A is k×m (rows lda apart, m ≤ lda) and is read in place,
// and op(B) is k×n: b, or bᵀ with transB. It runs with AVX-512 only and
// reports whether it did; at the other levels it does nothing.
//
// Sgemm packs a transposed A before multiplying, and so does the packed B
// of the same product written the other way round, C = op(B)ᵀ·A. When A
// is large and is read once, such as a dense layer's weight in its input
// gradient (dXᵀ = Wᵀ·gᵀ), that copy costs as much as the product: here
// each micro-tile reads its twelve rows of Aᵀ straight from A (twelve
// consecutive floats per depth), and only op(B) is packed. The sums and
// their order are Sgemm's (depth blocks of sgemmKC, added in order), and
// so are the bits.
//
// With stream, a product of one depth block (k ≤ 256) whose C starts on a
// 64-byte boundary with rows a multiple of 64 bytes apart stores its whole
// 12×32 tiles with non-temporal stores: C's lines go to memory without
// being read into the cache first, which halves the memory traffic of a
// large C written once and read much later (a dense layer's weight
// gradient, dW = gᵀ·x: 32 MB for the ConvNet's fc.0, at a depth of one
// batch). Those tiles read a packed copy of their twelve rows of Aᵀ. The
// bits are the same.
func SgemmTransA(m, n, k int, a []float32, lda int, transB bool, b []float32, ldb int, c []float32, ldc int, stream bool) bool {
	if active < AVX512 {
		return false
	}
	if m == 0 || n == 0 {
		return true
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return true
	}
	_, _ = a[(k-1)*lda+m-1], c[(m-1)*ldc+n-1] // before the kernel reads and writes them unchecked
	if transB {
		_ = b[(n-1)*ldb+k-1]
	} else {
		_ = b[(k-1)*ldb+n-1]
	}
	buf := getSgemmBuffers()
	defer putSgemmBuffers(buf)
	const mr, nr = 12, 32
	stream = stream && k <= sgemmKC && uintptr(unsafe.Pointer(&c[0]))%64 == 0 && ldc%16 == 0
	if stream {
		defer sgemmSfence()
	}
	for jc := 0; jc < n; jc += sgemmNC {
		nc := min(sgemmNC, n-jc)
		for pc := 0; pc < k; pc += sgemmKC {
			kc := min(sgemmKC, k-pc)
			sgemmPackB(buf.b, b, nr, transB, ldb, pc, jc, kc, nc)
			mode := sgemmAdd
			if pc == 0 {
				mode = sgemmSet
			}
			for ir := 0; ir < m; ir += mr {
				rows := min(mr, m-ir)
				// The kernel reads all twelve rows: a last, partial tile is
				// packed (zero-padded), so that it reads nothing past A.
				ap, ds := a[pc*lda+ir:], lda
				if rows < mr || stream {
					sgemmPackA(buf.a, a, mr, true, lda, ir, pc, rows, kc)
					ap, ds = buf.a, mr
				}
				for jr := 0; jr < nc; jr += nr {
					cols := min(nr, nc-jr)
					if stream && rows == mr && cols == nr {
						sgemmKernel12x32Stream(kc, &ap[0], &buf.b[jr*kc], &c[ir*ldc+jc+jr], ldc, 1)
						continue
					}
					m0, m1 := sgemmMasks(cols)
					sgemmKernel12x32Strided(kc, &ap[0], 1, ds, &buf.b[jr*kc], &c[ir*ldc+jc+jr], ldc, 1, rows, m0, m1, mode, &buf.b[0])
				}
			}
		}
	}
	return true
}
