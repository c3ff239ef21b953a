package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// MaxPool2D is PyTorch's nn.MaxPool2d(size, stride) (floor mode, no
// padding): x [N, C, H, W] → [N, C, (H−size)/stride+1, (W−size)/stride+1].
// Stride 0 means size. Within a window the first maximum in row-major order
// wins and receives the gradient, and a NaN wins over any number, as in
// PyTorch.
func MaxPool2D(x *G.Node, size, stride int) *G.Node {
	if x.Dims() != 4 {
		panic(shapeErr("MaxPool2D", x.Shape(), "[N, C, H, W]"))
	}
	if stride == 0 {
		stride = size
	}
	if size < 1 || stride < 1 {
		panic(fmt.Sprintf("graph: MaxPool2D size %d, stride %d: both must be at least 1", size, stride))
	}
	return mustApply(typed(x.Dtype(),
		&maxPool2DKernel[float32]{size: size, stride: stride},
		&maxPool2DKernel[float64]{size: size, stride: stride}), x)
}

// maxPool2DKernel remembers, per output, the flat index of its input
// maximum for backward.
type maxPool2DKernel[T float] struct {
	size, stride int
	argmax       []int32
	planes       forkSite[maxPoolCall[T], *maxPoolCall[T]] // forward
}

func (k *maxPool2DKernel[T]) name() string {
	return fmt.Sprintf("MaxPool2D(%d, stride=%d)", k.size, k.stride)
}

func (*maxPool2DKernel[T]) differentiable() []bool { return []bool{true} }

func (k *maxPool2DKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if len(x) != 4 {
		return nil, fmt.Errorf("input %v, expected [N, C, H, W]", x)
	}
	if x[2] < k.size || x[3] < k.size {
		return nil, fmt.Errorf("input %d×%d is smaller than the pool size %d", x[2], x[3], k.size)
	}
	return tensor.Shape{x[0], x[1], (x[2]-k.size)/k.stride + 1, (x[3]-k.size)/k.stride + 1}, nil
}

func (k *maxPool2DKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y := values[T](in[0]), values[T](out)
	xs, ys := in[0].Shape(), out.Shape()
	h, w, oh, ow := xs[2], xs[3], ys[2], ys[3]
	if cap(k.argmax) < len(y) {
		k.argmax = make([]int32, len(y))
	}
	k.argmax = k.argmax[:len(y)]
	if len(x) > math.MaxInt32 {
		return fmt.Errorf("input of %d values is too large for 32-bit indices", len(x))
	}
	planes := xs[0] * xs[1]
	k.planes.chunks(planes, maxPoolCall[T]{k: k, x: x, y: y, h: h, w: w, oh: oh, ow: ow})
	return nil
}

// maxPoolCall is forward's arguments: part chunk pools the planes
// [from, to).
type maxPoolCall[T float] struct {
	k            *maxPool2DKernel[T]
	x, y         []T
	h, w, oh, ow int
}

func (c *maxPoolCall[T]) part(_, from, to int) {
	k, x, y, h, w, oh, ow := c.k, c.x, c.y, c.h, c.w, c.oh, c.ow
	for p := from; p < to; p++ {
		xp := x[p*h*w : (p+1)*h*w]
		yp, ap := y[p*oh*ow:(p+1)*oh*ow], k.argmax[p*oh*ow:(p+1)*oh*ow]
		base := int32(p * h * w)
		if k.size == 2 && k.stride == 2 {
			pool2x2(xp, yp, ap, base, w, oh, ow)
			continue
		}
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				top, left := oy*k.stride, ox*k.stride
				best, at := T(math.Inf(-1)), top*w+left
			window:
				for i := top; i < top+k.size; i++ {
					for j := left; j < left+k.size; j++ {
						if v := xp[i*w+j]; v > best || v != v {
							best, at = v, i*w+j
							if v != v {
								break window
							}
						}
					}
				}
				yp[oy*ow+ox] = best
				ap[oy*ow+ox] = base + int32(at)
			}
		}
	}
}

// pool2x2 is the forward pass of the common 2×2, stride 2 pooling over one
// plane, unrolled; windows holding a NaN take the general rule.
func pool2x2[T float](xp, yp []T, ap []int32, base int32, w, oh, ow int) {
	if x32, ok := any(xp).([]float32); ok && kern.MaxPool2x2(any(yp).([]float32), ap, x32, base, w, oh, ow) {
		return // sixteen outputs at a time, the same values and indices
	}
	for oy := 0; oy < oh; oy++ {
		r0, r1 := xp[2*oy*w:(2*oy+1)*w], xp[(2*oy+1)*w:(2*oy+2)*w]
		yr, ar := yp[oy*ow:(oy+1)*ow], ap[oy*ow:(oy+1)*ow]
		i0, i1 := base+int32(2*oy*w), base+int32((2*oy+1)*w)
		for ox := range yr {
			j := 2 * ox
			a, b, c, d := r0[j], r0[j+1], r1[j], r1[j+1]
			best, at := a, i0+int32(j)
			if a != a || b != b || c != c || d != d {
				for n, v := range [4]T{a, b, c, d} {
					if v != v {
						best, at = v, [4]int32{i0, i0 + 1, i1, i1 + 1}[n]+int32(j)
						break
					}
				}
			} else { // the first maximum, picking indices without branches on the data
				if b > best {
					at = i0 + int32(j+1)
				}
				best = max(best, b)
				if c > best {
					at = i1 + int32(j)
				}
				best = max(best, c)
				if d > best {
					at = i1 + int32(j+1)
				}
				best = max(best, d)
			}
			yr[ox], ar[ox] = best, at
		}
	}
}

func (k *maxPool2DKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	g, d := values[T](gOut), values[T](grad)
	xs, ys := in[0].Shape(), gOut.Shape()
	planes, hw, ohw := xs[0]*xs[1], xs[2]*xs[3], ys[2]*ys[3]
	// Every maximum lies in its own plane, so planes are independent and
	// split among the threads; within a plane, overlapping windows can
	// share a maximum, so the adds stay in order. Without overlap the
	// kernel clears each plane itself (writesAll), while it is in cache.
	inChunks(planes, func(_, from, to int) {
		for p := from; p < to; p++ {
			if k.stride >= k.size {
				clear(d[p*hw : (p+1)*hw])
			}
			gp := g[p*ohw : (p+1)*ohw]
			for i, at := range k.argmax[p*ohw : (p+1)*ohw] {
				d[at] += gp[i]
			}
		}
	})
	return nil
}
