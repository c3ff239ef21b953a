package metrics

import (
	"fmt"
	"math"
)

// Task selects which metrics an Accumulator computes.
type Task int

const (
	// Binary: one probability of class 1 per example, 0/1 targets.
	Binary Task = iota
	// Multiclass: one row of C logits or probabilities per example, class
	// index targets.
	Multiclass
	// Regression: any number of values per example, targets of the same
	// shape.
	Regression
)

func (t Task) String() string {
	switch t {
	case Binary:
		return "binary"
	case Multiclass:
		return "multiclass"
	case Regression:
		return "regression"
	}
	return fmt.Sprintf("Task(%d)", int(t))
}

// Named is one named value, such as {"val/loss", 0.18}.
type Named struct {
	Name  string
	Value float64
}

// Accumulator gathers one epoch (or one evaluation pass) batch by batch.
// The zero value is not usable; call NewAccumulator.
type Accumulator struct {
	task    Task
	classes int

	n       int
	lossSum float64 // Σ batch mean loss × batch size

	// Binary: every example is kept for ROC-AUC.
	scored []scoredLabel
	counts BinaryCounts
	// Multiclass.
	confusion Confusion
	// Binary and Multiclass: an output was NaN, so classification metrics
	// are NaN rather than computed from the other examples.
	sawNaN bool
	// Regression.
	errs regressionErrors
}

// NewAccumulator returns an empty accumulator. classes is the number of
// classes for Multiclass (at least 2) and is ignored otherwise. An invalid
// task or class count is a programmer error and panics.
func NewAccumulator(task Task, classes int) *Accumulator {
	a := &Accumulator{task: task, classes: classes}
	switch task {
	case Binary, Regression:
		a.classes = 0
	case Multiclass:
		if classes < 2 {
			panic(fmt.Sprintf("metrics: NewAccumulator(Multiclass, %d): need at least 2 classes", classes))
		}
		a.confusion = NewConfusion(classes)
	default:
		panic(fmt.Sprintf("metrics: NewAccumulator: unknown task %v", task))
	}
	return a
}

// Reset empties the accumulator for the next epoch.
func (a *Accumulator) Reset() {
	*a = *NewAccumulator(a.task, a.classes)
}

// Add records one batch of n examples: loss is the batch's mean loss, as a
// PyTorch loss with reduction="mean" returns it; outputs are n probabilities
// (Binary), n×C logits or probabilities (Multiclass) or n×k values
// (Regression); targets are n labels (Binary, Multiclass) or n×k values
// (Regression).
//
// A batch whose shapes, labels or probabilities are wrong is rejected as a
// whole with an error naming the offending index. NaN outputs are accepted
// (a diverging model produces them) and make the classification metrics of
// the Result NaN.
func (a *Accumulator) Add(loss float64, n int, outputs, targets []float32) error {
	if n <= 0 {
		return fmt.Errorf("metrics: batch of %d examples, expected at least 1", n)
	}
	var err error
	switch a.task {
	case Binary:
		err = a.addBinary(n, outputs, targets)
	case Multiclass:
		err = a.addMulticlass(n, outputs, targets)
	case Regression:
		err = a.addRegression(n, outputs, targets)
	}
	if err != nil {
		return fmt.Errorf("metrics: %v batch: %w", a.task, err)
	}
	a.n += n
	a.lossSum += loss * float64(n)
	return nil
}

func (a *Accumulator) addBinary(n int, outputs, targets []float32) error {
	if len(outputs) != n || len(targets) != n {
		return fmt.Errorf("%d outputs and %d targets for %d examples, expected one of each per example", len(outputs), len(targets), n)
	}
	// Validate the whole batch before recording any of it.
	nan := false
	for i, p := range outputs {
		if _, err := binaryLabel(targets[i], i); err != nil {
			return err
		}
		if math.IsNaN(float64(p)) {
			nan = true
			continue
		}
		if err := checkProbability(p, i); err != nil {
			return err
		}
	}
	a.sawNaN = a.sawNaN || nan
	for i, p := range outputs {
		positive := targets[i] == 1
		a.counts.add(p > BinaryThreshold, positive)
		a.scored = append(a.scored, scoredLabel{p, positive})
	}
	return nil
}

func (a *Accumulator) addMulticlass(n int, outputs, targets []float32) error {
	c := a.classes
	if len(outputs) != n*c || len(targets) != n {
		return fmt.Errorf("%d outputs and %d targets for %d examples, expected %d×%d outputs and %d class indices", len(outputs), len(targets), n, n, c, n)
	}
	truth := make([]int, n)
	for i, l := range targets {
		t, err := classLabel(l, c, i)
		if err != nil {
			return err
		}
		truth[i] = t
	}
	for i, t := range truth {
		p, ok := Argmax(outputs[i*c : (i+1)*c])
		if !ok {
			a.sawNaN = true
			continue
		}
		a.confusion[t][p]++
	}
	return nil
}

func (a *Accumulator) addRegression(n int, outputs, targets []float32) error {
	if len(outputs) != len(targets) || len(outputs)%n != 0 || len(outputs) == 0 {
		return fmt.Errorf("%d outputs and %d targets for %d examples, expected the same number k ≥ 1 of each per example", len(outputs), len(targets), n)
	}
	return a.errs.add(outputs, targets)
}

// N is the number of examples added so far.
func (a *Accumulator) N() int { return a.n }

// Result is what an Accumulator gathered.
type Result struct {
	Task Task
	// N is the number of examples.
	N int
	// Metrics in a fixed order per task, all NaN-valued when undefined:
	//   Binary:     loss, accuracy, precision, recall, f1, auc
	//   Multiclass: loss, accuracy
	//   Regression: loss, rmse, mae
	Metrics []Named
	// Confusion is the confusion matrix ([[TN, FP], [FN, TP]] for Binary);
	// nil for Regression and when an output was NaN.
	Confusion Confusion
}

// Result computes the metrics of everything added since the last Reset.
// The loss is Σ(batch loss × batch size) / N, the mean over examples. The
// AUC is NaN when the examples hold a single class.
func (a *Accumulator) Result() Result {
	r := Result{Task: a.task, N: a.n}
	loss := math.NaN()
	if a.n > 0 {
		loss = a.lossSum / float64(a.n)
	}
	r.Metrics = append(r.Metrics, Named{"loss", loss})
	nan := math.NaN()
	switch a.task {
	case Binary:
		acc, prec, rec, f1, auc := nan, nan, nan, nan, nan
		if !a.sawNaN && a.n > 0 {
			acc, prec, rec, f1 = a.counts.Accuracy(), a.counts.Precision(), a.counts.Recall(), a.counts.F1()
			// areaUnderROC sorts in place, which only reorders the set.
			auc, _ = areaUnderROC(a.scored)
			r.Confusion = a.counts.Matrix()
		}
		r.Metrics = append(r.Metrics, Named{"accuracy", acc}, Named{"precision", prec},
			Named{"recall", rec}, Named{"f1", f1}, Named{"auc", auc})
	case Multiclass:
		acc := nan
		if !a.sawNaN && a.n > 0 {
			acc = a.confusion.Accuracy()
			r.Confusion = a.confusion.clone()
		}
		r.Metrics = append(r.Metrics, Named{"accuracy", acc})
	case Regression:
		r.Metrics = append(r.Metrics, Named{"rmse", a.errs.rmse()}, Named{"mae", a.errs.mae()})
	}
	return r
}

func (m Confusion) clone() Confusion {
	c := NewConfusion(len(m))
	for t := range m {
		copy(c[t], m[t])
	}
	return c
}

// Get returns the metric called name ("loss", "accuracy", ...).
func (r Result) Get(name string) (value float64, ok bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return math.NaN(), false
}

// Prefixed returns the metrics renamed prefix+name, e.g. Prefixed("val/")
// gives "val/loss", "val/accuracy", ..., ready for History.Append.
func (r Result) Prefixed(prefix string) []Named {
	out := make([]Named, len(r.Metrics))
	for i, m := range r.Metrics {
		out[i] = Named{prefix + m.Name, m.Value}
	}
	return out
}
