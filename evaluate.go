package tapeml

import (
	"context"
	"fmt"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
)

// Evaluate runs the serving graph over a labelled dataset (textclass's and
// imagedata's datasets, for instance) and returns the metrics of the
// model's task, as Keras's model.evaluate does: the mean loss (binary or
// softmax cross-entropy, or MSE) and accuracy, F1, AUC, a confusion matrix
// or RMSE. The context is checked between batches.
func (m *Model) Evaluate(ctx context.Context, ds dataset.Dataset) (metrics.Result, error) {
	if err := checkContext(ctx, "Evaluate"); err != nil {
		return metrics.Result{}, err
	}
	run := m.c.Run
	if run == nil {
		return metrics.Result{}, m.wrongKind("Evaluate", "a network")
	}
	if inShapes, _ := ds.Shapes(); len(inShapes) != len(run.Widths()) {
		return metrics.Result{}, fmt.Errorf("tapeml: Evaluate: the dataset has %d inputs, the model takes %d", len(inShapes), len(run.Widths()))
	}
	task := m.c.Loaded.Network.Task()
	return kinds.EvaluateNet(ctx, run, ds, task, len(m.Classes()), run.OutputWidth(), run.MaxBatch())
}

// EvalOptions says what EvaluateRunData evaluates on.
type EvalOptions = kinds.EvalOptions

// EvalReport is EvaluateRunData's result.
type EvalReport = kinds.EvalReport

// What EvaluateRunData scored (EvalReport.Split): a test split, or all of
// other data that ships none (see kinds.EvalSplit).
const (
	SplitTest = kinds.SplitTest
	SplitAll  = kinds.SplitAll
)

// EvaluateRunData scores the model on the test split of the data it was
// trained on — found again from what its checkpoint records, split the
// same way — or on other data of the same form (opt.Data): its test split
// if it ships one, else all of it. What `tapeml eval` reports; the report
// says which (Split) of how many rows (Rows). Built-in data sets need
// package samples linked in.
func (m *Model) EvaluateRunData(ctx context.Context, opt EvalOptions) (*EvalReport, error) {
	if err := checkContext(ctx, "EvaluateRunData"); err != nil {
		return nil, err
	}
	ev, ok := m.c.Loaded.Codec.(kinds.Evaluator)
	if !ok {
		return nil, fmt.Errorf("tapeml: %s models cannot be evaluated on their run's data", m.Name())
	}
	var net kinds.Net
	if m.c.Run != nil {
		net = m.c.Run
		if opt.Batch == 0 {
			opt.Batch = m.c.Run.MaxBatch()
		}
	}
	return ev.Evaluate(ctx, net, opt)
}

// TestSample returns up to n raw examples of the test split of the
// model's run data, as Infer takes them, with their true classes (text
// and image models): what `tapeml explain --test` explains.
func (m *Model) TestSample(ctx context.Context, n int) ([]api.Tensor, []string, error) {
	if err := checkContext(ctx, "TestSample"); err != nil {
		return nil, nil, err
	}
	s, ok := m.c.Loaded.Codec.(kinds.Sampler)
	if !ok {
		return nil, nil, m.wrongKind("TestSample", "a classifier")
	}
	return s.TestSample(ctx, n)
}
