package kinds_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/metrics"
)

// echoNet outputs its one input, so a dataset's inputs are the outputs.
type echoNet struct{}

func (echoNet) Forward(_ context.Context, inputs [][]float32, n int) ([]float32, error) {
	return append([]float32(nil), inputs[0]...), nil
}

func TestEvaluateClassifier(t *testing.T) {
	ctx := context.Background()
	t.Run("binary, positive class first", func(t *testing.T) {
		// Logits of the positive class "spam" (index 0) and 0/1 targets,
		// 1 meaning spam: 2 spam (1 caught), 3 ham (1 flagged).
		logits := []float32{3, -2, 1, -1, -4}
		targets := []float32{1, 1, 0, 0, 0}
		ds, err := dataset.NewTensors([][]float32{logits}, [][]int{{1}}, targets, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := kinds.EvaluateClassifier(ctx, echoNet{}, ds, []string{"spam", "ham"}, 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		// Rows and columns in class order: spam, ham.
		if want := (metrics.Confusion{{1, 1}, {1, 2}}); !reflect.DeepEqual(r.Confusion, want) {
			t.Errorf("confusion %v, want %v", r.Confusion, want)
		}
		if want := []int{0, 0, 1, 1, 1}; !reflect.DeepEqual(r.Labels, want) {
			t.Errorf("labels %v, want %v", r.Labels, want)
		}
		if len(r.Probs) != 10 || math.Abs(float64(r.Probs[0])-metrics.Logistic(3)) > 1e-7 || math.Abs(float64(r.Probs[0]+r.Probs[1])-1) > 1e-7 {
			t.Errorf("probs %v: want spam's probability first", r.Probs)
		}
		if acc, _ := metricOf(r, "accuracy"); acc != 0.6 {
			t.Errorf("accuracy %v, want 0.6", acc)
		}
	})
	t.Run("3 classes", func(t *testing.T) {
		logits := []float32{
			2, 0, 0,
			0, 2, 0,
			0, 0, 2,
			2, 0, 0, // a "c" taken for an "a"
		}
		ds, err := dataset.NewTensors([][]float32{logits}, [][]int{{3}}, []float32{0, 1, 2, 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := kinds.EvaluateClassifier(ctx, echoNet{}, ds, []string{"a", "b", "c"}, -1, 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := (metrics.Confusion{{1, 0, 0}, {0, 1, 0}, {1, 0, 1}}); !reflect.DeepEqual(r.Confusion, want) {
			t.Errorf("confusion %v, want %v", r.Confusion, want)
		}
		if len(r.Probs) != 12 || r.Probs[0] <= r.Probs[1] || !reflect.DeepEqual(r.Labels, []int{0, 1, 2, 2}) {
			t.Errorf("probs %v labels %v", r.Probs, r.Labels)
		}
	})
	t.Run("NaN outputs", func(t *testing.T) {
		// A NaN output is an error naming the dataset row, never a report
		// (issue 28, point 5).
		nan := float32(math.NaN())
		ds, _ := dataset.NewTensors([][]float32{{1, 2, nan}}, [][]int{{1}}, []float32{1, 0, 1}, nil)
		r, err := kinds.EvaluateClassifier(ctx, echoNet{}, ds, []string{"ham", "spam"}, 1, 2)
		var nf *api.NonFiniteError
		if !errors.As(err, &nf) || nf.Example != 2 || r != nil {
			t.Fatalf("NaN outputs: report %v, error %v; want a NonFiniteError for row 2", r, err)
		}
	})
}

func metricOf(r *kinds.EvalReport, name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return math.NaN(), false
}
