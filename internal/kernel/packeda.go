package kernel

import "fmt"

// A dense layer with fewer rows than outputs — the ConvNet's 8192→1024
// layer at a batch of 32 — is cheaper as yᵀ = W·xᵀ than as y = x·Wᵀ when
// the weights are packed once: W becomes the packed left operand (panels
// of the tile's rows, streamed from memory once per product) and the
// batch's rows, transposed, one panel of the tile's columns that stays in
// cache, so that every weight read is used for every row of the batch in
// one tile with no rows left over. PackedA holds W in that layout.

// PackedA is op(A) = a [m, k] packed once, for products A·B with many B
// (SgemmPackedAXt): panels of the active level's tile rows, one block of
// all panels per depth block, the blocks in one allocation in the order
// the product reads them.
type PackedA struct {
	arch   *sgemmArch // the kernel it is packed for
	m, k   int
	blocks [][]float32 // blocks[pc/sgemmKC]: the panels of depths pc…pc+kc, panel q at q·mr·kc
}

// PackedRows is the number of rows in each panel of a PackedA packed at
// the active level: row stripes of A that start at multiples of it pack
// without partial panels but the last. 0 without the packed product.
func PackedRows() int {
	if a := sgemmArchFor(active); a != nil {
		return a.mr
	}
	return 0
}

// PackedAStreams reports whether SgemmPackedAXt at the active level has
// the kernel that prefetches its left operand (AVX-512) and the packing
// of a transposed right operand moves whole blocks in registers: without
// them, the ConvNet's 8192→1024 layer at a batch of 32 was no faster as
// W·xᵀ than as x·Wᵀ (AVX2, one thread: 64–71 GFLOP/s both ways).
func PackedAStreams() bool {
	a := sgemmArchFor(active)
	return a != nil && a.streamA != nil
}

// Pack lays out a [m, k] (rows lda apart) for the active level's kernel.
// The level must have the packed product (Packed).
func (p *PackedA) Pack(a []float32, lda, m, k int) {
	arch := sgemmArchFor(active)
	if arch == nil {
		panic(fmt.Sprintf("kernel: no packed product at level %s", active))
	}
	p.arch, p.m, p.k = arch, m, k
	p.blocks = p.blocks[:0]
	if m == 0 || k == 0 {
		return
	}
	rows := (m + arch.mr - 1) / arch.mr * arch.mr
	all := make([]float32, rows*k)
	for pc := 0; pc < k; pc += sgemmKC {
		kc := min(sgemmKC, k-pc)
		blk := all[rows*pc : rows*(pc+kc)]
		sgemmPackA(blk, a, arch.mr, false, lda, 0, pc, m, kc)
		p.blocks = append(p.blocks, blk)
	}
}

// PackedXtLen is the length of the buffer SgemmPackedAXt packs a block of
// xᵀ into, for x of n rows.
func PackedXtLen(n int) int {
	nr := 1
	if a := sgemmArchFor(active); a != nil {
		nr = a.nr
	}
	return sgemmKC * ((min(n, sgemmNC) + nr - 1) / nr * nr)
}

// SgemmPackedAXt sets C [m, n] = a·xᵀ (set) or adds it, for a packed
// m×k and x [n, k] (rows ldx apart), on the calling goroutine. xᵀ is
// packed one block at a time into buf (PackedXtLen(n) floats) just before
// the block's products, instead of once for all threads: no thread waits
// for another's packing (under load, a thread descheduled while it packed
// a shared block stalled the others), and each block is read from the
// first-level cache it was just written to. Each element is the sum of
// the same fused multiply-adds in the same order as in SgemmPacked's
// product the other way round (Cᵀ = x·aᵀ, with x read in place and aᵀ
// packed as a PackedB): the same bits.
func SgemmPackedAXt(a *PackedA, x []float32, ldx, n int, buf, c []float32, ldc int, set bool) {
	arch := a.arch
	if arch == nil {
		panic("kernel: SgemmPackedAXt of an unpacked operand")
	}
	buf = buf[:PackedXtLen(n)]
	sgemmPackedA(a, n, c, ldc, set, func(jc, pb int) []float32 {
		pc := pb * sgemmKC
		kc, nc := min(sgemmKC, a.k-pc), min(sgemmNC, n-jc)
		blk := buf[:kc*((nc+arch.nr-1)/arch.nr*arch.nr)]
		sgemmPackB(blk, x, arch.nr, true, ldx, pc, jc, kc, nc)
		return blk
	})
}

// sgemmPackedA sets C [m, n] = a·B or adds it, where block(jc, pb)
// returns the packed block of B's columns jc… at depth block pb, called
// once per block in the order the product reads them.
func sgemmPackedA(a *PackedA, n int, c []float32, ldc int, set bool, block func(jc, pb int) []float32) {
	m, k := a.m, a.k
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if set {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	_ = c[(m-1)*ldc+n-1]
	arch := a.arch
	buf := getSgemmBuffers()
	defer putSgemmBuffers(buf)
	for jc := 0; jc < n; jc += sgemmNC {
		nc := min(sgemmNC, n-jc)
		for pb, blk := range a.blocks {
			pc := pb * sgemmKC
			kc := min(sgemmKC, k-pc)
			bp := block(jc, pb)
			first := set && pc == 0
			for ir := 0; ir < m; ir += arch.mr {
				ap := blk[ir*kc:]
				for jr := 0; jr < nc; jr += arch.nr {
					rows, cols, cij := min(arch.mr, m-ir), min(arch.nr, nc-jr), c[ir*ldc+jc+jr:]
					if arch.streamA != nil {
						arch.streamA(kc, ap, bp[jr*kc:], cij, ldc, 1, rows, cols, first)
						continue
					}
					arch.add(buf, kc, ap, bp[jr*kc:], cij, ldc, 1, rows, cols, first)
				}
			}
		}
	}
}
