package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PaddingMask marks the real tokens of a batch of padded ids: ids [N, T]
// (integral values stored as floats) become a mask [N, T] holding 1 where
// the id is not paddingID and 0 where it is. It is data, not a function of
// any parameter: no gradient flows through it. The LSTM takes it to run
// each sequence over its real tokens only, wherever the padding is.
func PaddingMask(ids *G.Node, paddingID int) *G.Node {
	if ids.Dims() != 2 {
		panic(shapeErr("PaddingMask", ids.Shape(), "[N, T]"))
	}
	return mustApply(typed(ids.Dtype(), paddingMaskKernel[float32]{pad: paddingID}, paddingMaskKernel[float64]{pad: paddingID}), ids)
}

type paddingMaskKernel[T float] struct{ pad int }

func (k paddingMaskKernel[T]) name() string { return fmt.Sprintf("PaddingMask(%d)", k.pad) }

func (paddingMaskKernel[T]) differentiable() []bool { return []bool{false} }

func (paddingMaskKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in[0]) != 2 {
		return nil, fmt.Errorf("ids %v, expected [N, T]", in[0])
	}
	return in[0].Clone(), nil
}

func (k paddingMaskKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	ids, m := values[T](in[0]), values[T](out)
	pad := T(k.pad)
	for i, id := range ids {
		if id == pad {
			m[i] = 0
		} else {
			m[i] = 1
		}
	}
	return nil
}

func (paddingMaskKernel[T]) backward([]*tensor.Dense, *tensor.Dense, *tensor.Dense, int, *tensor.Dense) error {
	return fmt.Errorf("PaddingMask has no gradient")
}
