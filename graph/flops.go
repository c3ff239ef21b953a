package graph

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// FLOPs count the products a machine runs, from its graph's shapes: what a
// benchmark divides by the time to compare with the machine's sgemm peak.
// A multiply-add counts 2. Only the kernels whose work is products
// (linear, convolutions, the LSTM, attention, row dots) count: elementwise
// work is a few percent of a step and is not what the peak measures.
// Padding is not skipped: the count is the dense one, as PyTorch's is.

// flopCounter is implemented by the kernels whose work is products.
type flopCounter interface {
	// flops is forward's operations for inputs in and output out.
	flops(in []tensor.Shape, out tensor.Shape) int64
	// gradFlops is backward's operations for the gradient of input wrt.
	gradFlops(in []tensor.Shape, out tensor.Shape, wrt int) int64
}

// FLOPs is the number of floating-point operations one run of the machine
// performs in its product kernels: the forward pass, plus the backward
// pass of a training machine.
func (m *Machine) FLOPs() int64 {
	if m.g == nil {
		return 0
	}
	return GraphFLOPs(m.g)
}

// GraphFLOPs counts the product kernels' operations of every node of g.
func GraphFLOPs(g *G.ExprGraph) int64 {
	var total int64
	for _, n := range g.AllNodes() {
		shapes := func() []tensor.Shape {
			var s []tensor.Shape
			for it := g.From(n.ID()); it.Next(); {
				s = append(s, it.Node().(*G.Node).Shape())
			}
			return s
		}
		switch op := n.Op().(type) {
		case *kernelOp:
			if fc, ok := op.k.(flopCounter); ok {
				total += fc.flops(shapes(), n.Shape())
			}
		case *kernelGradOp:
			if fc, ok := op.fwd.k.(flopCounter); ok {
				// A gradient node's children are the forward's inputs,
				// its output and dLoss/dOut.
				s := shapes()
				if k := len(op.fwd.inDims); len(s) >= k+1 {
					total += fc.gradFlops(s[:k], s[k], op.wrt)
				}
			}
		}
	}
	return total
}

func prod(s ...int) int64 {
	n := int64(1)
	for _, d := range s {
		n *= int64(d)
	}
	return n
}

// productGrad is the backward cost of a kernel out = x·w (+ bias): one
// product of forward's size for x's gradient and one for w's; none for
// the bias.
func productGrad(fwd int64, wrt int) int64 {
	if wrt < 2 {
		return fwd
	}
	return 0
}

func (linearKernel[T]) flops(in []tensor.Shape, out tensor.Shape) int64 {
	return 2 * int64(out.TotalSize()) * int64(in[1][1])
}

func (k linearKernel[T]) gradFlops(in []tensor.Shape, out tensor.Shape, wrt int) int64 {
	return productGrad(k.flops(in, out), wrt)
}

func (*linearInferKernel) flops(in []tensor.Shape, out tensor.Shape) int64 {
	return linearKernel[float32]{}.flops(in, out)
}

func (*linearInferKernel) gradFlops([]tensor.Shape, tensor.Shape, int) int64 { return 0 }

func (*linearInt8Kernel) flops(in []tensor.Shape, out tensor.Shape) int64 {
	return linearKernel[float32]{}.flops(in, out)
}

func (*linearInt8Kernel) gradFlops([]tensor.Shape, tensor.Shape, int) int64 { return 0 }

// conv1d: out [N, O, Lout], weight [O, C, K].
func (k *conv1dKernel[T]) flops(in []tensor.Shape, out tensor.Shape) int64 {
	w := in[1]
	return 2 * int64(out.TotalSize()) * prod(w[1], w[2])
}

func (k *conv1dKernel[T]) gradFlops(in []tensor.Shape, out tensor.Shape, wrt int) int64 {
	return productGrad(k.flops(in, out), wrt)
}

// conv2d: out [N, O, Hout, Wout], weight [O, C, KH, KW].
func (k *conv2dKernel[T]) flops(in []tensor.Shape, out tensor.Shape) int64 {
	w := in[1]
	return 2 * int64(out.TotalSize()) * prod(w[1], w[2], w[3])
}

func (k *conv2dKernel[T]) gradFlops(in []tensor.Shape, out tensor.Shape, wrt int) int64 {
	return productGrad(k.flops(in, out), wrt)
}

// foldedConvFLOPs is a convolution's count before its fused pooling, whose
// output is smaller than the convolution's.
func foldedConvFLOPs(stride, pad int, in []tensor.Shape) int64 {
	x, w := in[0], in[1]
	ho, wo := (x[2]+2*pad-w[2])/stride+1, (x[3]+2*pad-w[3])/stride+1
	return 2 * prod(x[0], w[0], ho, wo) * prod(w[1], w[2], w[3])
}

func (k *foldedConvKernel[T]) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	return foldedConvFLOPs(k.conv.stride, k.conv.pad, in)
}

func (*foldedConvKernel[T]) gradFlops([]tensor.Shape, tensor.Shape, int) int64 { return 0 }

func (k *foldedConvInt8Kernel) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	return foldedConvFLOPs(k.stride, k.pad, in)
}

func (*foldedConvInt8Kernel) gradFlops([]tensor.Shape, tensor.Shape, int) int64 { return 0 }

// The fused text kernels: ids [N, L], weight [O, E, K]; embedConvMax has
// L+K−1 windows (padded both sides), embedConvPool L−K+1.
func textConvFLOPs(in []tensor.Shape, windows int) int64 {
	w := in[2]
	return 2 * prod(in[0][0], windows, w[0], w[1], w[2])
}

func (*embedConvMaxKernel) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	return textConvFLOPs(in, in[0][1]+in[2][2]-1)
}

func (*embedConvMaxKernel) gradFlops([]tensor.Shape, tensor.Shape, int) int64 { return 0 }

func (*embedConvMaxInt8Kernel) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	return textConvFLOPs(in, in[0][1]+in[2][2]-1)
}

func (*embedConvMaxInt8Kernel) gradFlops([]tensor.Shape, tensor.Shape, int) int64 { return 0 }

func (*embedConvPoolKernel) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	return textConvFLOPs(in, in[0][1]-in[2][2]+1)
}

func (*embedConvPoolKernel) gradFlops([]tensor.Shape, tensor.Shape, int) int64 { return 0 }

func (*embedConvPoolInt8Kernel) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	return textConvFLOPs(in, in[0][1]-in[2][2]+1)
}

func (*embedConvPoolInt8Kernel) gradFlops([]tensor.Shape, tensor.Shape, int) int64 { return 0 }

// lstmParts are one direction's input projection (x·W_ihᵀ over every
// step) and recurrence (h·W_hhᵀ over every step).
func (k *lstmLayerKernel[T]) lstmParts(in []tensor.Shape) (inProj, recur int64) {
	x := in[0]
	steps := prod(x[0], x[1])
	return 2 * steps * prod(x[2], 4*k.hidden), 2 * steps * prod(k.hidden, 4*k.hidden)
}

func (k *lstmLayerKernel[T]) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	p, r := k.lstmParts(in)
	return int64(k.dirs) * (p + r)
}

// gradFlops: x's gradient is one input projection per direction; W_ih's
// one input projection; W_hh's the recurrence run back through time (the
// state's gradient, which every other gradient needs and is counted here
// once) plus its own product; the biases none.
func (k *lstmLayerKernel[T]) gradFlops(in []tensor.Shape, _ tensor.Shape, wrt int) int64 {
	p, r := k.lstmParts(in)
	base := k.paramBase()
	switch {
	case wrt == 0:
		return int64(k.dirs) * p
	case wrt < base:
		return 0
	}
	switch (wrt - base) % 4 {
	case 0:
		return p
	case 1:
		return 2 * r
	}
	return 0
}

// attentionParts: the projections (QKV and output, 8·N·T·D²) and the
// scores and weighted sums of all heads (4·N·T²·D).
func attentionParts(x tensor.Shape) (proj, scores int64) {
	n, t, d := x[0], x[1], x[2]
	return 8 * prod(n, t, d, d), 4 * prod(n, t, t, d)
}

func (k *attentionKernel[T]) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	p, s := attentionParts(in[0])
	return p + s
}

// gradFlops: x's gradient runs the whole chain back (scores, softmax,
// projections: forward's size); each projection weight's gradient is one
// product of its own size; the biases none.
func (k *attentionKernel[T]) gradFlops(in []tensor.Shape, out tensor.Shape, wrt int) int64 {
	base := k.base()
	switch {
	case wrt == 0:
		return k.flops(in, out)
	case wrt < base || (wrt-base)%2 == 1:
		return 0
	}
	x := in[0]
	w := in[wrt]
	return 2 * prod(x[0], x[1]) * prod(w[0], w[1])
}

// rowDot: out [N] = Σ_k a[n,k]·b[n,k].
func (rowDotKernel[T]) flops(in []tensor.Shape, _ tensor.Shape) int64 {
	return 2 * int64(in[0].TotalSize())
}

func (k rowDotKernel[T]) gradFlops(in []tensor.Shape, out tensor.Shape, wrt int) int64 {
	return k.flops(in, out) / 2 // one multiply per element
}
