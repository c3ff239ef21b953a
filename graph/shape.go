package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Flatten keeps the batch dimension and folds the rest, in row-major order
// as torch.flatten(x, 1): [N, A, B, …] → [N, A·B·…].
func Flatten(x *G.Node) *G.Node {
	s := x.Shape()
	return G.Must(G.Reshape(x, tensor.Shape{s[0], s.TotalSize() / s[0]}))
}

// SwapAxes exchanges the last two axes of a 3-D tensor, as x.permute(0, 2, 1)
// in PyTorch: [N, A, B] → [N, B, A]. It turns an embedding's [N, T, D] into
// the [N, C, L] layout convolutions take.
func SwapAxes(x *G.Node) *G.Node {
	if x.Dims() != 3 {
		panic(shapeErr("SwapAxes", x.Shape(), "[N, A, B]"))
	}
	return mustApply(typed(x.Dtype(), swapAxesKernel[float32]{}, swapAxesKernel[float64]{}), x)
}

type swapAxesKernel[T float] struct{}

func (swapAxesKernel[T]) name() string { return "SwapAxes" }

func (swapAxesKernel[T]) differentiable() []bool { return []bool{true} }

func (swapAxesKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != 3 {
		return nil, fmt.Errorf("input %v, expected [N, A, B]", in[0])
	}
	return tensor.Shape{in[0][0], in[0][2], in[0][1]}, nil
}

func swap[T float](src, dst []T, n, a, b int) {
	for i := 0; i < n; i++ {
		s, d := src[i*a*b:(i+1)*a*b], dst[i*a*b:(i+1)*a*b]
		for r := 0; r < a; r++ {
			for c := 0; c < b; c++ {
				d[c*a+r] = s[r*b+c]
			}
		}
	}
}

func (swapAxesKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	s := in[0].Shape()
	swap(values[T](in[0]), values[T](out), s[0], s[1], s[2])
	return nil
}

func (swapAxesKernel[T]) backward(_ []*tensor.Dense, out, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	s := out.Shape()
	swap(values[T](gOut), values[T](grad), s[0], s[1], s[2])
	return nil
}

// FirstToken keeps each sequence's first position: x [N, T, D] → [N, D],
// x[:, 0] in PyTorch — BERT's pooler reads the [CLS] token there. The
// other positions get no gradient.
func FirstToken(x *G.Node) *G.Node {
	if x.Dims() != 3 {
		panic(shapeErr("FirstToken", x.Shape(), "[N, T, D]"))
	}
	return mustApply(typed(x.Dtype(), firstTokenKernel[float32]{}, firstTokenKernel[float64]{}), x)
}

type firstTokenKernel[T float] struct{}

func (firstTokenKernel[T]) name() string { return "FirstToken" }

func (firstTokenKernel[T]) differentiable() []bool { return []bool{true} }

func (firstTokenKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != 3 || in[0][1] < 1 {
		return nil, fmt.Errorf("input %v, expected [N, T ≥ 1, D]", in[0])
	}
	return tensor.Shape{in[0][0], in[0][2]}, nil
}

func (firstTokenKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	s := in[0].Shape()
	x, y := values[T](in[0]), values[T](out)
	for i := 0; i < s[0]; i++ {
		copy(y[i*s[2]:(i+1)*s[2]], x[i*s[1]*s[2]:])
	}
	return nil
}

// backward writes the first position's rows; grad arrives zeroed, which
// the other positions' gradient is.
func (firstTokenKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	s := in[0].Shape()
	g, d := values[T](gOut), values[T](grad)
	for i := 0; i < s[0]; i++ {
		copy(d[i*s[1]*s[2]:i*s[1]*s[2]+s[2]], g[i*s[2]:(i+1)*s[2]])
	}
	return nil
}
