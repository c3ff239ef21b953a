package kernel

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/tapeml/tapeml/internal/par"
)

// The models spend most of their time in float32 matrix products: the
// LSTM's input projection and recurrence, the convolutions' im2col
// products and the dense layers. gonum's Sgemm reaches about a third of
// what an AVX2/FMA core can do, so on such CPUs Sgemm uses a blocked product
// in the GotoBLAS style: op(A) and op(B) are copied into panels laid out in
// the order the micro-kernel reads them, in blocks sized for the caches:
// 6×16 tiles with AVX2 (avx2_amd64.s), 12×32 with AVX-512
// (avx512_amd64.s). Each element of C is summed by one thread in a fixed
// order, so results do not depend on timing (for a given kernel path).
const (
	sgemmKC = 256  // depth of a packed block: a B panel of KC×NR floats stays in L1 (or L2)
	sgemmMC = 96   // rows of a packed A block (multiple of every MR)
	sgemmNC = 1024 // columns of a packed B block (multiple of every NR)

	sgemmMaxTile = 6 * 16 // the AVX2 kernel's tile, staged for partial tiles
)

// sgemmArch is one micro-kernel and its tile shape.
type sgemmArch struct {
	mr, nr int // rows and columns of a micro-tile
	// add adds alpha times the product of the packed panels a (k depths of
	// mr values) and b (k depths of nr values) to the rows×cols block of C
	// at c, whose rows are ldc apart; it touches nothing else of C. With
	// set, it stores the product instead, without reading C.
	add func(buf *sgemmBuffers, k int, a, b, c []float32, ldc int, alpha float32, rows, cols int, set bool)
	// addBias is add storing alpha times the product plus bias[j] in
	// column j, without reading C: a dense layer's bias folded into the
	// product's first depth block instead of copied into C first.
	addBias func(buf *sgemmBuffers, k int, a, b, c []float32, ldc int, alpha float32, rows, cols int, bias []float32)
	// direct, when not nil, is add (or addBias, with bias not nil) on a
	// full panel of mr rows of a row-major A read in place, row i at
	// a[i·lda:], instead of a packed panel: the product packs no A. With
	// the same sums in the same order as add, it gives the same bits.
	direct func(k int, a []float32, lda int, b, c []float32, ldc int, alpha float32, cols int, set bool, bias []float32)
	// narrow, when not nil, is direct for a few rows (1–sgemmNarrowRows)
	// and two panels (cols up to 2·nr, the second panel bstride floats
	// after the first): the rows a product has beyond its full panels —
	// all of them at batch 1 — without a tile of mr rows mostly empty.
	// Same sums in the same order, so the same bits.
	narrow func(k int, a []float32, lda int, b []float32, bstride int, c []float32, ldc int, alpha float32, rows, cols int, set bool, bias []float32)
	// row, when not nil, is narrow for one row and up to four panels
	// (cols up to 4·nr): a batch of one, with more columns in flight.
	row func(k int, a, b []float32, bstride int, c []float32, alpha float32, cols int, set bool, bias []float32)
	// streamA, when not nil, is add prefetching the packed A ahead: for
	// an A read once from memory while B stays in cache (SgemmPackedAXt).
	streamA func(k int, a, b, c []float32, ldc int, alpha float32, rows, cols int, set bool)
}

const (
	sgemmNarrowRows = 4 // rows of one call of arch.narrow
	// sgemmNarrowMax is the most rows beyond the full panels that go
	// through arch.narrow: up to two calls cost fewer multiply-adds than
	// one 12-row tile.
	sgemmNarrowMax = 8
)

// sgemmNarrowMasks are sgemmKernelNarrow's four 16-column masks for a
// block of cols columns.
func sgemmNarrowMasks(cols int) uint64 {
	var m uint64
	for i := range 4 {
		w := min(max(cols-16*i, 0), 16)
		m |= (uint64(1)<<w - 1) << (16 * i)
	}
	return m
}

// The store modes of sgemmKernel12x32Strided.
const (
	sgemmAdd  = 0 // C += alpha·tile
	sgemmSet  = 1 // C = alpha·tile
	sgemmBias = 2 // C = alpha·tile + bias
)

// sgemmMode is the store mode for set and bias.
func sgemmMode(set bool, bias []float32) int {
	switch {
	case bias != nil:
		return sgemmBias
	case set:
		return sgemmSet
	}
	return sgemmAdd
}

// sgemmMasks are the AVX-512 kernel's column masks for a tile of cols
// columns.
func sgemmMasks(cols int) (m0, m1 uint32) {
	return uint32(1)<<min(cols, 16) - 1, uint32(1)<<max(cols-16, 0) - 1
}

var (
	sgemmAVX2 = &sgemmArch{mr: 6, nr: 16, add: sgemmAdd6x16, addBias: sgemmBias6x16}
	// The AVX-512 kernel masks partial tiles itself: no staging.
	sgemmAVX512 = &sgemmArch{mr: 12, nr: 32, add: func(_ *sgemmBuffers, k int, a, b, c []float32, ldc int, alpha float32, rows, cols int, set bool) {
		m0, m1 := sgemmMasks(cols)
		if set {
			sgemmKernel12x32Set(k, &a[0], &b[0], &c[0], ldc, alpha, rows, m0, m1)
			return
		}
		sgemmKernel12x32(k, &a[0], &b[0], &c[0], ldc, alpha, rows, m0, m1)
	}, addBias: func(_ *sgemmBuffers, k int, a, b, c []float32, ldc int, alpha float32, rows, cols int, bias []float32) {
		m0, m1 := sgemmMasks(cols)
		sgemmKernel12x32Strided(k, &a[0], 1, 12, &b[0], &c[0], ldc, alpha, rows, m0, m1, sgemmBias, &bias[0])
	}, direct: func(k int, a []float32, lda int, b, c []float32, ldc int, alpha float32, cols int, set bool, bias []float32) {
		m0, m1 := sgemmMasks(cols)
		bp := &b[0] // any valid pointer when there is no bias: the kernel does not read it
		if bias != nil {
			bp = &bias[0]
		}
		_ = a[11*lda+k-1] // the twelve rows are there
		sgemmKernel12x32Strided(k, &a[0], lda, 1, &b[0], &c[0], ldc, alpha, 12, m0, m1, sgemmMode(set, bias), bp)
	}, narrow: sgemmNarrow512, row: sgemmRow512, streamA: func(k int, a, b, c []float32, ldc int, alpha float32, rows, cols int, set bool) {
		m0, m1 := sgemmMasks(cols)
		sgemmKernel12x32PA(k, &a[0], &b[0], &c[0], ldc, alpha, rows, m0, m1, set)
	}}
)

// sgemmNarrow512 is sgemmArch.narrow for AVX-512 (sgemmKernelNarrow).
func sgemmNarrow512(k int, a []float32, lda int, b []float32, bstride int, c []float32, ldc int, alpha float32, rows, cols int, set bool, bias []float32) {
	if cols <= 32 {
		bstride = 0 // no second panel: read the first again, store nothing of it
	}
	_ = b[max(bstride+32*k-1, 0)]   // the panels are there
	_ = a[max((rows-1)*lda+k-1, 0)] // and the rows of A
	_ = c[(rows-1)*ldc+cols-1]      // and of C
	bp := &b[0]
	if bias != nil {
		_ = bias[cols-1]
		bp = &bias[0]
	}
	sgemmKernelNarrow(k, &a[0], lda, &b[0], bstride, &c[0], ldc, alpha, rows, sgemmNarrowMasks(cols), sgemmMode(set, bias), bp)
}

// sgemmRow512 is sgemmArch.row for AVX-512: sgemmKernelRow on four
// panels, sgemmKernelNarrow on fewer.
func sgemmRow512(k int, a, b []float32, bstride int, c []float32, alpha float32, cols int, set bool, bias []float32) {
	if cols <= 96 {
		for j := 0; j < cols; j += 64 {
			var bj []float32
			if bias != nil {
				bj = bias[j:]
			}
			sgemmNarrow512(k, a, 0, b[j/32*bstride:], bstride, c[j:], 0, alpha, 1, min(64, cols-j), set, bj)
		}
		return
	}
	_ = b[max(3*bstride+32*k-1, 0)] // the four panels are there
	_ = a[max(k-1, 0)]
	_ = c[cols-1]
	bp := &b[0]
	if bias != nil {
		_ = bias[cols-1]
		bp = &bias[0]
	}
	sgemmKernelRow(k, &a[0], &b[0], bstride, &c[0], alpha, sgemmNarrowMasks(cols), sgemmNarrowMasks(cols-64), sgemmMode(set, bias), bp)
}

// sgemmArchFor is the packed product's kernel at level l (nil: gonum's).
func sgemmArchFor(l Level) *sgemmArch {
	switch l {
	case AVX512:
		return sgemmAVX512
	case AVX2:
		return sgemmAVX2
	}
	return nil
}

// Packed reports whether the active level has the packed product (AVX2 or
// AVX-512): Sgemm uses it, and only then can a PackedB be packed.
func Packed() bool { return active >= AVX2 }

// PackedCols is the number of columns in each panel of a PackedB packed at
// the active level: column stripes of op(B) that start at multiples of it
// pack without partial panels but the last.
func PackedCols() int {
	if a := sgemmArchFor(active); a != nil {
		return a.nr
	}
	return 0
}

// sgemmAdd6x16 is sgemmArch.add for the AVX2 kernel: full tiles go
// straight to C, partial ones through buf.tile.
func sgemmAdd6x16(buf *sgemmBuffers, k int, a, b, c []float32, ldc int, alpha float32, rows, cols int, set bool) {
	if rows == 6 && cols == 16 {
		if set {
			sgemmKernel6x16Set(k, &a[0], &b[0], &c[0], ldc, alpha)
		} else {
			sgemmKernel6x16Add(k, &a[0], &b[0], &c[0], ldc, alpha)
		}
		return
	}
	sgemmKernel6x16(k, &a[0], &b[0], &buf.tile[0])
	for i := 0; i < rows; i++ {
		crow := c[i*ldc:][:cols]
		for j, v := range buf.tile[i*16 : i*16+cols] {
			if set {
				crow[j] = alpha * v
			} else {
				crow[j] += alpha * v
			}
		}
	}
}

// sgemmBias6x16 is sgemmArch.addBias for the AVX2 kernel: the bias
// copied into the tile's rows of C, then the product added to it, which
// rounds as AVX-512's fused store does.
func sgemmBias6x16(buf *sgemmBuffers, k int, a, b, c []float32, ldc int, alpha float32, rows, cols int, bias []float32) {
	for i := 0; i < rows; i++ {
		copy(c[i*ldc:][:cols], bias[:cols])
	}
	sgemmAdd6x16(buf, k, a, b, c, ldc, alpha, rows, cols, false)
}

// sgemmBuffers holds one thread's packed blocks and micro-tile.
type sgemmBuffers struct {
	a, b []float32
	tile [sgemmMaxTile]float32
}

// sgemmFree holds the buffers of finished products for the next ones.
// Unlike a sync.Pool, which garbage collection empties, it keeps them, so
// that a warm server's products allocate nothing (1.1 MB each otherwise):
// as many as ran at once, up to sgemmFreeMax.
var sgemmFree = struct {
	mu   sync.Mutex
	bufs []*sgemmBuffers
}{bufs: make([]*sgemmBuffers, 0, sgemmFreeMax)}

// sgemmFreeMax bounds the buffers kept: products running at once beyond
// it (many goroutines each calling Sgemm) allocate theirs.
const sgemmFreeMax = 64

func getSgemmBuffers() *sgemmBuffers {
	sgemmFree.mu.Lock()
	if n := len(sgemmFree.bufs); n > 0 {
		b := sgemmFree.bufs[n-1]
		sgemmFree.bufs = sgemmFree.bufs[:n-1]
		sgemmFree.mu.Unlock()
		return b
	}
	sgemmFree.mu.Unlock()
	return &sgemmBuffers{a: make([]float32, sgemmMC*sgemmKC), b: make([]float32, sgemmKC*sgemmNC)}
}

func putSgemmBuffers(b *sgemmBuffers) {
	sgemmFree.mu.Lock()
	if len(sgemmFree.bufs) < sgemmFreeMax {
		sgemmFree.bufs = append(sgemmFree.bufs, b)
	}
	sgemmFree.mu.Unlock()
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// where op(A) is m×k, op(B) is k×n and C is m×n, on up to threads
// goroutines (1 inside a caller that already splits its work across the
// cores). It uses the packed product where the active level has it and
// gonum's Sgemm, which splits its work its own way, otherwise.
func Sgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if !Packed() {
		ta, tb := blas.NoTrans, blas.NoTrans
		if transA {
			ta = blas.Trans
		}
		if transB {
			tb = blas.Trans
		}
		blas32.Implementation().Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmWith(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, nil, beta, c, ldc, false)
}

// SgemmParts is the number of parts Sgemm splits a product of m×n into
// for up to threads goroutines: stripes of whole micro-tiles along C's
// longer side (1 without the packed product).
func SgemmParts(threads, m, n int) int {
	arch := sgemmArchFor(active)
	if !Packed() || arch == nil || m == 0 || n == 0 {
		return 1
	}
	size, unit := m, arch.mr
	if n >= m {
		size, unit = n, arch.nr
	}
	return max(1, min(threads, (size+unit-1)/unit))
}

// SgemmPart computes part of the parts (SgemmParts) of Sgemm's product
// on the calling goroutine: the stripe Sgemm's own goroutine would, with
// the same bits, for a caller that runs the parts on goroutines of its
// own (Sgemm starts one per part).
func SgemmPart(part, parts int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	arch := sgemmArchFor(active)
	if parts <= 1 || !Packed() || arch == nil {
		Sgemm(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	byCols := n >= m
	size, unit := m, arch.mr
	if byCols {
		size, unit = n, arch.nr
	}
	tiles := (size + unit - 1) / unit
	from, to := part*tiles/parts*unit, min((part+1)*tiles/parts*unit, size)
	if from >= to {
		return
	}
	if byCols {
		bOff := from // column from of op(B)
		if transB {
			bOff = from * ldb
		}
		Sgemm(1, transA, transB, m, to-from, k, alpha, a, lda, b[bOff:], ldb, beta, c[from:], ldc)
		return
	}
	aOff := from * lda // row from of op(A)
	if transA {
		aOff = from
	}
	Sgemm(1, transA, transB, to-from, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[from*ldc:], ldc)
}

// SgemmPacked is Sgemm with op(B) = p, on the calling goroutine, with the
// kernel p was packed for.
func SgemmPacked(transA bool, m, n, k int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	if p.k != k || p.n != n {
		panic(fmt.Sprintf("kernel: packed weights are %d×%d, the product needs %d×%d", p.k, p.n, k, n))
	}
	sgemmWith(1, transA, false, m, n, k, alpha, a, lda, nil, 0, p, beta, c, ldc, false)
}

// SgemmPackedReverse is SgemmPacked going through the panels of columns
// from the last to the first: the same bits. A recurrence
// that multiplies by the same weights at every step alternates the two,
// so that each step starts with the panels the last one read most
// recently: weights about the size of the cache (an LSTM's W_hh of 4H×H
// floats, 1 MiB at H 256) then mostly stay there, where a sweep in the
// same order every time would evict each panel just before it is needed.
func SgemmPackedReverse(transA bool, m, n, k int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	if p.k != k || p.n != n {
		panic(fmt.Sprintf("kernel: packed weights are %d×%d, the product needs %d×%d", p.k, p.n, k, n))
	}
	sgemmWith(1, transA, false, m, n, k, alpha, a, lda, nil, 0, p, beta, c, ldc, true)
}

// SgemmPackedBias sets C = op(A)·p + bias, the n values of bias added to
// every row (a dense layer's bias), on the calling goroutine: SgemmPacked
// with alpha 1 and beta 0 that stores the bias with the product's first
// depth block, so that C is neither filled with the bias first nor read.
// It gives the bits of filling C with the bias and calling SgemmPacked
// with beta 1.
func SgemmPackedBias(transA bool, m, n, k int, a []float32, lda int, p *PackedB, bias, c []float32, ldc int) {
	if p.k != k || p.n != n {
		panic(fmt.Sprintf("kernel: packed weights are %d×%d, the product needs %d×%d", p.k, p.n, k, n))
	}
	if len(bias) < n {
		panic(fmt.Sprintf("kernel: a bias of %d values for %d columns", len(bias), n))
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			copy(c[i*ldc:][:n], bias[:n])
		}
		return
	}
	sgemmSerial(p.arch, transA, false, m, n, k, 1, a, lda, nil, 0, p, true, bias, c, ldc, false)
}

// sgemmWith is the packed product, taking op(B) from packed when it is not
// nil (then on the calling goroutine only, in reverse column order with
// rev).
func sgemmWith(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, packed *PackedB, beta float32, c []float32, ldc int, rev bool) {
	if m == 0 || n == 0 {
		return
	}
	// With beta 0 the first depth block stores its product instead of
	// adding it, so C need not be cleared first (unless nothing is added).
	set := beta == 0 && k > 0 && alpha != 0
	if beta != 1 && !set {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
				continue
			}
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if k == 0 || alpha == 0 {
		return
	}
	arch := sgemmArchFor(active)
	if packed != nil {
		arch = packed.arch
	}
	// Split C into stripes of whole micro-tiles along its longer side.
	byCols := n >= m
	size, unit := m, arch.mr
	if byCols {
		size, unit = n, arch.nr
	}
	parts := min(threads, (size+unit-1)/unit)
	if parts <= 1 || packed != nil {
		sgemmSerial(arch, transA, transB, m, n, k, alpha, a, lda, b, ldb, packed, set, nil, c, ldc, rev && packed != nil)
		return
	}
	tiles := (size + unit - 1) / unit
	stripeArch := arch // not the reassigned arch, which the closure would move to the heap on every call
	par.Fork(parts, func(p int) {
		from, to := p*tiles/parts*unit, min((p+1)*tiles/parts*unit, size)
		if from >= to {
			return
		}
		if byCols {
			bOff := from // column from of op(B)
			if transB {
				bOff = from * ldb
			}
			sgemmSerial(stripeArch, transA, transB, m, to-from, k, alpha, a, lda, b[bOff:], ldb, nil, set, nil, c[from:], ldc, false)
			return
		}
		aOff := from * lda // row from of op(A)
		if transA {
			aOff = from
		}
		sgemmSerial(stripeArch, transA, transB, to-from, n, k, alpha, a[aOff:], lda, b, ldb, nil, set, nil, c[from*ldc:], ldc, false)
	})
}

// sgemmSerial adds alpha·op(A)·op(B) to C on the calling goroutine (or
// stores it, with set; plus bias[j] in column j, with set and bias not
// nil), packing op(B) unless packed holds it already. Full panels of a
// row-major A are read in place when the kernel can (arch.direct); only
// the rest of A is packed; up to sgemmNarrowMax rows past them go through
// arch.narrow, read in place too. With rev (packed only), the blocks of
// columns and the panels in them are taken last to first.
func sgemmSerial(arch *sgemmArch, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, packed *PackedB, set bool, bias, c []float32, ldc int, rev bool) {
	buf := getSgemmBuffers()
	defer putSgemmBuffers(buf)
	direct := !transA && arch.direct != nil
	narrow := !transA && arch.narrow != nil
	depthBlocks := (k + sgemmKC - 1) / sgemmKC
	lastJC := (n - 1) / sgemmNC * sgemmNC
	for jcf := 0; jcf < n; jcf += sgemmNC {
		jc := jcf
		if rev {
			jc = lastJC - jcf
		}
		nc := min(sgemmNC, n-jc)
		for pc := 0; pc < k; pc += sgemmKC {
			kc := min(sgemmKC, k-pc)
			bp := buf.b
			if packed != nil {
				bp = packed.blocks[jc/sgemmNC*depthBlocks+pc/sgemmKC]
			} else {
				sgemmPackB(bp, b, arch.nr, transB, ldb, pc, jc, kc, nc)
			}
			first := set && pc == 0 // the first depth block stores
			for ic := 0; ic < m; ic += sgemmMC {
				mc := min(sgemmMC, m-ic)
				full := 0 // rows of this block read in place
				if direct {
					full = mc / arch.mr * arch.mr
				}
				thin := 0 // rows after them that go through arch.narrow
				if narrow && mc-full <= sgemmNarrowMax {
					thin = mc - full
				}
				if full+thin < mc {
					sgemmPackA(buf.a[full*kc:], a, arch.mr, transA, lda, ic+full, pc, mc-full, kc)
				}
				lastTile := (nc - 1) / arch.nr * arch.nr
				for jrf := 0; thin < mc && jrf < nc; jrf += arch.nr {
					jr := jrf
					if rev {
						jr = lastTile - jrf
					}
					cols := min(arch.nr, nc-jr)
					var bj []float32 // the bias of these columns, stored with the first block
					if first && bias != nil {
						bj = bias[jc+jr:]
					}
					for ir := 0; ir < mc-thin; ir += arch.mr {
						cij := c[(ic+ir)*ldc+jc+jr:]
						switch {
						case ir < full:
							arch.direct(kc, a[(ic+ir)*lda+pc:], lda, bp[jr*kc:], cij, ldc, alpha, cols, first, bj)
						case bj != nil:
							arch.addBias(buf, kc, buf.a[ir*kc:], bp[jr*kc:], cij, ldc, alpha, min(arch.mr, mc-ir), cols, bj)
						default:
							arch.add(buf, kc, buf.a[ir*kc:], bp[jr*kc:], cij, ldc, alpha, min(arch.mr, mc-ir), cols, first)
						}
					}
				}
				step := 2 * arch.nr // columns per call of arch.narrow
				if thin == 1 && arch.row != nil {
					step = 4 * arch.nr
				}
				lastJR := (nc - 1) / step * step
				for jrf := 0; thin > 0 && jrf < nc; jrf += step {
					jr := jrf
					if rev {
						jr = lastJR - jrf
					}
					cols := min(step, nc-jr)
					var bj []float32
					if first && bias != nil {
						bj = bias[jc+jr:]
					}
					if step == 4*arch.nr {
						arch.row(kc, a[(ic+full)*lda+pc:], bp[jr*kc:], arch.nr*kc, c[(ic+full)*ldc+jc+jr:], alpha, cols, first, bj)
						continue
					}
					for ir := full; ir < mc; ir += sgemmNarrowRows {
						rows := min(sgemmNarrowRows, mc-ir)
						arch.narrow(kc, a[(ic+ir)*lda+pc:], lda, bp[jr*kc:], arch.nr*kc, c[(ic+ir)*ldc+jc+jr:], ldc, alpha, rows, cols, first, bj)
					}
				}
			}
		}
	}
}

// sgemmPackA copies op(A)[ic:ic+mc, pc:pc+kc] into panels of MR rows, each
// stored depth-major (the MR values of one depth together), zero-padding
// the last panel.
func sgemmPackA(dst, a []float32, mr int, trans bool, lda, ic, pc, mc, kc int) {
	for ir := 0; ir < mc; ir += mr {
		panel := dst[ir*kc : ir*kc+kc*mr]
		rows := min(mr, mc-ir)
		if rows < mr {
			clear(panel)
		}
		if trans { // op(A)'s rows are a's columns: copy a's rows piecewise
			switch {
			case rows == 12 && mr == 12: // fixed-size moves, not a memmove call each
				for p := 0; p < kc; p++ {
					*(*[12]float32)(panel[p*12:]) = *(*[12]float32)(a[(pc+p)*lda+ic+ir:])
				}
			case rows == 6 && mr == 6:
				for p := 0; p < kc; p++ {
					*(*[6]float32)(panel[p*6:]) = *(*[6]float32)(a[(pc+p)*lda+ic+ir:])
				}
			default:
				for p := 0; p < kc; p++ {
					copy(panel[p*mr:p*mr+rows], a[(pc+p)*lda+ic+ir:][:rows])
				}
			}
			continue
		}
		if rows == 6 && mr == 6 { // interleave six rows, one depth at a time
			r0 := a[(ic+ir)*lda+pc:][:kc]
			r1 := a[(ic+ir+1)*lda+pc:][:kc]
			r2 := a[(ic+ir+2)*lda+pc:][:kc]
			r3 := a[(ic+ir+3)*lda+pc:][:kc]
			r4 := a[(ic+ir+4)*lda+pc:][:kc]
			r5 := a[(ic+ir+5)*lda+pc:][:kc]
			for p := range r0 {
				d := panel[p*6 : p*6+6]
				d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		if rows == 12 && mr == 12 { // two groups of six rows, one depth at a time
			for h := 0; h < 12; h += 6 {
				r0 := a[(ic+ir+h)*lda+pc:][:kc]
				r1 := a[(ic+ir+h+1)*lda+pc:][:kc]
				r2 := a[(ic+ir+h+2)*lda+pc:][:kc]
				r3 := a[(ic+ir+h+3)*lda+pc:][:kc]
				r4 := a[(ic+ir+h+4)*lda+pc:][:kc]
				r5 := a[(ic+ir+h+5)*lda+pc:][:kc]
				for p := range r0 {
					d := panel[p*12+h : p*12+h+6]
					d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
				}
			}
			continue
		}
		for i := 0; i < rows; i++ {
			src := a[(ic+ir+i)*lda+pc:][:kc]
			for p, v := range src {
				panel[p*mr+i] = v
			}
		}
	}
}

// sgemmPackB copies op(B)[pc:pc+kc, jc:jc+nc] into panels of NR columns,
// each stored depth-major, zero-padding the last panel.
func sgemmPackB(dst, b []float32, nr int, trans bool, ldb, pc, jc, kc, nc int) {
	for jr := 0; jr < nc; jr += nr {
		panel := dst[jr*kc : jr*kc+kc*nr]
		cols := min(nr, nc-jr)
		if cols < nr {
			clear(panel)
		}
		if trans {
			// Whole 16×16 blocks transposed in registers where the level
			// can (a serving Linear's batch, packed on every call), the
			// rest one value at a time.
			c16, k16 := cols&^15, kc&^15
			for j0 := 0; j0 < c16; j0 += 16 {
				if !transposeFast(panel[j0:], nr, b[(jc+jr+j0)*ldb+pc:], ldb, k16/16) {
					c16, k16 = 0, 0
					break
				}
			}
			for j := 0; j < cols; j++ {
				from := 0
				if j < c16 {
					from = k16
				}
				src := b[(jc+jr+j)*ldb+pc+from:][:kc-from]
				for p, v := range src {
					panel[(from+p)*nr+j] = v
				}
			}
			continue
		}
		switch {
		case cols == 32 && nr == 32: // fixed-size moves, not a memmove call each
			for p := 0; p < kc; p++ {
				*(*[32]float32)(panel[p*32:]) = *(*[32]float32)(b[(pc+p)*ldb+jc+jr:])
			}
		case cols == 16 && nr == 16:
			for p := 0; p < kc; p++ {
				*(*[16]float32)(panel[p*16:]) = *(*[16]float32)(b[(pc+p)*ldb+jc+jr:])
			}
		default:
			for p := 0; p < kc; p++ {
				copy(panel[p*nr:p*nr+cols], b[(pc+p)*ldb+jc+jr:][:cols])
			}
		}
	}
}

// PackedB is an op(B) packed once for products with many A (SgemmPacked):
// the recurrent weights, used at every time step, and the serving graph's
// weights.
type PackedB struct {
	arch   *sgemmArch // the kernel it is packed for
	k, n   int
	blocks [][]float32 // the packed blocks in sgemmSerial's loop order
}

// TileRows is the height of the micro-tile of the kernel p is packed for:
// a split of A into fewer rows than a few tiles leaves the kernel idle.
func (p *PackedB) TileRows() int { return p.arch.mr }

// Pack lays out op(B) = b (trans false) or bᵀ, of k×n with rows of b ldb
// apart, for the active level's kernel, reusing p's blocks. The level must
// have the packed product (Packed).
func (p *PackedB) Pack(trans bool, b []float32, ldb, k, n int) {
	arch := sgemmArchFor(active)
	if arch == nil {
		panic(fmt.Sprintf("kernel: no packed product at level %s", active))
	}
	p.arch, p.k, p.n = arch, k, n
	i := 0
	for jc := 0; jc < n; jc += sgemmNC {
		nc := min(sgemmNC, n-jc)
		for pc := 0; pc < k; pc += sgemmKC {
			kc := min(sgemmKC, k-pc)
			if i == len(p.blocks) {
				p.blocks = append(p.blocks, nil)
			}
			nr := p.arch.nr
			p.blocks[i] = resize(p.blocks[i], kc*(nc+nr-1)/nr*nr)
			sgemmPackB(p.blocks[i], b, nr, trans, ldb, pc, jc, kc, nc)
			i++
		}
	}
	p.blocks = p.blocks[:i]
}

// resize returns s with length n, reallocated only when its capacity is
// short.
func resize(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
