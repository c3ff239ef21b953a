package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RowDot is the row-wise dot product of two matrices of the same shape,
// (a * b).sum(dim=1) in PyTorch: a, b [N, D] → [N]. It is matrix
// factorization's p_u·q_i over a batch; RowDot(x, x) is each row's squared
// L2 norm (Gorgonia adds the two gradients, giving 2x).
func RowDot(a, b *G.Node) *G.Node {
	if a.Dims() != 2 || !a.Shape().Eq(b.Shape()) {
		panic(fmt.Errorf("RowDot: shapes %v and %v, expected two [N, D]", a.Shape(), b.Shape()))
	}
	return mustApply(typed(a.Dtype(), rowDotKernel[float32]{}, rowDotKernel[float64]{}), a, b)
}

// rowDotKernel: inputs a [N, D], b [N, D]; output [N].
type rowDotKernel[T float] struct{}

func (rowDotKernel[T]) name() string { return "RowDot" }

func (rowDotKernel[T]) differentiable() []bool { return []bool{true, true} }

func (rowDotKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != 2 || !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("inputs %v and %v: expected two [N, D]", in[0], in[1])
	}
	return tensor.Shape{in[0][0]}, nil
}

func (rowDotKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	a, b, y := values[T](in[0]), values[T](in[1]), values[T](out)
	d := in[0].Shape()[1]
	for n := range y {
		ra, rb := a[n*d:(n+1)*d], b[n*d:(n+1)*d]
		var s T
		for j, v := range ra {
			s += v * rb[j]
		}
		y[n] = s
	}
	return nil
}

// backward: d/da[n, j] = gOut[n]·b[n, j], and symmetrically for b.
func (rowDotKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	other, g, dst := values[T](in[1-wrt]), values[T](gOut), values[T](grad)
	d := in[0].Shape()[1]
	for n, gn := range g {
		ro, rd := other[n*d:(n+1)*d], dst[n*d:(n+1)*d]
		for j, v := range ro {
			rd[j] = gn * v
		}
	}
	return nil
}

// Clamp is torch.clamp(x, lo, hi): every element limited to [lo, hi]. The
// gradient passes where lo ≤ x ≤ hi and is zero outside, as in PyTorch.
// A recommender clamps its predictions to the rating scale.
func Clamp(x *G.Node, lo, hi float64) *G.Node {
	if !(lo <= hi) {
		panic(fmt.Errorf("Clamp: lo %v is above hi %v", lo, hi))
	}
	return mustApply(typed(x.Dtype(), clampKernel[float32]{lo, hi}, clampKernel[float64]{lo, hi}), x)
}

type clampKernel[T float] struct{ lo, hi float64 }

func (k clampKernel[T]) name() string { return fmt.Sprintf("Clamp(%g, %g)", k.lo, k.hi) }

func (clampKernel[T]) differentiable() []bool { return []bool{true} }

func (clampKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k clampKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y := values[T](in[0]), values[T](out)
	lo, hi := T(k.lo), T(k.hi)
	for i, v := range x {
		y[i] = min(max(v, lo), hi) // a NaN stays NaN, so the trainer still sees it
	}
	return nil
}

func (k clampKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	x, g, d := values[T](in[0]), values[T](gOut), values[T](grad)
	lo, hi := T(k.lo), T(k.hi)
	for i, v := range x {
		if v >= lo && v <= hi {
			d[i] = g[i]
		}
	}
	return nil
}
