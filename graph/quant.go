package graph

import (
	"fmt"
	"math"
	"sync"

	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// Int8 quantization of the serving graph (Infer mode).
//
// A weight W [out, …] is quantized per output channel (row), symmetrically:
// scale_j = max|W_j|/127 and q = round(W/scale_j) in [−127, 127], so
// W ≈ q·scale_j. Activations are quantized per row at run time in the
// same way (dynamic quantization: Linear, LSTM), or with one static scale
// recorded from calibration batches (convolutions). Products are summed in
// int32 by kern.QGemmTiles and scaled back to float32:
// y_ij = acc_ij·sx_i·sw_j + b_j.
//
// Params holds the int8 form beside the float32 parameter (which holds the
// dequantized values q·scale, so training and evaluation graphs compute
// with the quantized weights too); a serving graph built from Params uses
// the int8 kernels for every layer whose weight has an int8 form.

// QuantWeight is the int8 form of a weight: q [rows, cols] (the weight's
// shape flattened after its first axis), one scale per row, and for a
// convolution the static scale of its input (0: dynamic).
type QuantWeight struct {
	Q          []int8
	Shape      []int
	Scale      []float32
	InputScale float32

	once   sync.Once
	packed *kern.QPacked // Q as [rows, cols] for the int8 kernel in use
	extra  sync.Map      // other layouts, by key (the TextCNN conv's [O, K·E])
}

// Rows and Cols are the dimensions of Q as a matrix.
func (q *QuantWeight) Rows() int { return q.Shape[0] }

// Cols is the product of the dimensions after the first.
func (q *QuantWeight) Cols() int { return len(q.Q) / max(1, q.Shape[0]) }

func (q *QuantWeight) pack() *kern.QPacked {
	q.once.Do(func() { q.packed = kern.QPack(kern.QGemmArch(), q.Rows(), q.Cols(), q.Q, q.Cols()) })
	return q.packed
}

// Validate checks that q's parts agree and its scales are positive and
// finite.
func (q *QuantWeight) Validate() error {
	n := 1
	for _, d := range q.Shape {
		if d < 1 {
			return fmt.Errorf("shape %v has a dimension below 1", q.Shape)
		}
		n *= d
	}
	switch {
	case len(q.Shape) == 0:
		return fmt.Errorf("no shape")
	case len(q.Q) != n:
		return fmt.Errorf("%d values for shape %v", len(q.Q), q.Shape)
	case len(q.Scale) != q.Shape[0]:
		return fmt.Errorf("%d scales for %d rows", len(q.Scale), q.Shape[0])
	case !(q.InputScale >= 0) || math.IsInf(float64(q.InputScale), 0):
		return fmt.Errorf("input scale %v is not a finite non-negative number", q.InputScale)
	}
	for i, s := range q.Scale {
		// 127·scale is the largest weight: it must be finite too.
		if !(s > 0) || math.IsInf(float64(127*s), 0) {
			return fmt.Errorf("scale %d is %v, expected a positive number whose weights (up to 127×) are finite in float32", i, s)
		}
	}
	for i, v := range q.Q {
		if v == -128 {
			return fmt.Errorf("value %d is −128, outside the symmetric range [−127, 127]", i)
		}
	}
	return nil
}

// Dequantize writes q·scale to w (as long as q.Q).
func (q *QuantWeight) Dequantize(w []float32) {
	cols := q.Cols()
	for r, s := range q.Scale {
		for c, v := range q.Q[r*cols : (r+1)*cols] {
			w[r*cols+c] = float32(v) * s
		}
	}
}

// QuantizeRows quantizes w [rows, len(w)/rows] per row, symmetrically. A
// row of zeros gets scale 1.
func QuantizeRows(w []float32, shape []int) *QuantWeight {
	rows := shape[0]
	cols := len(w) / max(1, rows)
	q := &QuantWeight{Q: make([]int8, len(w)), Shape: append([]int(nil), shape...), Scale: make([]float32, rows)}
	for r := 0; r < rows; r++ {
		row := w[r*cols : (r+1)*cols]
		var m float32
		for _, v := range row {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s := m / 127
		if !(s > 0) || math.IsInf(float64(s), 0) {
			s = 1
		}
		q.Scale[r] = s
		quantizeInto(q.Q[r*cols:(r+1)*cols], row, 1/s)
	}
	return q
}

// quantizeInto sets dst = clamp(round(src·inv), −127, 127), rounding
// half to even as ONNX's QuantizeLinear and PyTorch do; NaN gives 0.
func quantizeInto(dst []int8, src []float32, inv float32) {
	for i, v := range src {
		dst[i] = kern.Quantize(v * inv)
	}
}

// SetQuantized gives the parameter name an int8 form, which serving graphs
// built afterwards use.
func (ps *Params) SetQuantized(name string, q *QuantWeight) {
	ps.packedMu.Lock()
	defer ps.packedMu.Unlock()
	if ps.quant == nil {
		ps.quant = map[string]*QuantWeight{}
	}
	ps.quant[name] = q
}

// Quantized returns the int8 form of the parameter name, or nil.
func (ps *Params) Quantized(name string) *QuantWeight {
	ps.packedMu.Lock()
	defer ps.packedMu.Unlock()
	return ps.quant[name]
}

// quantFor is the int8 form of name when b builds a float32 serving graph.
func quantFor(b *Builder, name string) *QuantWeight {
	if b.Mode != Infer || b.Dtype() != tensor.Float32 {
		return nil
	}
	return b.Params.Quantized(name)
}

// calibStat is the largest |value| seen at one point of the graph.
type calibStat struct {
	mu     sync.Mutex
	absMax float64
}

func (c *calibStat) observe(x []float32) {
	if c == nil {
		return
	}
	var m float32
	for _, v := range x {
		m = max(m, v, -v)
	}
	c.mu.Lock()
	c.absMax = max(c.absMax, float64(m))
	c.mu.Unlock()
}

// merge widens c to cover what o has seen.
func (c *calibStat) merge(o *calibStat) {
	o.mu.Lock()
	m := o.absMax
	o.mu.Unlock()
	c.mu.Lock()
	c.absMax = max(c.absMax, m)
	c.mu.Unlock()
}

// Calibrate makes serving graphs built from ps afterwards record the range
// of every convolution's input, keyed by the convolution's weight name;
// Calibration reads them.
func (ps *Params) Calibrate() {
	ps.packedMu.Lock()
	defer ps.packedMu.Unlock()
	if ps.calib == nil {
		ps.calib = map[string]*calibStat{}
	}
}

// Calibration returns the largest |input| seen by each convolution (by
// weight name) since Calibrate.
func (ps *Params) Calibration() map[string]float64 {
	ps.packedMu.Lock()
	defer ps.packedMu.Unlock()
	out := map[string]float64{}
	for name, c := range ps.calib {
		c.mu.Lock()
		out[name] = c.absMax
		c.mu.Unlock()
	}
	return out
}

// calibFor is the recorder of weight name's input, nil unless calibrating.
func (ps *Params) calibFor(name string) *calibStat {
	ps.packedMu.Lock()
	defer ps.packedMu.Unlock()
	if ps.calib == nil {
		return nil
	}
	c, ok := ps.calib[name]
	if !ok {
		c = &calibStat{}
		ps.calib[name] = c
	}
	return c
}

// Role is the kind of layer a weight belongs to.
type Role int

const (
	RoleNone      Role = iota
	RoleLinear         // Linear's weight [out, in]
	RoleEmbedding      // an embedding table [vocab, dim]
	RoleConv           // a convolution's weight [out, in, kernel…]
	RoleLSTM           // an LSTM's weight_ih or weight_hh [4H, in]
)

var roleNames = [...]string{"", "linear", "embedding", "conv", "lstm"}

func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return roleNames[r]
}

// role records what kind of layer reads the parameter name.
func (b *Builder) role(name string, r Role) {
	if p := b.Params.Get(name); p != nil {
		p.Role = r
	}
}

// unit records that the weights names run in int8 only together, as the
// layer unit (Param.Unit).
func (b *Builder) unit(unit string, names ...string) {
	for _, name := range names {
		if p := b.Params.Get(name); p != nil {
			p.Unit = unit
		}
	}
}

// QuantizeWithScale quantizes w [rows, …] with one scale for every row.
func QuantizeWithScale(w []float32, shape []int, scale float32) *QuantWeight {
	q := &QuantWeight{Q: make([]int8, len(w)), Shape: append([]int(nil), shape...), Scale: make([]float32, shape[0])}
	for r := range q.Scale {
		q.Scale[r] = scale
	}
	quantizeInto(q.Q, w, 1/scale)
	return q
}

// quantizeEncodeRows quantizes each of the m rows of x (k values, rows lda
// apart) with its own scale (symmetric, max |x|/127), straight into acts
// in the encoding of p's arch (rows of p.Depth values).
func quantizeEncodeRows(p *kern.QPacked, x []float32, m, k, lda int, acts *kern.QActs, scales []float32) {
	quantizeEncodeRowsThreads(nil, 1, p, x, m, k, lda, acts, scales)
}

// quantizeEncodeRowsThreads is quantizeEncodeRows with the rows shared by
// threads goroutines when there are enough of them (the rows are
// independent; serial, it was 3.5% of the int8 transformer's profile),
// forked through site (unused, and may be nil, with one thread).
func quantizeEncodeRowsThreads(site *quantSite, threads int, p *kern.QPacked, x []float32, m, k, lda int, acts *kern.QActs, scales []float32) {
	arch := p.Arch()
	enc, elem := arch.Encoding(), arch.Elem()
	acts.LDA, acts.Rows = p.Depth()*elem, m
	if enc == kern.QBytes { // the generic kernel reads the k values, unpadded
		acts.LDA = k
	}
	acts.Buf = resizeBytes(acts.Buf, m*acts.LDA)
	if threads = min(threads, m*k>>14); threads > 1 { // at least 16K values each
		site.split(threads, m, false, quantCall{arch: arch, x: x, k: k, lda: lda, acts: acts, scales: scales})
		return
	}
	quantizeEncodeSpan(arch, x, 0, m, k, lda, acts, scales)
}

// quantCall is quantizeEncodeRowsThreads's arguments: part i quantizes
// the rows [from, to).
type quantCall struct {
	arch   *kern.QArch
	x      []float32
	k, lda int
	acts   *kern.QActs
	scales []float32
}

type quantSite = forkSite[quantCall, *quantCall]

func (c *quantCall) part(_, from, to int) {
	quantizeEncodeSpan(c.arch, c.x, from, to, c.k, c.lda, c.acts, c.scales)
}

// quantizeEncodeSpan quantizes and encodes rows [from, to) of x into acts,
// whose LDA and Buf are set.
func quantizeEncodeSpan(arch *kern.QArch, x []float32, from, to, k, lda int, acts *kern.QActs, scales []float32) {
	enc, elem := arch.Encoding(), arch.Elem()
	zero := arch.ZeroByte()
	for i := from; i < to; i++ {
		row := x[i*lda : i*lda+k]
		bits := kern.AbsMaxBits(row)
		a, finite := math.Float32frombits(bits), true
		if bits > 0x7f800000 { // a NaN: the scale of the other values
			a, finite = 0, false
			for _, v := range row {
				if v == v {
					a = max(a, v, -v)
				}
			}
		}
		s := a / 127
		if !(s > 0) || math.IsInf(float64(s), 0) {
			s, finite = 1, false
		}
		scales[i] = s
		inv := 1 / s
		dst := acts.Buf[i*acts.LDA : (i+1)*acts.LDA]
		fill(dst[k*elem:], zero)
		done := 0
		if enc == kern.QOffset && finite {
			done = kern.QuantEncode(dst, row, inv)
		}
		for t := done; t < k; t++ {
			q := kern.Quantize(row[t] * inv)
			switch enc {
			case kern.QInt16:
				u := uint16(int16(q))
				dst[2*t], dst[2*t+1] = byte(u), byte(u>>8)
			case kern.QOffset:
				dst[t] = byte(q) ^ 0x80
			default:
				dst[t] = byte(q)
			}
		}
	}
}
