package tapeml

import (
	"context"
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/metrics"
	"github.com/tapeml/tapeml/train"
)

// Evaluate runs the serving graph over a labelled dataset (textclass's and
// imagedata's datasets, for instance) and returns the metrics of the
// model's task, as Keras's model.evaluate does: the mean loss (binary or
// softmax cross-entropy, or MSE) and accuracy, F1, AUC, a confusion matrix
// or RMSE. The context is checked between batches.
func (m *Model) Evaluate(ctx context.Context, ds train.Dataset) (metrics.Result, error) {
	if m.run == nil {
		return metrics.Result{}, m.wrongKind("Evaluate", "a network")
	}
	inShapes, targetShape := ds.Shapes()
	if len(inShapes) != len(m.run.widths) {
		return metrics.Result{}, fmt.Errorf("tapeml: Evaluate: the dataset has %d inputs, the model takes %d", len(inShapes), len(m.run.widths))
	}
	acc := metrics.NewAccumulator(m.task, len(m.Classes()))
	batch := m.run.buckets[len(m.run.buckets)-1]
	for from := 0; from < ds.Len(); from += batch {
		if err := ctx.Err(); err != nil {
			return metrics.Result{}, err
		}
		n := min(batch, ds.Len()-from)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = from + i
		}
		ins := make([]*tensor.Dense, len(inShapes))
		flat := make([][]float32, len(inShapes))
		for k, s := range inShapes {
			ins[k] = tensor.New(tensor.WithShape(append([]int{n}, s...)...), tensor.Of(tensor.Float32))
		}
		targets := tensor.New(tensor.WithShape(append([]int{n}, targetShape...)...), tensor.Of(tensor.Float32))
		if err := ds.Gather(idx, ins, targets); err != nil {
			return metrics.Result{}, err
		}
		for k, t := range ins {
			flat[k] = t.Float32s()
		}
		out, err := m.run.run(ctx, flat, n)
		if err != nil {
			return metrics.Result{}, err
		}
		y := targets.Float32s()
		probs := train.Probabilities(m.task, denseRows(out, n, m.run.out))
		if err := acc.Add(meanLoss(m.task, out, y, m.run.out), n, probs, y); err != nil {
			return metrics.Result{}, err
		}
	}
	return acc.Result(), nil
}

// meanLoss is the task's training loss over a batch of outputs (k per
// example), computed in float64: BCEWithLogits, softmax cross-entropy, or
// the squared error.
func meanLoss(task metrics.Task, out, targets []float32, k int) float64 {
	var s float64
	n := len(targets)
	for i := 0; i < n; i++ {
		y := float64(targets[i])
		switch task {
		case metrics.Binary:
			x := float64(out[i])
			s += math.Max(x, 0) - x*y + math.Log1p(math.Exp(-math.Abs(x)))
		case metrics.Multiclass:
			row := out[i*k : (i+1)*k]
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
