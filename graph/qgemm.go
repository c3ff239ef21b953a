package graph

import (
	"encoding/binary"
	"runtime"
	"sync"
	"unsafe"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// Int8 matrix products for the quantized serving graph.
//
// qgemm computes C[i][j] = Σ_p A[i][p]·B[j][p] exactly in int32, for A
// int8 [m, k] (activations, quantized at run time) and B int8 [n, k]
// (weights, quantized once, one row per output channel). Every path gives
// the same integers as the pure-Go reference qgemmRef, bit for bit, as long
// as k ≤ 65535 (then no int32 sum can overflow: |a·b| ≤ 128·128 and, on the
// VNNI path, the offset sums below stay under 2³¹).
//
// The paths, chosen from internal/simd's active level:
//
//   - VNNI (level avx512 on a CPU with AVX-512 VNNI): vpdpbusd multiplies
//     unsigned by signed bytes, so A is stored offset by 128 (a+128 = a XOR
//     0x80, in [0, 255]) and the product picks up 128·Σ_p B[j][p], which is
//     computed when B is packed and subtracted from every result. Tiles are
//     6 rows × 32 columns, four depths per instruction.
//   - AVX2 (level avx2, or avx512 without VNNI): vpmaddubsw would saturate
//     its 16-bit pair sums, so A and B are widened to int16 and multiplied
//     with vpmaddwd (two depths per instruction, exact 32-bit sums). Tiles
//     are 6 × 16.
//   - generic: Go loops over the int8 values (qgemmRef).
//
// B is packed once into panels of nr columns, zero-padded to whole panels
// and to a depth that is a multiple of the instruction's group (4 or 2);
// A is converted per call into rows of the same padded depth.

// qgemmArch is one int8 micro-kernel and its layout.
type qgemmArch struct {
	name   string
	mr, nr int // tile rows and columns
	group  int // depths per instruction: the padded depth is a multiple
	// kernel writes the mr×nr tile (row-major, int32) of the product of
	// rows (1..mr) rows of converted A starting at a (rows lda bytes
	// apart; missing rows repeat the first) and one packed B panel.
	kernel func(kq int, a []byte, lda, rows int, b []byte, tile []int32)
	wide   bool // A and B are int16 (AVX2); otherwise bytes
	offset bool // A is stored +128 and results need the column offsets
}

var (
	qgemmGeneric = &qgemmArch{name: "generic", mr: 1, nr: 1, group: 1}
	qgemmAVX2    = &qgemmArch{name: "avx2", mr: 6, nr: 16, group: 2, wide: true, kernel: qgemmKernelAVX2}
	qgemmVNNI    = &qgemmArch{name: "avx512vnni", mr: 6, nr: 32, group: 4, offset: true, kernel: qgemmKernelVNNI}
)

// qgemmArchFor is the int8 kernel at level l.
func qgemmArchFor(l kern.Level) *qgemmArch {
	switch {
	case l >= kern.AVX512 && kern.VNNI():
		return qgemmVNNI
	case l >= kern.AVX2:
		return qgemmAVX2
	}
	return qgemmGeneric
}

// qgemmCur is the int8 kernel of the active level; setSIMD does not switch
// it, so tests pick an arch explicitly.
var qgemmCur = qgemmArchFor(kern.Active())

// QGemmPath names the int8 kernel in use ("avx512vnni", "avx2" or
// "generic").
func QGemmPath() string { return qgemmArchFor(kern.Active()).name }

// qgemmRef is the reference: c[i·ldc+j] = Σ_p a[i·lda+p]·b[j·ldb+p].
func qgemmRef(m, n, k int, a []int8, lda int, b []int8, ldb int, c []int32, ldc int) {
	for i := 0; i < m; i++ {
		ar := a[i*lda : i*lda+k]
		for j := 0; j < n; j++ {
			br := b[j*ldb : j*ldb+k]
			var s int32
			for p, v := range ar {
				s += int32(v) * int32(br[p])
			}
			c[i*ldc+j] = s
		}
	}
}

// qPacked is a weight matrix B [n, k] laid out for one arch.
type qPacked struct {
	arch   *qgemmArch
	n, k   int
	kp     int     // padded depth
	raw    []int8  // generic: B itself, [n, k]
	panels []byte  // one panel per nr columns: depth groups × nr columns × group values
	offs   []int32 // VNNI: 128·Σ_p B[j][p] per column
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// qpack lays out b [n, k] (rows ldb apart) for arch.
func qpack(arch *qgemmArch, n, k int, b []int8, ldb int) *qPacked {
	p := &qPacked{arch: arch, n: n, k: k, kp: roundUp(max(k, 1), arch.group)}
	if arch.kernel == nil {
		p.raw = make([]int8, n*k)
		for j := 0; j < n; j++ {
			copy(p.raw[j*k:(j+1)*k], b[j*ldb:j*ldb+k])
		}
		return p
	}
	g, nr := arch.group, arch.nr
	elem := 1
	if arch.wide {
		elem = 2
	}
	panels := (n + nr - 1) / nr
	per := p.kp * nr * elem // bytes per panel
	p.panels = make([]byte, panels*per)
	if arch.offset {
		p.offs = make([]int32, n)
	}
	for j := 0; j < n; j++ {
		panel, col := p.panels[j/nr*per:], j%nr
		var sum int32
		for q, v := range b[j*ldb : j*ldb+k] {
			sum += int32(v)
			// Depth q is value q%g of column col in group q/g.
			at := ((q/g)*nr+col)*g + q%g
			if arch.wide {
				u := uint16(int16(v))
				panel[2*at], panel[2*at+1] = byte(u), byte(u>>8)
			} else {
				panel[at] = byte(v)
			}
		}
		if arch.offset {
			p.offs[j] = 128 * sum
		}
	}
	return p
}

// qActs is A converted for an arch: rows of kp values (bytes +128, or
// little-endian int16).
type qActs struct {
	buf  []byte
	lda  int // bytes per row
	rows int
}

// elem is the size in bytes of one converted value.
func (arch *qgemmArch) elem() int {
	if arch.wide {
		return 2
	}
	return 1
}

// encode writes src converted for arch to dst (len(src)·elem bytes):
// int16 for AVX2, +128 bytes for VNNI, the bytes themselves for generic.
func (arch *qgemmArch) encode(dst []byte, src []int8) {
	switch {
	case arch.wide:
		for t, v := range src {
			u := uint16(int16(v))
			dst[2*t], dst[2*t+1] = byte(u), byte(u>>8)
		}
	case arch.offset:
		// Eight bytes at a time: XOR with 0x80 in every byte.
		n := len(src) &^ 7
		s := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src))), len(src))
		for t := 0; t < n; t += 8 {
			binary.LittleEndian.PutUint64(dst[t:], binary.LittleEndian.Uint64(s[t:])^0x8080808080808080)
		}
		for t := n; t < len(src); t++ {
			dst[t] = s[t] ^ 0x80
		}
	default:
		copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src))), len(src)))
	}
}

// convert fills q from a [m, k] (rows lda apart) for p's arch.
func (q *qActs) convert(p *qPacked, m int, a []int8, lda int) {
	elem := p.arch.elem()
	q.lda, q.rows = p.kp*elem, m
	if need := m * q.lda; cap(q.buf) < need {
		q.buf = make([]byte, need)
	} else {
		q.buf = q.buf[:need]
	}
	for i := 0; i < m; i++ {
		row := q.buf[i*q.lda : (i+1)*q.lda]
		if len(a) > 0 {
			p.arch.encode(row, a[i*lda:i*lda+p.k])
		}
		clear(row[p.k*elem:]) // padding depths: B is zero there
	}
}

// qVisit receives one tile of C: rows i0.., columns j0.. of C are
// C[i0+r][j0+c] = tile[r·ldt+c] − offs[c] for r < rows, c < cols (offs
// is nil when there is nothing to subtract: the VNNI path leaves its
// column offsets to the visitor, which subtracts them in its vector loop).
type qVisit func(i0, rows, j0, cols int, tile []int32, ldt int, offs []int32)

// qgemmTiles runs the product of a [m, k] (rows lda apart) and p on up to
// threads goroutines and hands every tile to visit. Tiles of different
// threads are visited concurrently; each element of C once.
func qgemmTiles(threads, m int, a []int8, lda int, p *qPacked, visit qVisit) {
	if m == 0 || p.n == 0 {
		return
	}
	acts := qActsPool.Get().(*qActs)
	defer qActsPool.Put(acts)
	if p.arch.kernel == nil {
		acts.buf, acts.lda, acts.rows = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), len(a)), lda, m
	} else {
		acts.convert(p, m, a, lda)
	}
	qgemmTilesActs(threads, acts, p, visit)
	acts.buf = nil
}

// qgemmTilesActs is qgemmTiles for rows already converted for p's arch:
// row i starts at acts.buf[i·acts.lda] and has p.kp values (p.k for the
// generic arch) readable, which may overlap the next rows.
func qgemmTilesActs(threads int, acts *qActs, p *qPacked, visit qVisit) {
	m := acts.rows
	if m == 0 || p.n == 0 {
		return
	}
	arch := p.arch
	if arch.kernel == nil {
		threads = max(1, min(threads, m))
		a := unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(acts.buf))), len(acts.buf))
		run := func(from, to int) {
			tile := make([]int32, p.n)
			for i := from; i < to; i++ {
				qgemmRef(1, p.n, p.k, a[i*acts.lda:], acts.lda, p.raw, p.k, tile, p.n)
				visit(i, 1, 0, p.n, tile, p.n, nil)
			}
		}
		if threads == 1 {
			run(0, m)
			return
		}
		var wg sync.WaitGroup
		for t := range threads {
			wg.Go(func() { run(t*m/threads, (t+1)*m/threads) })
		}
		wg.Wait()
		return
	}
	nr, mr := arch.nr, arch.mr
	panels := (p.n + nr - 1) / nr
	elem := 1
	if arch.wide {
		elem = 2
	}
	per := p.kp * nr * elem
	kq := p.kp / arch.group
	// Split along columns when there are enough panels, else along rows.
	byCols := panels >= threads
	units := panels
	if !byCols {
		units = (m + mr - 1) / mr
	}
	threads = max(1, min(threads, units))
	run := func(from, to int) {
		tile := make([]int32, mr*nr)
		pf, pt, rf, rt := 0, panels, 0, (m+mr-1)/mr
		if byCols {
			pf, pt = from, to
		} else {
			rf, rt = from, to
		}
		for pi := pf; pi < pt; pi++ {
			panel := p.panels[pi*per : (pi+1)*per]
			j0 := pi * nr
			cols := min(nr, p.n-j0)
			for ri := rf; ri < rt; ri++ {
				i0 := ri * mr
				rows := min(mr, m-i0)
				arch.kernel(kq, acts.buf[i0*acts.lda:], acts.lda, rows, panel, tile)
				var offs []int32
				if arch.offset {
					offs = p.offs[j0 : j0+cols]
				}
				visit(i0, rows, j0, cols, tile, nr, offs)
			}
		}
	}
	if threads == 1 {
		run(0, units)
		return
	}
	var wg sync.WaitGroup
	for t := range threads {
		wg.Go(func() { run(t*units/threads, (t+1)*units/threads) })
	}
	wg.Wait()
}

var qActsPool = sync.Pool{New: func() any { return &qActs{} }}

// qgemm sets c [m, n] (rows ldc apart) = a [m, k]·Bᵀ in int32; it writes
// nothing else of c.
func qgemm(threads, m int, a []int8, lda int, p *qPacked, c []int32, ldc int) {
	qgemmTiles(threads, m, a, lda, p, func(i0, rows, j0, cols int, tile []int32, ldt int, offs []int32) {
		for r := 0; r < rows; r++ {
			dst := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j0+cols]
			copy(dst, tile[r*ldt:r*ldt+cols])
			for j, o := range offs {
				dst[j] -= o
			}
		}
	})
}

// qthreads is the number of goroutines an int8 product of m×n×k uses:
// one below about a million multiply-adds, where starting goroutines costs
// more than it saves.
func qthreads(m, n, k int) int {
	if m*n*k < 1<<20 {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// dequantGo is dequantRow in Go, for dst from value off on (bias and
// offs are indexed from off; offs may be nil).
func dequantGo(dst []float32, src []int32, offs []int32, sw, bias []float32, off int, sx float32, add bool) {
	if offs != nil {
		offs = offs[off:]
	}
	if !add {
		bias = bias[off:]
	}
	for j, a := range src[:len(dst)] {
		if offs != nil {
			a -= offs[j]
		}
		if add {
			dst[j] += float32(a) * (sx * sw[j])
		} else {
			dst[j] = float32(a)*(sx*sw[j]) + bias[j]
		}
	}
}
