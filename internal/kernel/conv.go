package kernel

import "fmt"

// The direct convolutions (ConvPool for serving, Conv for training) share
// one layout: the weights [O, C, KH, KW] packed in panels of convRows
// output channels, each stored depth-major in the order (c, i, j), and
// each example's input copied once into a zero-padded buffer (Pad) that
// the micro-kernels read their B operand from in place.

const convRows = 12 // output channels per tile: the micro-kernel's rows

// convLayout is a stride-1 convolution's geometry and packed weights.
type convLayout struct {
	c, h, w, o, kh, kw, pad int
	oh, ow, hp, wp          int // convolution output, padded input
	k                       int // C·KH·KW, the depth of the product
	panels                  []float32
}

func newConvLayout(c, h, w, o, kh, kw, pad int) (convLayout, error) {
	if c < 1 || h < 1 || w < 1 || o < 1 || kh < 1 || kw < 1 || pad < 0 {
		return convLayout{}, fmt.Errorf("kernel: convolution of %d×%d×%d by %d×%d×%d×%d, padding %d", c, h, w, o, c, kh, kw, pad)
	}
	l := convLayout{c: c, h: h, w: w, o: o, kh: kh, kw: kw, pad: pad,
		oh: h + 2*pad - kh + 1, ow: w + 2*pad - kw + 1, hp: h + 2*pad, wp: w + 2*pad, k: c * kh * kw}
	if l.oh < 1 || l.ow < 1 {
		return convLayout{}, fmt.Errorf("kernel: the %d×%d kernel is larger than the %d×%d input padded by %d", kh, kw, h, w, pad)
	}
	// The rows of a last, partial panel stay zero.
	l.panels = make([]float32, (o+convRows-1)/convRows*l.k*convRows)
	return l, nil
}

// pack lays out weight [O, C, KH, KW] in the panels.
func (l *convLayout) pack(weight []float32) {
	for oc := range l.o {
		panel := l.panels[oc/convRows*l.k*convRows:]
		for d, v := range weight[oc*l.k : (oc+1)*l.k] {
			panel[d*convRows+oc%convRows] = v
		}
	}
}

// PaddedLen is the length of the buffer Pad fills: the padded input and,
// after it, what a tile's unused lanes and rows may read (one padded row
// and a vector).
func (l *convLayout) PaddedLen() int { return l.c*l.hp*l.wp + l.wp + 16 }

// Pad copies one example x [C, H, W] into xp (PaddedLen floats) with the
// zero padding around every channel.
func (l *convLayout) Pad(xp, x []float32) {
	xp = xp[:l.PaddedLen()]
	clear(xp)
	for c := range l.c {
		for y := range l.h {
			at := (c*l.hp+y+l.pad)*l.wp + l.pad
			copy(xp[at:at+l.w], x[(c*l.h+y)*l.w:][:l.w])
		}
	}
}

// Conv is a stride-1 convolution with a bias, computed directly: a tile
// is 12 output channels × two output rows × 16 columns, the product of
// ConvPool's micro-kernel stored as it is, plus the bias. A training
// step's convolution: unlike im2col and a product (which packs the column
// matrix again), it copies each input value once, into the padded buffer.
// Each output is one tile's sum over the depth in the order (c, i, j),
// from zero, plus the bias: the same bits whichever thread computes it.
// Pack and Run may not overlap; Runs of different examples may.
type Conv struct{ convLayout }

const convCols = 16 // output columns per tile

// NewConv lays out a stride-1 convolution of a c×h×w input by o filters
// of kh×kw with pad zeros on every side; Pack gives it its weights.
func NewConv(c, h, w, o, kh, kw, pad int) (*Conv, error) {
	l, err := newConvLayout(c, h, w, o, kh, kw, pad)
	if err != nil {
		return nil, err
	}
	return &Conv{l}, nil
}

// OutShape is the output of one example: channels, rows, columns.
func (p *Conv) OutShape() (o, oh, ow int) { return p.o, p.oh, p.ow }

// Pack lays out weight [O, C, KH, KW] (row-major) for Run.
func (p *Conv) Pack(weight []float32) {
	_ = weight[p.o*p.k-1]
	p.pack(weight)
}

// Tiles is the number of tiles of one example's output: one per two
// output rows and 16 columns (for every output channel).
func (p *Conv) Tiles() int {
	return (p.oh + 1) / 2 * ((p.ow + convCols - 1) / convCols)
}

// Run sets y [O, OH, OW] = conv(x) + bias at the positions of tiles
// [from, to), for the example whose padded input is xp (Pad). bias has O
// values.
func (p *Conv) Run(y, xp, bias []float32, from, to int) {
	xp = xp[:p.PaddedLen()]
	y = y[:p.o*p.oh*p.ow]
	bias = bias[:p.o]
	across := (p.ow + convCols - 1) / convCols
	plane := p.oh * p.ow
	for t := from; t < to; t++ {
		r0, c0 := t/across*2, t%across*convCols
		cols := min(convCols, p.ow-c0)
		lower := r0+1 < p.oh
		x0 := r0*p.wp + c0 // the tile's first input value in a padded channel
		for q := 0; q*convRows < p.o; q++ {
			rows := min(convRows, p.o-q*convRows)
			a := p.panels[q*p.k*convRows:][:p.k*convRows]
			yq := y[q*convRows*plane+r0*p.ow+c0:]
			_ = yq[(rows-1)*plane+cols-1] // the kernel writes within y
			if lower {
				_ = yq[(rows-1)*plane+p.ow+cols-1]
			}
			convTile(p, a, xp[x0:], yq, bias[q*convRows:], rows, cols, lower)
		}
	}
}

// tileGo is the micro-kernels' product in Go, for the first rows rows of
// a tile: a[d·12+r] is depth d of output channel r, and lane l of row r
// sums over the depths (c, i, j) a·xp[(c·HP+i)·WP+j+l] for lanes 0–15 and
// one padded row further for lanes 16–31, reading from xp (the tile's
// first value) as the micro-kernels do.
func (p *convLayout) tileGo(a, xp []float32, rows int) [convRows][32]float32 {
	var acc [convRows][32]float32
	d := 0
	for c := range p.c {
		for i := range p.kh {
			for j := range p.kw {
				at := (c*p.hp+i)*p.wp + j
				upper, lower := xp[at:at+16], xp[at+p.wp:at+p.wp+16]
				av := a[d*convRows : (d+1)*convRows]
				for r := range rows {
					ar, acc := av[r], &acc[r]
					for l, v := range upper {
						acc[l] += ar * v
					}
					for l, v := range lower {
						acc[16+l] += ar * v
					}
				}
				d++
			}
		}
	}
	return acc
}

// convTileGo is one tile in Go (tileGo): channel r's two output rows get
// the first cols lanes of each half of its tile row plus bias[r] (the
// lower one only when lower), for r < rows.
func convTileGo(p *Conv, a, xp, y, bias []float32, rows, cols int, lower bool) {
	acc := p.tileGo(a, xp, rows)
	plane := p.oh * p.ow
	for r := range rows {
		for l := range cols {
			y[r*plane+l] = acc[r][l] + bias[r]
			if lower {
				y[r*plane+p.ow+l] = acc[r][16+l] + bias[r]
			}
		}
	}
}
