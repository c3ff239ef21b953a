package train

import (
	"context"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/metrics"
)

// predict returns the model's probabilities for every example of ds, in
// order (the tests' view of the inference machine).
func (t *Trainer) predict(ctx context.Context, ds dataset.Dataset) ([]float32, error) {
	var out []float32
	forward := t.forward(ds.Shapes())
	_, err := metrics.Evaluate(ctx, ds, t.Config.Batch, t.accumulator(), func(ctx context.Context, in [][]float32, y []float32, n int) ([]float32, float64, error) {
		o, loss, err := forward(ctx, in, y, n)
		out = append(out, metrics.Probabilities(t.Model.Task(), o, len(o)/n)...)
		return o, loss, err
	})
	return out, err
}
