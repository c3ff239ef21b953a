package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Concat joins feature matrices side by side, as torch.cat(xs, 1):
// [N, F₁], [N, F₂], … → [N, F₁+F₂+…]. A single input is returned as it is.
func Concat(xs ...*G.Node) *G.Node {
	if len(xs) == 0 {
		panic("graph: Concat of nothing")
	}
	if len(xs) == 1 {
		return xs[0]
	}
	for _, x := range xs {
		if x.Dims() != 2 {
			panic(shapeErr("Concat", x.Shape(), "[N, F]"))
		}
	}
	return mustApply(typed(xs[0].Dtype(), concatKernel[float32]{n: len(xs)}, concatKernel[float64]{n: len(xs)}), xs...)
}

type concatKernel[T float] struct{ n int }

func (k concatKernel[T]) name() string { return fmt.Sprintf("Concat(%d)", k.n) }

func (k concatKernel[T]) differentiable() []bool {
	d := make([]bool, k.n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (concatKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	width := 0
	for _, s := range in {
		if len(s) != 2 || s[0] != in[0][0] {
			return nil, fmt.Errorf("inputs %v: expected [N, F] each, the same N", in)
		}
		width += s[1]
	}
	return tensor.Shape{in[0][0], width}, nil
}

func (concatKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	y := values[T](out)
	n, width := out.Shape()[0], out.Shape()[1]
	at := 0
	for _, x := range in {
		xs, f := values[T](x), x.Shape()[1]
		for i := 0; i < n; i++ {
			copy(y[i*width+at:i*width+at+f], xs[i*f:(i+1)*f])
		}
		at += f
	}
	return nil
}

func (concatKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	g, d := values[T](gOut), values[T](grad)
	n, width := gOut.Shape()[0], gOut.Shape()[1]
	at := 0
	for _, x := range in[:wrt] {
		at += x.Shape()[1]
	}
	f := in[wrt].Shape()[1]
	for i := 0; i < n; i++ {
		copy(d[i*f:(i+1)*f], g[i*width+at:i*width+at+f])
	}
	return nil
}

func (concatKernel[T]) writesAll(int) bool { return true }
