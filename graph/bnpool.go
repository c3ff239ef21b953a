package graph

import (
	"fmt"

	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// batchNormPoolKernel is BatchNorm2D followed by MaxPool2D(2) (floor mode)
// in one node: inputs as batchNormKernel's, output [N, C, H/2, W/2]. The
// training graph's ConvBlock uses it. Each plane is normalized into a
// per-thread buffer and pooled from there, so the normalized tensor is
// never written out; backward rebuilds each plane's gradient before
// pooling in the same buffer (the pooled gradient at each window's
// maximum, 0 elsewhere) instead of the tape zeroing and scattering a full
// tensor. The values and sums are those of the two layers, in the same
// order: the bits are the same.
type batchNormPoolKernel[T float] struct {
	bn      batchNormKernel[T]
	argmax  []int32      // per output, the index of its maximum in its input plane
	scratch perThread[T] // per chunk of channels: one plane
}

func (k *batchNormPoolKernel[T]) name() string { return k.bn.name() + "+MaxPool2D(2)" }

func (k *batchNormPoolKernel[T]) differentiable() []bool { return k.bn.differentiable() }

func (k *batchNormPoolKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	s, err := k.bn.outShape(in)
	if err != nil {
		return nil, err
	}
	if s[2] < 2 || s[3] < 2 {
		return nil, fmt.Errorf("input %d×%d is smaller than the pool size 2", s[2], s[3])
	}
	return tensor.Shape{s[0], s[1], s[2] / 2, s[3] / 2}, nil
}

// Apply updates the running statistics (Feedback).
func (k *batchNormPoolKernel[T]) Apply() error { return k.bn.Apply() }

func (*batchNormPoolKernel[T]) isBatchNorm() {}

// It writes every output and every gradient.
func (*batchNormPoolKernel[T]) writesAll(int) bool { return true }

// poolDims returns the batch, channels, input plane width and size, and
// output plane height, width and size.
func (k *batchNormPoolKernel[T]) poolDims(x *tensor.Dense) (n, c, w, hw, oh, ow, ohw int) {
	s := x.Shape()
	n, c, w, hw = s[0], s[1], s[3], s[2]*s[3]
	oh, ow = s[2]/2, s[3]/2
	return n, c, w, hw, oh, ow, oh * ow
}

func (k *batchNormPoolKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	n, c, w, hw, oh, ow, ohw := k.poolDims(in[0])
	x, y := values[T](in[0]), values[T](out)
	if err := k.bn.prepare(in[0]); err != nil {
		return err
	}
	if cap(k.argmax) < len(y) {
		k.argmax = make([]int32, len(y))
	}
	k.argmax = k.argmax[:len(y)]
	k.scratch.run(c, hw, func(_, from, to int, z []T) {
		for ch := from; ch < to; ch++ {
			scale, shift := k.bn.statistics(in, ch)
			for i := 0; i < n; i++ {
				p := i*c + ch
				planeAffine(z, x[p*hw:(p+1)*hw], scale, shift)
				pool2x2(z, y[p*ohw:(p+1)*ohw], k.argmax[p*ohw:(p+1)*ohw], 0, w, oh, ow)
			}
		}
	})
	k.bn.finish()
	return nil
}

func (k *batchNormPoolKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	n, c, w, hw, oh, ow, _ := k.poolDims(in[0])
	x, g, dst := values[T](in[0]), values[T](gOut), values[T](grad)
	bn := &k.bn
	if fresh := bn.sumsOf != bn.forwards || len(bn.sumG) != c; fresh {
		// The tape asks for the input's gradient first, before γ's and
		// β's: then each channel's sums are followed by its gradient,
		// while its planes and their rebuilt gradients (all n of them,
		// kept) are in the cache, instead of a pass over every channel for
		// the sums and another for the gradient. The same operations in
		// the same order.
		fused := wrt == 0
		size := hw
		if fused {
			size = n * hw
		}
		bn.sumG, bn.sumGX = grow(bn.sumG, c), grow(bn.sumGX, c)
		k.scratch.run(c, size, func(_, from, to int, gzs []T) {
			for ch := from; ch < to; ch++ {
				var pg, pgx [kern.SquareLanes]float64
				for i := 0; i < n; i++ {
					p, gz := i*c+ch, gzs[:hw]
					if fused {
						gz = gzs[i*hw : (i+1)*hw]
					}
					if q := p + c; i+1 < n { // the next example's plane, a page or more away
						prefetch(x[q*hw : (q+1)*hw])
						prefetch(g[q*oh*ow : (q+1)*oh*ow])
						kern.Prefetch(k.argmax[q*oh*ow : (q+1)*oh*ow])
					}
					k.unpool(gz, g, p, w, oh, ow)
					planeSums(&pg, &pgx, gz, x[p*hw:(p+1)*hw], bn.mean[ch])
				}
				bn.setSums(ch, &pg, &pgx)
				if !fused {
					continue
				}
				scale, a, mean, bx := bn.gradMap(in, ch)
				for i := 0; i < n; i++ {
					p := i*c + ch
					planeGrad(dst[p*hw:(p+1)*hw], x[p*hw:(p+1)*hw], gzs[i*hw:(i+1)*hw], scale, a, mean, bx)
				}
			}
		})
		bn.sumsOf = bn.forwards
		if fused {
			return nil
		}
	}
	if bn.paramGrad(wrt, dst) {
		return nil
	}
	k.scratch.run(c, hw, func(_, from, to int, gz []T) {
		for ch := from; ch < to; ch++ {
			scale, a, mean, bx := bn.gradMap(in, ch)
			for i := 0; i < n; i++ {
				p := i*c + ch
				k.unpool(gz, g, p, w, oh, ow)
				planeGrad(dst[p*hw:(p+1)*hw], x[p*hw:(p+1)*hw], gz, scale, a, mean, bx)
			}
		}
	})
	return nil
}

// unpool writes plane p's gradient before pooling into gz: each output's
// gradient at its window's maximum, 0 elsewhere (MaxPool2D's backward).
func (k *batchNormPoolKernel[T]) unpool(gz, g []T, p, w, oh, ow int) {
	ohw := oh * ow
	gp, ap := g[p*ohw:(p+1)*ohw], k.argmax[p*ohw:(p+1)*ohw]
	if g32, ok := any(gp).([]float32); ok && kern.Unpool2x2(any(gz).([]float32), g32, ap, 0, w, len(gz)/w, oh, ow) {
		return // sixteen outputs at a time, the same bits
	}
	clear(gz)
	for j, at := range ap {
		gz[at] += gp[j]
	}
}
