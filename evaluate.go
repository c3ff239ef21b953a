package tapeml

import (
	"context"
	"fmt"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/metrics"
)

// Evaluate runs the serving graph over a labelled dataset (textclass's and
// imagedata's datasets, for instance) and returns the metrics of the
// model's task, as Keras's model.evaluate does: the mean loss (binary or
// softmax cross-entropy, or MSE) and accuracy, F1, AUC, a confusion matrix
// or RMSE. The context is checked between batches.
func (m *Model) Evaluate(ctx context.Context, ds dataset.Dataset) (metrics.Result, error) {
	if m.run == nil {
		return metrics.Result{}, m.wrongKind("Evaluate", "a network")
	}
	if inShapes, _ := ds.Shapes(); len(inShapes) != len(m.run.widths) {
		return metrics.Result{}, fmt.Errorf("tapeml: Evaluate: the dataset has %d inputs, the model takes %d", len(inShapes), len(m.run.widths))
	}
	acc := metrics.NewAccumulator(m.task, len(m.Classes()))
	batch := m.run.buckets[len(m.run.buckets)-1]
	return metrics.Evaluate(ctx, ds, batch, acc, func(ctx context.Context, inputs []*tensor.Dense, targets *tensor.Dense, n int) ([]float32, float64, error) {
		flat := make([][]float32, len(inputs))
		for k, t := range inputs {
			flat[k] = t.Float32s()
		}
		out, err := m.run.run(ctx, flat, n)
		if err != nil {
			return nil, 0, err
		}
		return out, metrics.MeanLoss(m.task, out, targets.Float32s(), m.run.out), nil
	})
}
