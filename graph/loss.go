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

// ClassWeights weighs each example's loss by the weight of its class:
// PyTorch's BCEWithLogitsLoss(weight=w[y]) for a binary classifier (the
// mean of the weighted losses) and CrossEntropyLoss(weight=w) for a
// multiclass one (their weighted mean, Σ w[yᵢ]·ℓᵢ / Σ w[yᵢ]).
type ClassWeights struct {
	// W holds one weight per class: [negative, positive] for a binary
	// classifier, by class index for a multiclass one. Nil: unweighted.
	W []float64
	// Norm, when > 0, divides a multiclass batch's Σ w[yᵢ]·ℓᵢ by N·Norm
	// instead of Σ w[yᵢ], so that each example's loss is its own: what
	// per-example gradients (DP-SGD) need. The training set's mean weight
	// makes the two agree on average.
	Norm float64
}

// WeightedBCEWithLogits is BCEWithLogits with example i's term weighted by
// w[targets[i]] (targets 0 or 1, w of length 2): PyTorch's
// BCEWithLogitsLoss(weight=w[targets]), mean reduction.
func WeightedBCEWithLogits(logits, targets *G.Node, w []float64) *G.Node {
	return weightedLossNode(lossBCE, logits, targets, ClassWeights{W: w})
}

// WeightedSoftmaxCrossEntropy is PyTorch's CrossEntropyLoss(weight=cw.W),
// mean reduction: Σ w[yᵢ]·ℓᵢ / Σ w[yᵢ] (or / N·cw.Norm).
func WeightedSoftmaxCrossEntropy(logits, targets *G.Node, cw ClassWeights) *G.Node {
	return weightedLossNode(lossCE, logits, targets, cw)
}

// BinaryLoss is a binary classifier's objective: target "label" [N] of 0s
// and 1s, BCEWithLogits over the output's N logits.
func BinaryLoss(b *Builder, out Outputs) (Objective, error) {
	return WeightedBinaryLoss(b, out, nil)
}

// WeightedBinaryLoss is BinaryLoss with class weights w ([negative,
// positive]; nil for none).
func WeightedBinaryLoss(b *Builder, out Outputs, w []float64) (Objective, error) {
	label := b.Input("label", out.Output.Shape()[0])
	return Objective{Target: label, Loss: WeightedBCEWithLogits(out.Output, label, w)}, nil
}

// MulticlassLoss is a multiclass classifier's objective: target "label" [N]
// of class indices, SoftmaxCrossEntropy over the output's [N, C] logits.
func MulticlassLoss(b *Builder, out Outputs) (Objective, error) {
	return WeightedMulticlassLoss(b, out, ClassWeights{})
}

// WeightedMulticlassLoss is MulticlassLoss with class weights.
func WeightedMulticlassLoss(b *Builder, out Outputs, cw ClassWeights) (Objective, error) {
	label := b.Input("label", out.Output.Shape()[0])
	return Objective{Target: label, Loss: WeightedSoftmaxCrossEntropy(out.Output, label, cw)}, nil
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
	return weightedLossNode(kind, x, y, ClassWeights{})
}

func weightedLossNode(kind lossKind, x, y *G.Node, cw ClassWeights) *G.Node {
	if len(cw.W) == 0 {
		cw = ClassWeights{}
	}
	return mustApply(typed(x.Dtype(), &lossKernel[float32]{kind: kind, cw: cw}, &lossKernel[float64]{kind: kind, cw: cw}), x, y)
}

type lossKernel[T float] struct {
	kind lossKind
	cw   ClassWeights // BCE and CE only
}

func (k *lossKernel[T]) name() string {
	if k.cw.W != nil {
		return fmt.Sprintf("%s(weight=%v)", k.kind, k.cw.W)
	}
	return k.kind.String()
}

// weight is example i's class weight (1 without weights), its class
// checked first.
func (k *lossKernel[T]) weight(y T, i, classes int) (float64, error) {
	t := int(y)
	if t < 0 || t >= classes || T(t) != y {
		return 0, fmt.Errorf("target %v of example %d is not a class index in [0, %d)", y, i, classes)
	}
	if k.cw.W == nil {
		return 1, nil
	}
	return k.cw.W[t], nil
}

// denominator is what a batch's Σ wᵢ·ℓᵢ is divided by: N for BCE and
// unweighted CE, Σ wᵢ (or N·Norm) for weighted CE.
func (k *lossKernel[T]) denominator(y []T, classes int) (float64, error) {
	n := float64(len(y))
	if k.cw.W == nil || k.kind == lossBCE {
		return n, nil
	}
	if k.cw.Norm > 0 {
		return n * k.cw.Norm, nil
	}
	var s float64
	for i, v := range y {
		w, err := k.weight(v, i, classes)
		if err != nil {
			return 0, err
		}
		s += w
	}
	return s, nil
}

// Targets are data: no gradient flows to them.
func (*lossKernel[T]) differentiable() []bool { return []bool{true, false} }

func (k *lossKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x, y := in[0], in[1]
	if k.kind == lossCE {
		if len(x) != 2 || y.TotalSize() != x[0] {
			return nil, fmt.Errorf("logits %v and targets %v: expected [N, C] and [N]", x, y)
		}
		if k.cw.W != nil && len(k.cw.W) != x[1] {
			return nil, fmt.Errorf("%d class weights for %d classes", len(k.cw.W), x[1])
		}
	} else if x.TotalSize() != y.TotalSize() {
		return nil, fmt.Errorf("outputs %v and targets %v differ in size", x, y)
	}
	if k.kind == lossBCE && k.cw.W != nil && len(k.cw.W) != 2 {
		return nil, fmt.Errorf("%d class weights for a binary loss, want 2", len(k.cw.W))
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
			w := 1.0
			if k.cw.W != nil {
				var err error
				if w, err = k.weight(y[i], i, 2); err != nil {
					return err
				}
			}
			sum += w * (math.Max(xv, 0) - xv*yv + math.Log1p(math.Exp(-math.Abs(xv))))
		}
		sum /= float64(len(x))
	case lossCE:
		n, c := in[0].Shape()[0], in[0].Shape()[1]
		for i := 0; i < n; i++ {
			row := x[i*c : (i+1)*c]
			w, err := k.weight(y[i], i, c)
			if err != nil {
				return err
			}
			sum += w * (logSumExp(row) - float64(row[int(y[i])]))
		}
		den, err := k.denominator(y, c)
		if err != nil {
			return err
		}
		sum /= den
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
			w := 1.0
			if k.cw.W != nil {
				w = k.cw.W[int(y[i])]
			}
			d[i] = T((sigmoidOf(float64(v)) - float64(y[i])) * w * s)
		}
	case lossCE:
		n, c := in[0].Shape()[0], in[0].Shape()[1]
		den, err := k.denominator(y, c)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			row, drow := x[i*c:(i+1)*c], d[i*c:(i+1)*c]
			s := g / den
			if k.cw.W != nil {
				s *= k.cw.W[int(y[i])]
			}
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
