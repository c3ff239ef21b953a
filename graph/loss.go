package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BCEWithLogits is PyTorch's BCEWithLogitsLoss (mean reduction): the binary
// cross-entropy of sigmoid(logits) against 0/1 targets, computed as
// max(x,0) − x·y + log(1+e^−|x|) so it stays finite for large |x|. logits
// and targets hold the same number of elements ([N] or [N, 1]).
func BCEWithLogits(logits, targets *G.Node) *G.Node {
	return lossNode(lossBCE, logits, targets)
}

// SoftmaxCrossEntropy is PyTorch's CrossEntropyLoss (mean reduction):
// logits [N, C], targets [N] holding class indices.
func SoftmaxCrossEntropy(logits, targets *G.Node) *G.Node {
	return lossNode(lossCE, logits, targets)
}

// BinaryLoss is a binary classifier's objective: target "label" [N] of 0s
// and 1s, BCEWithLogits over the output's N logits.
func BinaryLoss(b *Builder, out Outputs) (Objective, error) {
	label := b.Input("label", out.Output.Shape()[0])
	return Objective{Target: label, Loss: BCEWithLogits(out.Output, label)}, nil
}

// MulticlassLoss is a multiclass classifier's objective: target "label" [N]
// of class indices, SoftmaxCrossEntropy over the output's [N, C] logits.
func MulticlassLoss(b *Builder, out Outputs) (Objective, error) {
	label := b.Input("label", out.Output.Shape()[0])
	return Objective{Target: label, Loss: SoftmaxCrossEntropy(out.Output, label)}, nil
}

// MSE is PyTorch's MSELoss (mean reduction) over same-sized tensors.
func MSE(pred, targets *G.Node) *G.Node {
	return lossNode(lossMSE, pred, targets)
}

type lossKind int

const (
	lossBCE lossKind = iota
	lossCE
	lossMSE
)

func (l lossKind) String() string {
	return [...]string{"BCEWithLogits", "SoftmaxCrossEntropy", "MSE"}[l]
}

func lossNode(kind lossKind, x, y *G.Node) *G.Node {
	return mustApply(typed(x.Dtype(), &lossKernel[float32]{kind: kind}, &lossKernel[float64]{kind: kind}), x, y)
}

type lossKernel[T float] struct{ kind lossKind }

func (k *lossKernel[T]) name() string { return k.kind.String() }

// Targets are data: no gradient flows to them.
func (*lossKernel[T]) differentiable() []bool { return []bool{true, false} }

func (k *lossKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, y := in[0], in[1]
	if k.kind == lossCE {
		if len(x) != 2 || y.TotalSize() != x[0] {
			return nil, fmt.Errorf("logits %v and targets %v: expected [N, C] and [N]", x, y)
		}
	} else if x.TotalSize() != y.TotalSize() {
		return nil, fmt.Errorf("outputs %v and targets %v differ in size", x, y)
	}
	return tensor.ScalarShape(), nil
}

func (k *lossKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	x, y := values[T](in[0]), values[T](in[1])
	var sum float64
	switch k.kind {
	case lossBCE:
		for i, v := range x {
			xv, yv := float64(v), float64(y[i])
			sum += math.Max(xv, 0) - xv*yv + math.Log1p(math.Exp(-math.Abs(xv)))
		}
		sum /= float64(len(x))
	case lossCE:
		n, c := in[0].Shape()[0], in[0].Shape()[1]
		for i := 0; i < n; i++ {
			row := x[i*c : (i+1)*c]
			t := int(y[i])
			if t < 0 || t >= c || T(t) != y[i] {
				return fmt.Errorf("target %v of example %d is not a class index in [0, %d)", y[i], i, c)
			}
			sum += logSumExp(row) - float64(row[t])
		}
		sum /= float64(n)
	case lossMSE:
		for i, v := range x {
			d := float64(v - y[i])
			sum += d * d
		}
		sum /= float64(len(x))
	}
	values[T](out)[0] = T(sum)
	return nil
}

func (k *lossKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, _ int, grad *tensor.Dense) error {
	x, y, d := values[T](in[0]), values[T](in[1]), values[T](grad)
	g := float64(values[T](gOut)[0])
	switch k.kind {
	case lossBCE:
		s := g / float64(len(x))
		for i, v := range x {
			d[i] = T((sigmoidOf(float64(v)) - float64(y[i])) * s)
		}
	case lossCE:
		n, c := in[0].Shape()[0], in[0].Shape()[1]
		s := g / float64(n)
		for i := 0; i < n; i++ {
			row, drow := x[i*c:(i+1)*c], d[i*c:(i+1)*c]
			lse := logSumExp(row)
			for j, v := range row {
				drow[j] = T(math.Exp(float64(v)-lse) * s)
			}
			drow[int(y[i])] -= T(s)
		}
	case lossMSE:
		s := 2 * g / float64(len(x))
		for i, v := range x {
			d[i] = T(float64(v-y[i]) * s)
		}
	}
	return nil
}

// logSumExp is log Σ e^v, shifted by the maximum so it cannot overflow.
func logSumExp[T float](row []T) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}
