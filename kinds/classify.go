package kinds

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/metrics"
)

// What the classifier families share: reading logits as predictions,
// choosing the class an explanation scores, the classifier's output
// tensors, and evaluation on a dataset.

// BinaryPredictions reads one logit per example: its sigmoid is the
// probability of classes[positive], predicted at DefaultThreshold.
func BinaryPredictions(logits []float32, classes []string, positive int) []api.Prediction {
	out := make([]api.Prediction, len(logits))
	for i, x := range logits {
		p := float32(metrics.Logistic(float64(x)))
		probs := make([]float32, 2)
		probs[positive], probs[1-positive] = p, 1-p
		out[i] = Decide(api.Prediction{Probs: probs}, classes, positive, DefaultThreshold)
	}
	return out
}

// DefaultThreshold is the probability of a binary model's positive class
// at or above which the positive class is predicted.
const DefaultThreshold = 0.5

// Decide returns a binary prediction decided at threshold: its Label,
// Class and Prob are the positive class's when the positive class's
// probability (p.Probs[positive]) is at least threshold, the other
// class's otherwise; NoEvidence is kept. p.Probs is shared, not copied.
func Decide(p api.Prediction, classes []string, positive int, threshold float32) api.Prediction {
	label := 1 - positive
	if p.Probs[positive] >= threshold {
		label = positive
	}
	return api.Prediction{Label: label, Class: classes[label], Prob: p.Probs[label], Probs: p.Probs, NoEvidence: p.NoEvidence}
}

// SoftmaxPredictions reads n rows of len(classes) logits.
func SoftmaxPredictions(logits []float32, n int, classes []string) []api.Prediction {
	k := len(classes)
	probs := metrics.Probabilities(metrics.Multiclass, logits[:n*k], k)
	out := make([]api.Prediction, n)
	for i := range out {
		row := probs[i*k : (i+1)*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = api.Prediction{Label: best, Class: classes[best], Prob: row[best], Probs: row}
	}
	return out
}

// BinaryTarget is Classifier.Target for one logit scoring
// classes[positive]: the positive class is the logit, the other its
// negation.
func BinaryTarget(target string, classes []string, positive int) ([]float32, string, float64, error) {
	if target != "" && !slices.Contains(classes, target) {
		return nil, "", 0, fmt.Errorf("unknown target class %q (the model's classes are %q)", target, classes)
	}
	if target == "" || target == classes[positive] {
		return []float32{1}, classes[positive], 1, nil
	}
	return []float32{-1}, target, -1, nil
}

// SoftmaxTarget is Classifier.Target for one logit per class: the target
// class's logit, by default the predicted one's.
func SoftmaxTarget(target string, pred api.Prediction, classes []string) ([]float32, string, float64, error) {
	if target != "" && !slices.Contains(classes, target) {
		return nil, "", 0, fmt.Errorf("unknown target class %q (the model's classes are %q)", target, classes)
	}
	label := pred.Label
	if target != "" {
		label = slices.Index(classes, target)
	}
	sel := make([]float32, len(classes))
	sel[label] = 1
	return sel, classes[label], 1, nil
}

// PredictionTensors are a classifier's outputs: "probs" [n, k], "label"
// [n], "class" [n].
func PredictionTensors(preds []api.Prediction, k int) []api.Tensor {
	n := len(preds)
	probs := make([]float32, 0, n*k)
	labels := make([]int32, n)
	classes := make([][]byte, n)
	for i, p := range preds {
		probs = append(probs, p.Probs...)
		labels[i] = int32(p.Label)
		classes[i] = []byte(p.Class)
	}
	return []api.Tensor{
		{Name: "probs", Datatype: api.FP32, Shape: []int64{int64(n), int64(k)}, FP32: probs},
		{Name: "label", Datatype: api.INT32, Shape: []int64{int64(n)}, INT32: labels},
		{Name: "class", Datatype: api.BYTES, Shape: []int64{int64(n)}, Bytes: classes},
	}
}

// Inputs checks raw inputs against a signature — exactly one of its input
// groups, each tensor against its spec, batched inputs of the same length
// — and returns them by name.
//
// Its errors are api.InputErrors.
func Inputs(sig api.Signature, inputs []api.Tensor) (map[string]*api.Tensor, error) {
	by, err := checkInputs(sig, inputs)
	return by, api.Invalid(err)
}

func checkInputs(sig api.Signature, inputs []api.Tensor) (map[string]*api.Tensor, error) {
	by := map[string]*api.Tensor{}
	names := make([]string, 0, len(inputs))
	for i := range inputs {
		t := &inputs[i]
		if _, dup := by[t.Name]; dup {
			return nil, fmt.Errorf("input %q given twice", t.Name)
		}
		spec, ok := sig.Input(t.Name)
		if !ok {
			return nil, fmt.Errorf("unknown input %q (the model takes %q)", t.Name, sig.InputNames())
		}
		if err := spec.Check(t); err != nil {
			return nil, err
		}
		by[t.Name] = t
		names = append(names, t.Name)
	}
	if _, err := sig.Group(names); err != nil {
		return nil, err
	}
	rows := -1
	for _, name := range names {
		if spec, _ := sig.Input(name); spec.Batched() {
			n := by[name].Rows()
			if rows >= 0 && n != rows {
				return nil, fmt.Errorf("input %q has %d rows, the others %d", name, n, rows)
			}
			rows = n
		}
	}
	if rows == 0 {
		return nil, fmt.Errorf("input %q: no examples", names[0])
	}
	return by, nil
}

// EvaluateNet scores a network on a labelled dataset: width outputs per
// example, the task's loss and metrics, in batches of at most batch. A
// NaN or infinite output is an *api.NonFiniteError whose Example is the
// dataset's row.
func EvaluateNet(ctx context.Context, net Net, ds dataset.Dataset, task metrics.Task, classes, width, batch int) (metrics.Result, error) {
	return evaluateNet(ctx, net, ds, task, classes, width, batch, nil)
}

// evaluateNet is EvaluateNet, passing each batch's outputs and targets to
// seen if it is not nil.
func evaluateNet(ctx context.Context, net Net, ds dataset.Dataset, task metrics.Task, classes, width, batch int, seen func(out, targets []float32)) (metrics.Result, error) {
	if batch < 1 {
		batch = 32
	}
	acc := metrics.NewAccumulator(task, classes)
	done := 0 // rows before this batch: metrics.Evaluate goes in order
	return metrics.Evaluate(ctx, ds, batch, acc, func(ctx context.Context, inputs [][]float32, targets []float32, n int) ([]float32, float64, error) {
		out, err := net.Forward(ctx, inputs, n)
		if err == nil {
			err = api.CheckFinite("", out, width, 0)
		}
		var nf *api.NonFiniteError
		if errors.As(err, &nf) {
			at := *nf
			at.Example += done
			return nil, 0, &at
		}
		if err != nil {
			return nil, 0, err
		}
		done += n
		if seen != nil {
			seen(out, targets)
		}
		return out, metrics.MeanLoss(task, out, targets, width), nil
	})
}

// EvaluateClassifier scores a classifier on a labelled dataset: its
// task's metrics, and what `tapeml eval` reports beyond them — the
// confusion matrix in class order and each example's class probabilities
// and true class, which curves are drawn from. positive is the class a
// binary model's one logit scores (its targets are 1 for that class);
// -1 for a model with a logit per class. Data is left for the caller.
func EvaluateClassifier(ctx context.Context, net Net, ds dataset.Dataset, classes []string, positive, batch int) (*EvalReport, error) {
	k := len(classes)
	task, width := metrics.Multiclass, k
	if positive >= 0 {
		task, width = metrics.Binary, 1
	}
	n := ds.Len()
	probs, labels := make([]float32, 0, n*k), make([]int, 0, n)
	seen := func(out, targets []float32) {
		if len(out) != len(targets)*width {
			return // the accumulator reports it
		}
		p := metrics.Probabilities(task, out, width)
		for i, t := range targets {
			if task == metrics.Binary {
				// Class order: the positive class's probability at its index.
				row := make([]float32, 2)
				row[positive], row[1-positive] = p[i], 1-p[i]
				probs = append(probs, row...)
				labels = append(labels, binaryClass(t, positive))
				continue
			}
			probs = append(probs, p[i*k:(i+1)*k]...)
			labels = append(labels, int(t))
		}
	}
	r, err := evaluateNet(ctx, net, ds, task, k, width, batch, seen)
	if err != nil {
		return nil, err
	}
	rep := &EvalReport{N: r.N, Metrics: r.Metrics, Classes: slices.Clone(classes)}
	if r.Confusion == nil { // a NaN the finiteness check missed: no matrix
		return rep, nil
	}
	rep.Confusion, rep.Probs, rep.Labels = r.Confusion, probs, labels
	if task == metrics.Binary && positive == 0 {
		// r.Confusion is [[TN, FP], [FN, TP]]: negative (class 1) first.
		m := r.Confusion
		rep.Confusion = metrics.Confusion{{m[1][1], m[1][0]}, {m[0][1], m[0][0]}}
	}
	return rep, nil
}

// binaryClass is the class index of a binary target (1: the positive
// class).
func binaryClass(target float32, positive int) int {
	if target == 1 {
		return positive
	}
	return 1 - positive
}
