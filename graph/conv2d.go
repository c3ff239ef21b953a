package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// Conv2DConfig holds a 2-D convolution's hyper-parameters.
type Conv2DConfig struct {
	Out     int  // output channels
	Kernel  int  // square kernel size, used for KH and KW when they are 0
	KH, KW  int  // kernel height and width; default Kernel
	Stride  int  // in both directions; default 1
	Padding int  // zeros added on every side; default 0 ("valid")
	Bias    bool // add "<name>.bias" [Out]
}

// Conv2D is PyTorch's nn.Conv2d: x [N, C, H, W] → [N, Out, H', W'] with
// H' = (H+2·Padding−KH)/Stride+1 (likewise W'), weight "<name>.weight"
// [Out, C, KH, KW] and PyTorch's initialization (kaiming-uniform weight,
// bias U(±1/√(C·KH·KW))). When x is a graph input (b.Input) rather than
// computed from parameters, its gradient is not part of the graph.
func Conv2D(b *Builder, name string, x *G.Node, cfg Conv2DConfig) *G.Node {
	cfg, args := conv2DArgs(b, name, x, cfg)
	// No gradient flows into a graph input (images, not parameters):
	// nothing reads it, and for a first layer it would cost as much as the
	// weight gradient.
	inputGrad := !isData(b, x)
	return mustApply(typed(b.Dtype(),
		&conv2dKernel[float32]{stride: cfg.Stride, pad: cfg.Padding, inputGrad: inputGrad},
		&conv2dKernel[float64]{stride: cfg.Stride, pad: cfg.Padding, inputGrad: inputGrad}), args...)
}

// conv2DArgs checks x and cfg (filling in its defaults) and returns the
// convolution's inputs: x, its weight and, if cfg.Bias, its bias.
func conv2DArgs(b *Builder, name string, x *G.Node, cfg Conv2DConfig) (Conv2DConfig, []*G.Node) {
	if x.Dims() != 4 {
		panic(shapeErr(name, x.Shape(), "[N, C, H, W]"))
	}
	if cfg.KH == 0 {
		cfg.KH = cfg.Kernel
	}
	if cfg.KW == 0 {
		cfg.KW = cfg.Kernel
	}
	if cfg.Stride == 0 {
		cfg.Stride = 1
	}
	if cfg.Out < 1 || cfg.KH < 1 || cfg.KW < 1 || cfg.Stride < 1 || cfg.Padding < 0 {
		panic(fmt.Sprintf("graph: %s: invalid Conv2DConfig %+v", name, cfg))
	}
	c := x.Shape()[1]
	w := b.Param(name+".weight", []int{cfg.Out, c, cfg.KH, cfg.KW}, KaimingUniform)
	b.role(name+".weight", RoleConv)
	args := []*G.Node{x, w}
	if cfg.Bias {
		args = append(args, b.Param(name+".bias", []int{cfg.Out}, BiasUniform(c*cfg.KH*cfg.KW)))
	}
	return cfg, args
}

// isData reports whether n is a leaf of the graph that is not one of its
// parameters: a batch's input, whose gradient nobody asks for.
func isData(b *Builder, n *G.Node) bool {
	return !b.attribution && n.Op() == nil && b.ParamNode(n.Name()) != n
}

// conv2dKernel: inputs x [N, C, H, W], w [O, C, KH, KW], optional b [O];
// output [N, O, H', W']. Each example is lowered to a [C·KH·KW, H'·W']
// column matrix (im2col), so the convolution is one matrix product per
// example; a float32 forward pass with AVX-512 and stride 1 convolves
// directly instead (directFor). Examples are split into one contiguous chunk per thread; the
// weight gradient adds the chunks' partial sums in chunk order, so a given
// thread count always gives the same bits.
type conv2dKernel[T float] struct {
	stride, pad int
	inputGrad   bool                                    // compute dLoss/dx; false when x is data
	scratch     perThread[T]                            // per chunk: im2col matrix (or padded input), then a partial weight gradient
	examples    forkSite[conv2dCall[T], *conv2dCall[T]] // forward through im2col
	direct      directConv                              // float32 forward with AVX-512, stride 1 (directFor)
	directGrad  directConv                              // and its input gradient (directGradFor)
	wFlip       []float32                               // the weight transposed and flipped, for directGrad
	wT          []T                                     // the weight transposed, [C·KH·KW, O], for dLoss/dx
	// biasSums [N, O] holds each output plane's sum of the output's
	// gradient, which the bias gradient adds over the batch: the weight
	// gradient's pass computes them while each example's gradient is in
	// the cache. They are the tape's, for the backward pass of the forward
	// pass biasSumsOf counts (forwards): callers that run backward with
	// another output gradient (per-example gradients) forget them first
	// and after (forgetSums).
	biasSums             []T
	forwards, biasSumsOf uint64
}

// forgetSums drops the plane sums of the last weight gradient, so that
// the next bias gradient sums the planes of its own output gradient.
func (k *conv2dKernel[T]) forgetSums() { k.biasSumsOf = 0 }

func (k *conv2dKernel[T]) name() string {
	return fmt.Sprintf("Conv2D(stride=%d, pad=%d)", k.stride, k.pad)
}

func (k *conv2dKernel[T]) differentiable() []bool { return []bool{k.inputGrad, true, true} }

func (k *conv2dKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if len(x) != 4 || len(w) != 4 || x[1] != w[1] {
		return nil, fmt.Errorf("x %v and weight %v: expected [N, C, H, W] and [O, C, KH, KW]", x, w)
	}
	if len(in) == 3 && (len(in[2]) != 1 || in[2][0] != w[0]) {
		return nil, fmt.Errorf("bias %v, expected [%d]", in[2], w[0])
	}
	if x[2]+2*k.pad < w[2] || x[3]+2*k.pad < w[3] {
		return nil, fmt.Errorf("input %d×%d (padding %d) is smaller than the kernel %d×%d", x[2], x[3], k.pad, w[2], w[3])
	}
	return tensor.Shape{x[0], w[0], (x[2]+2*k.pad-w[2])/k.stride + 1, (x[3]+2*k.pad-w[3])/k.stride + 1}, nil
}

// conv2dDims are the sizes of one call: batch, channels, input, output
// channels, kernel, output, and the derived column-matrix sizes.
type conv2dDims struct {
	n, c, h, w, o, kh, kw, oh, ow int
	ckk, hw, ohw                  int // C·KH·KW, H·W, H'·W'
}

// shape is the convolution's shape without the batch.
func (d conv2dDims) shape() [6]int { return [6]int{d.c, d.h, d.w, d.o, d.kh, d.kw} }

func (k *conv2dKernel[T]) dims(x, w *tensor.Dense) conv2dDims {
	xs, ws := x.Shape(), w.Shape()
	d := conv2dDims{n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: ws[0], kh: ws[2], kw: ws[3]}
	d.oh, d.ow = (d.h+2*k.pad-d.kh)/k.stride+1, (d.w+2*k.pad-d.kw)/k.stride+1
	d.ckk, d.hw, d.ohw = d.c*d.kh*d.kw, d.h*d.w, d.oh*d.ow
	return d
}

// im2col fills col[(c·KH+i)·KW+j, oy·W'+ox] = x[c, oy·s+i−p, ox·s+j−p] (0
// in the padding) for one example.
func (k *conv2dKernel[T]) im2col(col, x []T, d conv2dDims) {
	s, p := k.stride, k.pad
	shifted := s == 1 && d.ow == d.w
	for c := 0; c < d.c; c++ {
		xc := x[c*d.hw : (c+1)*d.hw]
		for i := 0; i < d.kh; i++ {
			for j := 0; j < d.kw; j++ {
				row := col[((c*d.kh+i)*d.kw+j)*d.ohw:][:d.ohw]
				if shifted {
					a, b := shiftRange(d, i-p, j-p)
					if a < b {
						copy(row[a:b], xc[a+(i-p)*d.w+j-p:])
					}
					clear(row[:a])
					clear(row[b:])
					clearEdges(row, d, i-p, j-p)
					continue
				}
				// Output columns [lo, hi) read inside the image; the rest is padding.
				lo, hi := validRange(j-p, s, d.ow, d.w)
				for oy := 0; oy < d.oh; oy++ {
					r := row[oy*d.ow : (oy+1)*d.ow]
					y := oy*s + i - p
					if y < 0 || y >= d.h {
						clear(r)
						continue
					}
					xr := xc[y*d.w : (y+1)*d.w]
					clear(r[:lo])
					if s == 1 {
						copy(r[lo:hi], xr[lo+j-p:])
					} else {
						for ox := lo; ox < hi; ox++ {
							r[ox] = xr[ox*s+j-p]
						}
					}
					clear(r[hi:])
				}
			}
		}
	}
}

// planeSums sets sums[o] to the sum of plane o of one example's output
// gradient gn [O, H'·W'], as the bias gradient sums it (float64 lanes).
func (k *conv2dKernel[T]) planeSums(sums, gn []T, d conv2dDims) {
	for o := range sums {
		var part [kern.SquareLanes]float64
		planeSum(&part, gn[o*d.ohw:(o+1)*d.ohw])
		sums[o] = T(kern.ReduceLanes(&part))
	}
}

// col2imAdd is im2col's adjoint: dx[c, oy·s+i−p, ox·s+j−p] += col[…] for
// the positions inside the image.
//
// When the rows of col are shifted planes (stride 1, output as wide as the
// input), it clears the entries of col that fall outside the image and
// adds each row in one contiguous run: the same adds in the same order,
// plus adds of 0.
func (k *conv2dKernel[T]) col2imAdd(dx, col []T, d conv2dDims) {
	s, p := k.stride, k.pad
	shifted := s == 1 && d.ow == d.w
	for c := 0; c < d.c; c++ {
		dc := dx[c*d.hw : (c+1)*d.hw]
		for i := 0; i < d.kh; i++ {
			for j := 0; j < d.kw; j++ {
				row := col[((c*d.kh+i)*d.kw+j)*d.ohw:][:d.ohw]
				if shifted {
					a, b := shiftRange(d, i-p, j-p)
					if a < b {
						clearEdges(row, d, i-p, j-p)
						addTo(dc[a+(i-p)*d.w+j-p:][:b-a], row[a:b])
					}
					continue
				}
				lo, hi := validRange(j-p, s, d.ow, d.w)
				for oy := 0; oy < d.oh; oy++ {
					y := oy*s + i - p
					if y < 0 || y >= d.h {
						continue
					}
					r, dr := row[oy*d.ow:(oy+1)*d.ow], dc[y*d.w:(y+1)*d.w]
					if s == 1 {
						dst := dr[lo+j-p : hi+j-p]
						for t, v := range r[lo:hi] {
							dst[t] += v
						}
					} else {
						for ox := lo; ox < hi; ox++ {
							dr[ox*s+j-p] += r[ox]
						}
					}
				}
			}
		}
	}
}

// With stride 1 and an output as wide as the input, the row of col for
// kernel offset (dy, dx) is the input plane shifted by dy·W+dx: entry t
// reads plane[t+dy·W+dx] where that lies in the image.

// shiftRange returns the entries [a, b) of such a row whose shifted index
// lies in the plane: the output rows whose input row is in the image,
// less the ends that fall before or after the plane.
func shiftRange(d conv2dDims, dy, dx int) (a, b int) {
	oyLo, oyHi := max(0, -dy), min(d.oh, d.h-dy)
	if oyLo >= oyHi {
		return 0, 0
	}
	shift := dy*d.w + dx
	a, b = max(oyLo*d.w, -shift), min(oyHi*d.w, d.hw-shift)
	return a, max(a, b)
}

// clearEdges zeroes the columns of such a row whose input column is
// outside the image: the shifted run wrapped them onto the row's
// neighbours.
func clearEdges[T float](row []T, d conv2dDims, dy, dx int) {
	if dx == 0 {
		return
	}
	from, to := max(d.w-dx, 0), d.w // the columns outside: a few, stored one by one
	if dx < 0 {
		from, to = 0, min(-dx, d.w)
	}
	row = row[:d.oh*d.w]
	for ox := from; ox < to; ox++ {
		for i := ox; i < len(row); i += d.w { // column ox of every output row
			row[i] = 0
		}
	}
}

// addTo sets dst += src element by element (internal/kernel's vector loop
// for float32, which rounds as Go does).
func addTo[T float](dst, src []T) {
	if d32, ok := any(dst).([]float32); ok {
		kern.AddTo(d32, any(src).([]float32))
		return
	}
	for i, v := range src[:len(dst)] {
		dst[i] += v
	}
}

// fillFloats sets every element of dst to v (internal/kernel's vector loop for
// float32).
func fillFloats[T float](dst []T, v T) {
	if d32, ok := any(dst).([]float32); ok {
		kern.Fill(d32, float32(v))
		return
	}
	for i := range dst {
		dst[i] = v
	}
}

// transpose writes the [cols, rows] transpose of the row-major [rows, cols]
// matrix src into dst (internal/kernel's 16×16 blocks for float32).
func transpose[T float](dst, src []T, rows, cols int) {
	if d32, ok := any(dst).([]float32); ok {
		kern.Transpose(d32, rows, any(src).([]float32), cols, rows, cols)
		return
	}
	for r := 0; r < rows; r++ {
		for c, v := range src[r*cols : (r+1)*cols] {
			dst[c*rows+r] = v
		}
	}
}

// validRange returns the output positions [lo, hi) among n whose input
// position o·s+off lies in [0, size).
func validRange(off, s, n, size int) (lo, hi int) {
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	hi = n
	if last := (size - 1 - off); last < 0 {
		hi = 0
	} else if last/s+1 < n {
		hi = last/s + 1
	}
	return min(lo, hi), hi
}

func (k *conv2dKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	d := k.dims(in[0], in[1])
	x, w, y := values[T](in[0]), values[T](in[1]), values[T](out)
	var bias []T
	if len(in) == 3 {
		bias = values[T](in[2])
	}
	k.forwards++
	if p := k.directFor(d); p != nil {
		p.Pack(any(w).([]float32))
		b32, _ := any(bias).([]float32)
		k.direct.run(any(&k.scratch).(*perThread[float32]), d.n, any(x).([]float32), any(y).([]float32), b32)
		return nil
	}
	k.scratch.ensure(d.n, d.ckk*d.ohw)
	k.examples.chunks(d.n, conv2dCall[T]{k: k, d: d, x: x, w: w, y: y, bias: bias})
	return nil
}

// directFor returns the direct convolution of a float32 forward pass over
// d when the kernel's level has it (kern.DirectConvFast) and the stride
// is 1, made on first use; nil otherwise. It copies each input value once
// (kern.Conv.Pad) where im2col and the product's packing copy it 2·KH·KW
// times: the ConvNet's second convolution took 4.6 ms of a 28 ms training
// step that way.
func (k *conv2dKernel[T]) directFor(d conv2dDims) *kern.Conv {
	if _, ok := any(k).(*conv2dKernel[float32]); !ok || k.stride != 1 || !kern.DirectConvFast() {
		return nil
	}
	return k.direct.of(d.shape(), func() (*kern.Conv, error) {
		return kern.NewConv(d.c, d.h, d.w, d.o, d.kh, d.kw, k.pad)
	})
}

// directGradFor returns the direct convolution that computes a float32
// input gradient over d, as directFor does the forward pass: with stride
// 1 and a square kernel, dLoss/dx is the output gradient convolved with
// the weight transposed ([C, O, KH, KW]) and flipped in both directions,
// padded by KH−1−pad. It replaces a product and col2im's scatter (3.7 ms
// of a 28 ms ConvNet training step for its second convolution).
func (k *conv2dKernel[T]) directGradFor(d conv2dDims) *kern.Conv {
	if _, ok := any(k).(*conv2dKernel[float32]); !ok || k.stride != 1 || d.kh != d.kw || k.pad > d.kh-1 || !kern.DirectConvFast() {
		return nil
	}
	return k.directGrad.of(d.shape(), func() (*kern.Conv, error) {
		return kern.NewConv(d.o, d.oh, d.ow, d.c, d.kh, d.kw, d.kh-1-k.pad)
	})
}

// directConv is one of a kernel's direct convolutions, made for the shape
// it was last asked for, with its fork site and its zero bias.
type directConv struct {
	p     *kern.Conv
	shape [6]int // the input and weight shapes p was made for
	site  forkSite[convDirectCall, *convDirectCall]
	zeros []float32
}

// of returns the convolution for shape, made by build when it is new; nil
// when build fails (outShape has ruled that out: the product path will say
// what is wrong).
func (c *directConv) of(shape [6]int, build func() (*kern.Conv, error)) *kern.Conv {
	if c.p == nil || c.shape != shape {
		p, err := build()
		if err != nil {
			return nil
		}
		c.p, c.shape = p, shape
	}
	return c.p
}

// run convolves the n examples of x into y, a chunk of examples per
// thread, each padded in its chunk's scratch; a nil bias is zeros.
func (c *directConv) run(scratch *perThread[float32], n int, x, y, bias []float32) {
	if bias == nil {
		o, _, _ := c.p.OutShape()
		if len(c.zeros) != o {
			c.zeros = make([]float32, o)
		}
		bias = c.zeros
	}
	scratch.ensure(n, c.p.PaddedLen())
	c.site.chunks(n, convDirectCall{p: c.p, in: len(x) / n, out: len(y) / n, x: x, y: y, bias: bias, scratch: scratch.bufs})
}

// convDirectCall is a direct convolution's arguments: part chunk pads and
// convolves the examples [from, to) in the chunk's scratch.
type convDirectCall struct {
	p          *kern.Conv
	in, out    int // one example's input and output values
	x, y, bias []float32
	scratch    [][]float32
}

func (c *convDirectCall) part(chunk, from, to int) {
	p := c.p
	xp := c.scratch[chunk][:p.PaddedLen()]
	tiles := p.Tiles()
	for n := from; n < to; n++ {
		p.Pad(xp, c.x[n*c.in:(n+1)*c.in])
		p.Run(c.y[n*c.out:(n+1)*c.out], xp, c.bias, 0, tiles)
	}
}

// flipped sets k.wFlip [C, O, KH, KW] to w [O, C, KH, KW] transposed and
// flipped: wFlip[c, o, i, j] = w[o, c, KH−1−i, KW−1−j].
func (k *conv2dKernel[T]) flipped(w []float32, d conv2dDims) []float32 {
	if cap(k.wFlip) < len(w) {
		k.wFlip = make([]float32, len(w))
	}
	f := k.wFlip[:len(w)]
	kk := d.kh * d.kw
	for o := range d.o {
		for c := range d.c {
			src := w[(o*d.c+c)*kk : (o*d.c+c+1)*kk]
			dst := f[(c*d.o+o)*kk : (c*d.o+o+1)*kk]
			for q, v := range src {
				dst[kk-1-q] = v
			}
		}
	}
	return f
}

// conv2dCall is forward's arguments: part chunk convolves the examples
// [from, to), with the chunk's im2col scratch.
type conv2dCall[T float] struct {
	k             *conv2dKernel[T]
	d             conv2dDims
	x, w, y, bias []T
}

func (c *conv2dCall[T]) part(chunk, from, to int) {
	k, d, x, w, y, bias := c.k, c.d, c.x, c.w, c.y, c.bias
	col := k.scratch.bufs[chunk][:d.ckk*d.ohw]
	for n := from; n < to; n++ {
		yn := y[n*d.o*d.ohw : (n+1)*d.o*d.ohw] // [O, H'·W']
		var beta T
		if bias != nil {
			for o, bv := range bias {
				fillFloats(yn[o*d.ohw:(o+1)*d.ohw], bv)
			}
			beta = 1
		}
		k.im2col(col, x[n*d.c*d.hw:(n+1)*d.c*d.hw], d)
		gemm(1, false, false, d.o, d.ohw, d.ckk, 1, w, d.ckk, col, d.ohw, beta, yn, d.ohw)
	}
}

func (k *conv2dKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	d := k.dims(in[0], in[1])
	x, w, g, dst := values[T](in[0]), values[T](in[1]), values[T](gOut), values[T](grad)
	colSize := d.ckk * d.ohw
	switch wrt {
	case 0:
		if p := k.directGradFor(d); p != nil {
			p.Pack(k.flipped(any(w).([]float32), d))
			k.directGrad.run(any(&k.scratch).(*perThread[float32]), d.n, any(g).([]float32), any(dst).([]float32), nil)
			return nil
		}
		// dcol [C·KH·KW, H'·W'] = wᵀ·g, scattered back onto the image. wᵀ is
		// stored once per call so that the product reads it in place and
		// packs only g, as it is.
		if cap(k.wT) < len(w) {
			k.wT = make([]T, len(w))
		}
		wT := k.wT[:len(w)]
		transpose(wT, w, d.o, d.ckk)
		k.scratch.run(d.n, colSize, func(_, from, to int, col []T) {
			for n := from; n < to; n++ {
				gemm(1, false, false, d.ckk, d.ohw, d.o, 1, wT, d.o, g[n*d.o*d.ohw:(n+1)*d.o*d.ohw], d.ohw, 0, col, d.ohw)
				k.col2imAdd(dst[n*d.c*d.hw:(n+1)*d.c*d.hw], col, d)
			}
		})
	case 1:
		// dw [O, C·KH·KW] = Σₙ gₙ·colₙᵀ sums over positions, the minor axis
		// of both factors, so one of them is packed transposed. With fewer
		// output channels than C·KH·KW, the product computes dwᵀ = col·gᵀ:
		// col is read in place and only g is packed. So it does when
		// C·KH·KW is narrower than one panel of the product's columns (27
		// for a first layer on RGB images, against AVX-512's 32): as dw's
		// columns they would leave part of every tile idle (1.5× the time
		// of dwᵀ for the ConvNet's first layer). The sums and their order
		// are the same either way, and so are the bits.
		partSize := d.o * d.ckk
		swap := d.o < d.ckk || d.ckk < kern.PackedCols()
		sums := len(in) == 3 // the bias's gradient comes next (wrt 2)
		if sums {
			if cap(k.biasSums) < d.n*d.o {
				k.biasSums = make([]T, d.n*d.o)
			}
			k.biasSums = k.biasSums[:d.n*d.o]
		}
		k.scratch.run(d.n, colSize+partSize, func(_, from, to int, buf []T) {
			col, part := buf[:colSize], buf[colSize:]
			clear(part)
			for n := from; n < to; n++ {
				k.im2col(col, x[n*d.c*d.hw:(n+1)*d.c*d.hw], d)
				gn := g[n*d.o*d.ohw : (n+1)*d.o*d.ohw]
				if swap {
					gemm(1, false, true, d.ckk, d.o, d.ohw, 1, col, d.ohw, gn, d.ohw, 1, part, d.o) // [C·KH·KW, O] += col·gᵀ
				} else {
					gemm(1, false, true, d.o, d.ckk, d.ohw, 1, gn, d.ohw, col, d.ohw, 1, part, d.ckk) // [O, C·KH·KW] += g·colᵀ
				}
				if sums {
					k.planeSums(k.biasSums[n*d.o:(n+1)*d.o], gn, d)
				}
			}
		})
		if sums {
			k.biasSumsOf = k.forwards
		}
		// dst is the chunks' partial sums added in chunk order (the first
		// overwrites it), each output channel's row by one thread.
		parts := workers(d.n)
		inChunks(d.o, func(_, from, to int) {
			for o := from; o < to; o++ {
				row := dst[o*d.ckk : (o+1)*d.ckk]
				for c := range parts {
					part := k.scratch.bufs[c][colSize : colSize+partSize]
					switch {
					case swap && c == 0:
						for q := range row {
							row[q] = part[q*d.o+o]
						}
					case swap:
						for q := range row {
							row[q] += part[q*d.o+o]
						}
					case c == 0:
						copy(row, part[o*d.ckk:])
					default:
						for q, v := range part[o*d.ckk : (o+1)*d.ckk] {
							row[q] += v
						}
					}
				}
			}
		})
	case 2:
		// Output channels are independent: split among the threads, each
		// plane summed in float64 lanes (vector loops for float32) and the
		// batch in order. The weight gradient of this backward pass has
		// summed the planes already, unless it was not asked for first.
		if k.forwards > 0 && k.biasSumsOf == k.forwards && len(k.biasSums) == d.n*d.o {
			for n := 0; n < d.n; n++ {
				for o, v := range k.biasSums[n*d.o : (n+1)*d.o] {
					dst[o] += v
				}
			}
			return nil
		}
		inChunks(d.o, func(_, from, to int) {
			for n := 0; n < d.n; n++ {
				gn := g[n*d.o*d.ohw : (n+1)*d.o*d.ohw]
				for o := from; o < to; o++ {
					var part [kern.SquareLanes]float64
					planeSum(&part, gn[o*d.ohw:(o+1)*d.ohw])
					dst[o] += T(kern.ReduceLanes(&part))
				}
			}
		})
	}
	return nil
}
