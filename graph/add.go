package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Add is x + y, element-wise, for tensors of one shape: the residual
// connections of a Transformer and the sum of its embeddings.
func Add(x, y *G.Node) *G.Node {
	if !x.Shape().Eq(y.Shape()) {
		panic(fmt.Sprintf("graph: Add of shapes %v and %v", x.Shape(), y.Shape()))
	}
	return mustApply(typed(x.Dtype(), addKernel[float32]{}, addKernel[float64]{}), x, y)
}

type addKernel[T float] struct{}

func (addKernel[T]) name() string { return "Add" }

func (addKernel[T]) differentiable() []bool { return []bool{true, true} }

func (addKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if !in[0].Eq(in[1]) {
		return nil, fmt.Errorf("shapes %v and %v differ", in[0], in[1])
	}
	return in[0].Clone(), nil
}

func (addKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y, z := values[T](in[0]), values[T](in[1]), values[T](out)
	for i, v := range x {
		z[i] = v + y[i]
	}
	return nil
}

func (addKernel[T]) backward(_ []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	copy(values[T](grad), values[T](gOut))
	return nil
}

func (addKernel[T]) writesAll(int) bool { return true }
