package kernel

import "fmt"

// A serving ConvNet block is a stride-1 convolution, a per-channel bias
// (the batch norm folded in), 2×2 max-pooling and ReLU. Lowered to a
// product (im2col, then Sgemm, which packs the column matrix again, then
// a pooling pass) it copies every input value KH·KW times twice and
// writes the whole convolution out before pooling it. ConvPool is a
// direct convolution in the style of ONNX Runtime's MLAS NCHWc kernels:
// the 12×32 AVX-512 micro-kernel of the product (avx512_amd64.s) reads its
// B operand straight from the zero-padded input — one depth (c, i, j) of
// a tile is two rows of 16 consecutive input values — and pools, adds the
// bias and rectifies the finished tile in registers, storing only the
// pooled outputs.
//
// A tile is 12 output channels × 8 pooled columns of one pooled row: its
// 32 lanes are the two convolution rows under that pooled row (lanes 0–15
// the upper, 16–31 the lower) at the 16 convolution columns under the 8
// pooled ones. The weights are packed once (convLayout, conv.go).

// ConvPool is one convolution-pool-ReLU layer with its weights packed.
// It is read-only once made, so any number of goroutines may run it.
type ConvPool struct {
	convLayout
	ph, pw int // pooled output
	bias   []float32
}

const convPoolCols = 8 // pooled columns per tile

// NewConvPool packs the weight [o, c, kh, kw] (row-major) and bias [o] of
// a stride-1 convolution with pad zeros on every side of a c×h×w input;
// the convolution must have at least one output row and column.
func NewConvPool(c, h, w, o, kh, kw, pad int, weight, bias []float32) (*ConvPool, error) {
	l, err := newConvLayout(c, h, w, o, kh, kw, pad)
	if err != nil {
		return nil, err
	}
	p := &ConvPool{convLayout: l, ph: l.oh / 2, pw: l.ow / 2}
	if len(weight) != o*p.k || len(bias) != o {
		return nil, fmt.Errorf("kernel: %d weights and %d biases for %d channels of depth %d", len(weight), len(bias), o, p.k)
	}
	p.pack(weight)
	p.bias = append([]float32(nil), bias...)
	return p, nil
}

// OutShape is the pooled output of one example: channels, rows, columns.
func (p *ConvPool) OutShape() (o, ph, pw int) { return p.o, p.ph, p.pw }

// Tiles is the number of tiles of one example's output: one per 8
// pooled columns of each pooled row (for every output channel).
func (p *ConvPool) Tiles() int {
	return p.ph * ((p.pw + convPoolCols - 1) / convPoolCols)
}

// Run sets y [O, PH, PW] = ReLU(MaxPool2×2(conv(x)) + bias) at the pooled
// positions of tiles [from, to), for the example whose padded input is xp
// (Pad). The pooling takes the floor: a last odd convolution row or column
// is not read. A NaN among a window's values gives NaN.
func (p *ConvPool) Run(y, xp []float32, from, to int) {
	xp = xp[:p.PaddedLen()]
	y = y[:p.o*p.ph*p.pw]
	across := (p.pw + convPoolCols - 1) / convPoolCols
	for t := from; t < to; t++ {
		py, px := t/across, t%across*convPoolCols
		cols := min(convPoolCols, p.pw-px)
		x0 := 2*py*p.wp + 2*px // the tile's first input value in a padded channel
		for q := 0; q*convRows < p.o; q++ {
			rows := min(convRows, p.o-q*convRows)
			a := p.panels[q*p.k*convRows:][:p.k*convRows]
			yq := y[q*convRows*p.ph*p.pw+py*p.pw+px:]
			_ = yq[(rows-1)*p.ph*p.pw+cols-1] // the kernel writes within y
			convPoolTile(p, a, xp[x0:], yq, p.bias[q*convRows:], rows, cols)
		}
	}
}

// convPoolTileGo is one tile in Go (tileGo): y[r·PH·PW+t] gets pooled
// column t of channel r, for r < rows and t < cols.
func convPoolTileGo(p *ConvPool, a, xp, y, bias []float32, rows, cols int) {
	acc := p.tileGo(a, xp, rows)
	plane := p.ph * p.pw
	for r := range rows {
		for t := range cols {
			m := max(max(acc[r][2*t], acc[r][2*t+1]), max(acc[r][16+2*t], acc[r][16+2*t+1]))
			// Go's max is NaN when an argument is: NaN propagates, as in PyTorch.
			y[r*plane+t] = max(m+bias[r], 0)
		}
	}
}
