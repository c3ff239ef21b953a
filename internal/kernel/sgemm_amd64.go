//go:build amd64 && !purego

package kernel

// sgemmKernel6x16 writes to c (a 6×16 row-major tile) the product of a
// packed A panel (k depths of 6 values) and a packed B panel (k depths of
// 16 values): c[i][j] = Σ_p a[6p+i]·b[16p+j].
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32)

// sgemmKernel6x16Add is sgemmKernel6x16 adding alpha times the tile to the
// 6×16 block of C at c, whose rows are ldc floats apart.
//
//go:noescape
func sgemmKernel6x16Add(k int, a, b, c *float32, ldc int, alpha float32)

// sgemmKernel6x16Set is sgemmKernel6x16Add storing alpha times the tile
// instead of adding it.
//
//go:noescape
func sgemmKernel6x16Set(k int, a, b, c *float32, ldc int, alpha float32)

// sgemmKernel12x32Set is sgemmKernel12x32 storing alpha times the tile into
// the masked block instead of adding it: C is not read.
//
//go:noescape
func sgemmKernel12x32Set(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32)

// sgemmKernel12x32 adds alpha times the product of a packed A panel (k
// depths of 12 values) and a packed B panel (k depths of 32 values) to the
// first rows (1–12) rows and the columns set in mask0 (columns 0–15) and
// mask1 (16–31) of the block of C at c, whose rows are ldc floats apart.
// It reads and writes nothing of C outside them.
//
//go:noescape
func sgemmKernel12x32(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32)

// sgemmKernel12x32Strided is sgemmKernel12x32 reading A's 12×k block at
// a[i·rs + p·ds] (a packed panel: rs 1, ds 12; a row-major A in place: rs
// lda, ds 1), with mode 0 adding alpha times the tile to C, 1 storing it
// and 2 storing it plus bias[j] (sgemmAdd, sgemmSet, sgemmBias).
//
//go:noescape
func sgemmKernel12x32Strided(k int, a *float32, rs, ds int, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32, mode int, bias *float32)

// sgemmKernelNarrow is the product of rows (1–4) rows of a row-major A
// read in place (row i at a[i·lda]) and two packed B panels (k depths of
// 32 values at b and at b+bstride) into a rows×64 block of C under the
// column masks (four 16-bit masks, columns 0–15 in the lowest bits), in
// sgemmKernel12x32Strided's modes, with the same bits as the 12×32
// kernels: the small-m product (a batch of one) without 12-row tiles.
//
//go:noescape
func sgemmKernelNarrow(k int, a *float32, lda int, b *float32, bstride int, c *float32, ldc int, alpha float32, rows int, masks uint64, mode int, bias *float32)

// sgemmKernelRow is sgemmKernelNarrow for one row and four panels (128
// columns, panel j at b+j·bstride; masks0 for columns 0–63, masks1 for
// 64–127), with eight accumulators: a batch of one's product.
//
//go:noescape
func sgemmKernelRow(k int, a, b *float32, bstride int, c *float32, alpha float32, masks0, masks1 uint64, mode int, bias *float32)

// sgemmKernel12x32PA is sgemmKernel12x32 (with set, sgemmKernel12x32Set)
// prefetching the packed A panel ahead of the loop: for an A streamed
// from memory once per product while B stays in cache (SgemmPackedAXt).
// The same bits.
//
//go:noescape
func sgemmKernel12x32PA(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32, set bool)
