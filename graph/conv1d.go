package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv1DConfig holds a 1-D convolution's hyper-parameters.
type Conv1DConfig struct {
	Out     int  // output channels
	Kernel  int  // kernel width
	Stride  int  // default 1
	Padding int  // zeros added at both ends; default 0 ("valid")
	Bias    bool // add "<name>.bias" [Out]
}

// Conv1D is PyTorch's nn.Conv1d: x [N, C, L] → [N, Out, (L+2·Padding−Kernel)/Stride+1]
// with weight "<name>.weight" [Out, C, Kernel].
func Conv1D(b *Builder, name string, x *G.Node, cfg Conv1DConfig) *G.Node {
	if x.Dims() != 3 {
		panic(shapeErr(name, x.Shape(), "[N, C, L]"))
	}
	if cfg.Stride == 0 {
		cfg.Stride = 1
	}
	c := x.Shape()[1]
	w := b.Param(name+".weight", []int{cfg.Out, c, cfg.Kernel}, KaimingUniform)
	b.role(name+".weight", RoleConv)
	args := []*G.Node{x, w}
	if cfg.Bias {
		args = append(args, b.Param(name+".bias", []int{cfg.Out}, BiasUniform(c*cfg.Kernel)))
	}
	return mustApply(typed(b.Dtype(),
		&conv1dKernel[float32]{stride: cfg.Stride, pad: cfg.Padding},
		&conv1dKernel[float64]{stride: cfg.Stride, pad: cfg.Padding}), args...)
}

// conv1dKernel: inputs x [N, C, L], w [O, C, K], optional b [O]; output
// [N, O, Lout]. It lowers each example to a [C·K, Lout] column matrix
// (im2col) so the convolution is one matrix product per example. Examples
// are split into one contiguous chunk per thread; the weight gradient sums
// the chunks' partial sums in chunk order, so a given thread count always
// gives the same bits.
type conv1dKernel[T float] struct {
	stride, pad int
	scratch     perThread[T] // per chunk: im2col matrix [C·K, Lout], then a partial weight gradient
}

func (k *conv1dKernel[T]) name() string {
	return fmt.Sprintf("Conv1D(stride=%d, pad=%d)", k.stride, k.pad)
}

func (*conv1dKernel[T]) differentiable() []bool { return []bool{true, true, true} }

func (k *conv1dKernel[T]) outLen(l, kw int) int { return (l+2*k.pad-kw)/k.stride + 1 }

func (k *conv1dKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, w := in[0], in[1]
	if len(x) != 3 || len(w) != 3 || x[1] != w[1] {
		return nil, fmt.Errorf("x %v and weight %v: expected [N, C, L] and [O, C, K]", x, w)
	}
	if len(in) == 3 && (len(in[2]) != 1 || in[2][0] != w[0]) {
		return nil, fmt.Errorf("bias %v, expected [%d]", in[2], w[0])
	}
	if x[2]+2*k.pad < w[2] {
		return nil, fmt.Errorf("input length %d (padding %d) is shorter than the kernel %d", x[2], k.pad, w[2])
	}
	return tensor.Shape{x[0], w[0], k.outLen(x[2], w[2])}, nil
}

type conv1dDims struct{ n, c, l, o, kw, lout, ck int }

func (k *conv1dKernel[T]) dims(x, w *tensor.Dense) conv1dDims {
	d := conv1dDims{n: x.Shape()[0], c: x.Shape()[1], l: x.Shape()[2], o: w.Shape()[0], kw: w.Shape()[2]}
	d.lout, d.ck = k.outLen(d.l, d.kw), d.c*d.kw
	return d
}

// validRange is the range [t0, t1) of output positions t whose input
// position t·stride+j−pad lies inside the example, for kernel tap j.
func (k *conv1dKernel[T]) validRange(j int, d conv1dDims) (t0, t1 int) {
	// t·stride ≥ pad−j and t·stride ≤ l−1+pad−j.
	if lo := k.pad - j; lo > 0 {
		t0 = (lo + k.stride - 1) / k.stride
	}
	if hi := d.l - 1 + k.pad - j; hi >= 0 {
		t1 = min(d.lout, hi/k.stride+1)
	}
	return min(t0, t1), t1
}

// im2col fills col[c·K+j, t] = x[c, t·stride+j−pad] for one example.
func (k *conv1dKernel[T]) im2col(col, x []T, d conv1dDims) {
	for c := 0; c < d.c; c++ {
		xc := x[c*d.l : (c+1)*d.l]
		for j := 0; j < d.kw; j++ {
			row := col[(c*d.kw+j)*d.lout : (c*d.kw+j+1)*d.lout]
			t0, t1 := k.validRange(j, d)
			clear(row[:t0])
			clear(row[t1:])
			if k.stride == 1 {
				copy(row[t0:t1], xc[t0+j-k.pad:])
				continue
			}
			for t := t0; t < t1; t++ {
				row[t] = xc[t*k.stride+j-k.pad]
			}
		}
	}
}

func (k *conv1dKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	d := k.dims(in[0], in[1])
	x, w, y := values[T](in[0]), values[T](in[1]), values[T](out)
	var bias []T
	if len(in) == 3 {
		bias = values[T](in[2])
	}
	k.scratch.run(d.n, d.ck*d.lout, func(_, from, to int, col []T) {
		for n := from; n < to; n++ {
			yn := y[n*d.o*d.lout : (n+1)*d.o*d.lout] // [O, Lout]
			var beta T
			if bias != nil {
				for o, bv := range bias {
					fillFloats(yn[o*d.lout:(o+1)*d.lout], bv)
				}
				beta = 1
			}
			k.im2col(col, x[n*d.c*d.l:(n+1)*d.c*d.l], d)
			gemm(1, false, false, d.o, d.lout, d.ck, 1, w, d.ck, col, d.lout, beta, yn, d.lout)
		}
	})
	return nil
}

func (k *conv1dKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	d := k.dims(in[0], in[1])
	x, w, g, dst := values[T](in[0]), values[T](in[1]), values[T](gOut), values[T](grad)
	switch wrt {
	case 0:
		k.scratch.run(d.n, d.ck*d.lout, func(_, from, to int, col []T) {
			for n := from; n < to; n++ {
				gn := g[n*d.o*d.lout : (n+1)*d.o*d.lout] // [O, Lout]
				// dcol [C·K, Lout] = wᵀ·g, then scatter back (col2im).
				gemm(1, true, false, d.ck, d.lout, d.o, 1, w, d.ck, gn, d.lout, 0, col, d.lout)
				dx := dst[n*d.c*d.l : (n+1)*d.c*d.l]
				for c := 0; c < d.c; c++ {
					for j := 0; j < d.kw; j++ {
						row := col[(c*d.kw+j)*d.lout : (c*d.kw+j+1)*d.lout]
						t0, t1 := k.validRange(j, d)
						if k.stride == 1 {
							dxc := dx[c*d.l+t0+j-k.pad:][:t1-t0]
							for t, v := range row[t0:t1] {
								dxc[t] += v
							}
							continue
						}
						for t := t0; t < t1; t++ {
							dx[c*d.l+t*k.stride+j-k.pad] += row[t]
						}
					}
				}
			}
		})
	case 1:
		colSize := d.ck * d.lout
		k.scratch.run(d.n, colSize+d.o*d.ck, func(_, from, to int, buf []T) {
			col, part := buf[:colSize], buf[colSize:]
			clear(part)
			for n := from; n < to; n++ {
				k.im2col(col, x[n*d.c*d.l:(n+1)*d.c*d.l], d)
				gn := g[n*d.o*d.lout : (n+1)*d.o*d.lout]
				gemm(1, false, true, d.o, d.ck, d.lout, 1, gn, d.lout, col, d.lout, 1, part, d.ck) // [O, C·K] += g·colᵀ
			}
		})
		for c := range workers(d.n) {
			part := k.scratch.bufs[c][d.ck*d.lout : d.ck*d.lout+d.o*d.ck]
			if c == 0 { // the first chunk's sum overwrites dst
				copy(dst, part)
				continue
			}
			for i, v := range part {
				dst[i] += v
			}
		}
	case 2:
		for n := 0; n < d.n; n++ {
			gn := g[n*d.o*d.lout : (n+1)*d.o*d.lout]
			for o := 0; o < d.o; o++ {
				var s T
				for _, v := range gn[o*d.lout : (o+1)*d.lout] {
					s += v
				}
				dst[o] += s
			}
		}
	}
	return nil
}
