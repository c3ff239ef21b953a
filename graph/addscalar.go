package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AddScalar adds the one-element parameter node s ([1]) to every element of
// x ([N, …]). It is Gorgonia's broadcast addition as a layer op, so that
// the parameter has per-example gradients (matrix factorization's global
// bias under differentially private training).
func AddScalar(x, s *G.Node) *G.Node {
	if x.Dims() < 1 || s.Shape().TotalSize() != 1 {
		panic(shapeErr("AddScalar", s.Shape(), "[1] added to [N, …]"))
	}
	return mustApply(typed(x.Dtype(), addScalarKernel[float32]{}, addScalarKernel[float64]{}), x, s)
}

// addScalarKernel: inputs x [N, …], s [1]; output x + s.
type addScalarKernel[T float] struct{}

func (addScalarKernel[T]) name() string { return "AddScalar" }

func (addScalarKernel[T]) differentiable() []bool { return []bool{true, true} }

func (addScalarKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) < 1 || in[1].TotalSize() != 1 {
		return nil, fmt.Errorf("x %v and scalar %v: expected [N, …] and [1]", in[0], in[1])
	}
	return in[0].Clone(), nil
}

func (addScalarKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, s, y := values[T](in[0]), values[T](in[1])[0], values[T](out)
	for i, v := range x {
		y[i] = v + s
	}
	return nil
}

func (addScalarKernel[T]) backward(_ []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	g, d := values[T](gOut), values[T](grad)
	if wrt == 0 {
		copy(d, g)
		return nil
	}
	var s T
	for _, v := range g {
		s += v
	}
	d[0] += s
	return nil
}

// Example n's gradient of s is the sum of its row of the output gradient.
func (k addScalarKernel[T]) samples(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, st *opStore) (sampleGrads, error) {
	s := newSliceSamples[T](k, func() kernel { return k }, in, gOut, wrt, st)
	n := s.n()
	s.sqNorm = func(i int) float64 {
		size := len(s.g) / n
		var t float64
		for _, v := range s.g[i*size : (i+1)*size] {
			t += float64(v)
		}
		return t * t
	}
	return s, nil
}

func (addScalarKernel[T]) needsBackward() bool { return false }
