package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaxPool1D is PyTorch's nn.MaxPool1d(size, stride) (floor mode, no
// padding): x [N, C, L] → [N, C, (L−size)/stride+1]. Stride 0 means size,
// as in both PyTorch and Keras.
func MaxPool1D(x *G.Node, size, stride int) *G.Node {
	if x.Dims() != 3 {
		panic(shapeErr("MaxPool1D", x.Shape(), "[N, C, L]"))
	}
	if stride == 0 {
		stride = size
	}
	return mustApply(typed(x.Dtype(), &maxPool1DKernel[float32]{size: size, stride: stride}, &maxPool1DKernel[float64]{size: size, stride: stride}), x)
}

// GlobalMaxPool1D takes the maximum over the whole length: x [N, C, L] → [N, C].
func GlobalMaxPool1D(x *G.Node) *G.Node {
	if x.Dims() != 3 {
		panic(shapeErr("GlobalMaxPool1D", x.Shape(), "[N, C, L]"))
	}
	l := x.Shape()[2]
	return mustApply(typed(x.Dtype(), &maxPool1DKernel[float32]{size: l, stride: l, global: true}, &maxPool1DKernel[float64]{size: l, stride: l, global: true}), x)
}

// maxPool1DKernel remembers where each maximum came from for backward.
type maxPool1DKernel[T float] struct {
	size, stride int
	global       bool // output [N, C] instead of [N, C, 1]
	argmax       []int32
}

func (k *maxPool1DKernel[T]) name() string {
	if k.global {
		return "GlobalMaxPool1D"
	}
	return fmt.Sprintf("MaxPool1D(%d, stride=%d)", k.size, k.stride)
}

func (*maxPool1DKernel[T]) differentiable() []bool { return []bool{true} }

func (k *maxPool1DKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if len(x) != 3 {
		return nil, fmt.Errorf("input %v, expected [N, C, L]", x)
	}
	if k.global {
		if x[2] != k.size {
			return nil, fmt.Errorf("input length %d, built for %d", x[2], k.size)
		}
		return tensor.Shape{x[0], x[1]}, nil
	}
	if x[2] < k.size || k.size < 1 || k.stride < 1 {
		return nil, fmt.Errorf("input length %d is shorter than the pool size %d", x[2], k.size)
	}
	return tensor.Shape{x[0], x[1], (x[2]-k.size)/k.stride + 1}, nil
}

func (k *maxPool1DKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y := values[T](in[0]), values[T](out)
	l := in[0].Shape()[2]
	lout := (l-k.size)/k.stride + 1
	rows := len(x) / l
	if cap(k.argmax) < len(y) {
		k.argmax = make([]int32, len(y))
	}
	k.argmax = k.argmax[:len(y)]
	for r := 0; r < rows; r++ {
		xr := x[r*l : (r+1)*l]
		for t := 0; t < lout; t++ {
			// The first maximum, choosing indices without branches on the
			// data; a window with a NaN takes the general loop below.
			at, nan := windowMax(xr[t*k.stride : t*k.stride+k.size])
			at += t * k.stride
			if !nan {
				y[r*lout+t] = xr[at]
				k.argmax[r*lout+t] = int32(r*l + at)
				continue
			}
			best, at := T(math.Inf(-1)), t*k.stride
			for p := t * k.stride; p < t*k.stride+k.size; p++ {
				if v := xr[p]; v > best || v != v { // NaN propagates, as in PyTorch
					best, at = v, p
					if v != v {
						break
					}
				}
			}
			y[r*lout+t] = best
			k.argmax[r*lout+t] = int32(r*l + at)
		}
	}
	return nil
}

func (k *maxPool1DKernel[T]) backward(_ []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	g, d := values[T](gOut), values[T](grad)
	for i, at := range k.argmax {
		d[at] += g[i]
	}
	return nil
}

// windowMax is the index of the first maximum of w (not empty), choosing
// it without branches on the data, and whether w holds a NaN (then the
// index is meaningless).
func windowMax[T float](w []T) (at int, nan bool) {
	b := w[0]
	for p, v := range w {
		nan = nan || v != v
		if v > b {
			at = p
		}
		b = max(b, v)
	}
	return at, nan
}
