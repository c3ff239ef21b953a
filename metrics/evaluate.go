package metrics

import (
	"context"
	"math"

	"github.com/tapeml/tapeml/dataset"
)

// Probabilities turns n rows of width outputs into what metrics and users
// read: the sigmoid of a binary logit, the softmax of multiclass logits,
// regressions as they are. It computes in float64 and returns a new slice.
func Probabilities(task Task, out []float32, width int) []float32 {
	p := make([]float32, len(out))
	switch task {
	case Binary:
		for i, x := range out {
			p[i] = float32(Logistic(float64(x)))
		}
	case Multiclass:
		for r := 0; r < len(out)/width; r++ {
			row, dst := out[r*width:(r+1)*width], p[r*width:(r+1)*width]
			m := math.Inf(-1)
			for _, x := range row {
				m = math.Max(m, float64(x))
			}
			var s float64
			for i, x := range row {
				e := math.Exp(float64(x) - m)
				dst[i] = float32(e)
				s += e
			}
			for i := range dst {
				dst[i] = float32(float64(dst[i]) / s)
			}
		}
	default:
		copy(p, out)
	}
	return p
}

// Logistic is the sigmoid 1/(1+e^−x), without overflow for large |x|.
func Logistic(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// MeanLoss is the task's training loss over a batch of outputs (width per
// example), in float64: binary cross-entropy on logits (PyTorch's
// BCEWithLogitsLoss), softmax cross-entropy (CrossEntropyLoss), or the
// squared error.
func MeanLoss(task Task, out, targets []float32, width int) float64 {
	var s float64
	n := len(targets)
	for i := 0; i < n; i++ {
		y := float64(targets[i])
		switch task {
		case Binary:
			x := float64(out[i])
			s += math.Max(x, 0) - x*y + math.Log1p(math.Exp(-math.Abs(x)))
		case Multiclass:
			row := out[i*width : (i+1)*width]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v) - mx)
			}
			s += mx + math.Log(z) - float64(row[int(y)])
		default:
			d := float64(out[i]) - y
			s += d * d
		}
	}
	return s / float64(n)
}

// Forward computes one batch: the n examples' outputs, row by row, and the
// batch's mean loss. inputs and targets hold the batch, flat
// (dataset.Dataset.Gather).
type Forward func(ctx context.Context, inputs [][]float32, targets []float32, n int) (out []float32, loss float64, err error)

// Evaluate runs forward over every example of ds in order, in batches of at
// most batch (the last partial batch included), and returns acc's metrics
// over all of them. ctx is checked before each batch. The trainer's
// validation and the runtime's Evaluate both go through it.
func Evaluate(ctx context.Context, ds dataset.Dataset, batch int, acc *Accumulator, forward Forward) (Result, error) {
	inShapes, targetShape := ds.Shapes()
	var (
		inputs  [][]float32
		targets []float32
		size    int
	)
	for from := 0; from < ds.Len(); from += batch {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		n := min(batch, ds.Len()-from)
		if n != size { // the first batch, and the last partial one
			inputs = inputs[:0]
			for _, s := range inShapes {
				inputs = append(inputs, make([]float32, n*numel(s)))
			}
			targets = make([]float32, n*numel(targetShape))
			size = n
		}
		idx := make([]int, n)
		for i := range idx {
			idx[i] = from + i
		}
		if err := ds.Gather(idx, inputs, targets); err != nil {
			return Result{}, err
		}
		out, loss, err := forward(ctx, inputs, targets, n)
		if err != nil {
			return Result{}, err
		}
		width := len(out) / n
		if err := acc.Add(loss, n, Probabilities(acc.task, out, width), targets); err != nil {
			return Result{}, err
		}
	}
	return acc.Result(), nil
}

// numel is the number of values of a shape (1 for a scalar).
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
