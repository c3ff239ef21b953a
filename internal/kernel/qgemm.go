package kernel

import (
	"encoding/binary"
	"sync"
	"unsafe"
)

// Int8 matrix products for the quantized serving graph.
//
// QGemm computes C[i][j] = Σ_p A[i][p]·B[j][p] exactly in int32, for A
// int8 [m, k] (activations, quantized at run time) and B int8 [n, k]
// (weights, quantized once, one row per output channel). Every path gives
// the same integers as the pure-Go reference qgemmRef, bit for bit, as long
// as k ≤ 65535 (then no int32 sum can overflow: |a·b| ≤ 128·128 and, on the
// VNNI path, the offset sums below stay under 2³¹).
//
// The paths, chosen from the active level:
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

// QArch is one int8 micro-kernel and its layout.
type QArch struct {
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
	qgemmGeneric = &QArch{name: "generic", mr: 1, nr: 1, group: 1}
	qgemmAVX2    = &QArch{name: "avx2", mr: 6, nr: 16, group: 2, wide: true, kernel: qgemmKernelAVX2}
	qgemmVNNI    = &QArch{name: "avx512vnni", mr: 6, nr: 32, group: 4, offset: true, kernel: qgemmKernelVNNI}
)

// qgemmArchFor is the int8 kernel at level l.
func qgemmArchFor(l Level) *QArch {
	switch {
	case l >= AVX512 && VNNI():
		return qgemmVNNI
	case l >= AVX2:
		return qgemmAVX2
	}
	return qgemmGeneric
}

// qgemmForced is the int8 kernel a test chose with SetQGemmArch (nil: the
// active level's).
var qgemmForced *QArch

// QGemmArch is the int8 kernel in use: the active level's.
func QGemmArch() *QArch {
	if qgemmForced != nil {
		return qgemmForced
	}
	return qgemmArchFor(active)
}

// SetQGemmArch makes a (one of QArches) the int8 kernel in use, whatever
// the level, and returns a function restoring the previous choice. It is
// for tests that run every int8 path with the same float32 kernels, and
// must not race with running kernels.
func SetQGemmArch(a *QArch) (restore func()) {
	old := qgemmForced
	qgemmForced = a
	return func() { qgemmForced = old }
}

// QArches lists the int8 kernels this CPU and build can run, generic
// first.
func QArches() []*QArch {
	arches := []*QArch{qgemmGeneric}
	if supported >= AVX2 {
		arches = append(arches, qgemmAVX2)
	}
	if supported >= AVX512 && VNNI() {
		arches = append(arches, qgemmVNNI)
	}
	return arches
}

// Name names the kernel: "avx512vnni", "avx2" or "generic".
func (arch *QArch) Name() string { return arch.name }

// QEncoding is how a kernel wants the int8 values of A stored.
type QEncoding int

const (
	QBytes  QEncoding = iota // the int8 values themselves (generic)
	QInt16                   // little-endian int16 (AVX2)
	QOffset                  // a+128, an unsigned byte (VNNI)
)

// Encoding is how arch wants the values of A stored.
func (arch *QArch) Encoding() QEncoding {
	switch {
	case arch.wide:
		return QInt16
	case arch.offset:
		return QOffset
	}
	return QBytes
}

// ZeroByte is the byte every byte of an encoded 0 holds: 0x80 for the
// +128 encoding, 0 for int8 and int16.
func (arch *QArch) ZeroByte() byte {
	if arch.offset {
		return 0x80
	}
	return 0
}

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

// QPacked is a weight matrix B [n, k] laid out for one arch.
type QPacked struct {
	arch   *QArch
	n, k   int
	kp     int     // padded depth
	raw    []int8  // generic: B itself, [n, k]
	panels []byte  // one panel per nr columns: depth groups × nr columns × group values
	offs   []int32 // VNNI: 128·Σ_p B[j][p] per column
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// QPack lays out b [n, k] (rows ldb apart) for arch.
func QPack(arch *QArch, n, k int, b []int8, ldb int) *QPacked {
	p := &QPacked{arch: arch, n: n, k: k, kp: roundUp(max(k, 1), arch.group)}
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

// Arch is the kernel p is laid out for.
func (p *QPacked) Arch() *QArch { return p.arch }

// Depth is p's depth padded for its kernel: rows of A converted for p hold
// Depth values, zero past the true depth k.
func (p *QPacked) Depth() int { return p.kp }

// QActs is A converted for an arch (Convert), or written in its encoding
// by the caller: row i starts at Buf[i·LDA] and has the packed weight's
// Depth values readable (its true depth k for the generic arch), which may
// overlap the next rows.
type QActs struct {
	Buf  []byte
	LDA  int // bytes from one row to the next
	Rows int
}

// Elem is the size in bytes of one converted value.
func (arch *QArch) Elem() int {
	if arch.wide {
		return 2
	}
	return 1
}

// Encode writes src converted for arch to dst (len(src)·Elem bytes):
// int16 for AVX2, +128 bytes for VNNI, the bytes themselves for generic.
func (arch *QArch) Encode(dst []byte, src []int8) {
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

// Convert fills q from a [m, k] (rows lda apart) for p's arch, in rows of
// p's Depth.
func (q *QActs) Convert(p *QPacked, m int, a []int8, lda int) {
	elem := p.arch.Elem()
	q.LDA, q.Rows = p.kp*elem, m
	if need := m * q.LDA; cap(q.Buf) < need {
		q.Buf = make([]byte, need)
	} else {
		q.Buf = q.Buf[:need]
	}
	for i := 0; i < m; i++ {
		row := q.Buf[i*q.LDA : (i+1)*q.LDA]
		if len(a) > 0 {
			p.arch.Encode(row, a[i*lda:i*lda+p.k])
		}
		clear(row[p.k*elem:]) // padding depths: B is zero there
	}
}

// QVisit receives one tile of C: rows i0.., columns j0.. of C are
// C[i0+r][j0+c] = tile[r·ldt+c] − offs[c] for r < rows, c < cols (offs
// is nil when there is nothing to subtract: the VNNI path leaves its
// column offsets to the visitor, which subtracts them in its vector loop).
type QVisit func(i0, rows, j0, cols int, tile []int32, ldt int, offs []int32)

// qgemmTiles is QGemmTiles for a [m, k] (rows lda apart), not yet
// converted.
func qgemmTiles(threads, m int, a []int8, lda int, p *QPacked, visit QVisit) {
	if m == 0 || p.n == 0 {
		return
	}
	acts := qActsPool.Get().(*QActs)
	defer qActsPool.Put(acts)
	if p.arch.kernel == nil {
		acts.Buf, acts.LDA, acts.Rows = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), len(a)), lda, m
	} else {
		acts.Convert(p, m, a, lda)
	}
	QGemmTiles(threads, acts, p, visit)
	acts.Buf = nil
}

// QGemmTiles runs the product of the rows of acts, converted for p's arch,
// and p on up to threads goroutines and hands every tile to visit. Tiles
// of different threads are visited concurrently; each element of C once.
// It starts its goroutines and tiles per call: a caller that must not
// allocate runs the parts (QGemmParts, QGemmPart) on goroutines of its
// own.
func QGemmTiles(threads int, acts *QActs, p *QPacked, visit QVisit) {
	parts := QGemmParts(threads, acts, p)
	if parts <= 1 {
		if parts == 1 {
			QGemmPart(0, 1, acts, p, make([]int32, p.TileLen()), visit)
		}
		return
	}
	var wg sync.WaitGroup
	for t := range parts {
		wg.Go(func() { QGemmPart(t, parts, acts, p, make([]int32, p.TileLen()), visit) })
	}
	wg.Wait()
}

// TileLen is the int32 values of the tile QGemmPart computes into.
func (p *QPacked) TileLen() int {
	if p.arch.kernel == nil {
		return p.n
	}
	return p.arch.mr * p.arch.nr
}

// QGemmParts is the number of parts (0 when there is nothing to compute)
// QGemmTiles splits the product of acts and p into for up to threads
// goroutines: along the columns when there are enough panels, else along
// the rows.
func QGemmParts(threads int, acts *QActs, p *QPacked) int {
	m := acts.Rows
	if m == 0 || p.n == 0 {
		return 0
	}
	units := m // the generic kernel: one row at a time
	if arch := p.arch; arch.kernel != nil {
		units = (p.n + arch.nr - 1) / arch.nr
		if units < threads {
			units = (m + arch.mr - 1) / arch.mr
		}
	}
	return max(1, min(threads, units))
}

// QGemmPart computes part of the parts (QGemmParts) of the product of acts
// and p, in tile (TileLen values), handing its tiles to visit. The parts
// cover C once, whichever goroutines run them, with the same integers.
func QGemmPart(part, parts int, acts *QActs, p *QPacked, tile []int32, visit QVisit) {
	m := acts.Rows
	arch := p.arch
	if arch.kernel == nil {
		a := unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(acts.Buf))), len(acts.Buf))
		tile = tile[:p.n]
		for i := part * m / parts; i < (part+1)*m/parts; i++ {
			qgemmRef(1, p.n, p.k, a[i*acts.LDA:], acts.LDA, p.raw, p.k, tile, p.n)
			visit(i, 1, 0, p.n, tile, p.n, nil)
		}
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
	tile = tile[:mr*nr]
	pf, pt, rf, rt := 0, panels, 0, (m+mr-1)/mr
	if panels >= parts { // by columns
		pf, pt = part*panels/parts, (part+1)*panels/parts
	} else {
		rf, rt = part*rt/parts, (part+1)*rt/parts
	}
	for pi := pf; pi < pt; pi++ {
		panel := p.panels[pi*per : (pi+1)*per]
		j0 := pi * nr
		cols := min(nr, p.n-j0)
		for ri := rf; ri < rt; ri++ {
			i0 := ri * mr
			rows := min(mr, m-i0)
			arch.kernel(kq, acts.Buf[i0*acts.LDA:], acts.LDA, rows, panel, tile)
			var offs []int32
			if arch.offset {
				offs = p.offs[j0 : j0+cols]
			}
			visit(i0, rows, j0, cols, tile, nr, offs)
		}
	}
}

var qActsPool = sync.Pool{New: func() any { return &QActs{} }}

// QGemm sets c [m, n] (rows ldc apart) = a [m, k]·Bᵀ in int32 on up to
// threads goroutines; it writes nothing else of c.
func QGemm(threads, m int, a []int8, lda int, p *QPacked, c []int32, ldc int) {
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

// Quantize is clamp(round(f), −127, 127), rounding half to even, and 0 for
// NaN: how float32 values become int8. Adding and subtracting 1.5·2²³
// rounds a float32 below 2²² in magnitude to an integer, half to even.
func Quantize(f float32) int8 {
	const magic = 12582912
	switch {
	case f >= 127:
		return 127
	case f <= -127:
		return -127
	case f == f:
		return int8(int32((f + magic) - magic))
	}
	return 0
}
