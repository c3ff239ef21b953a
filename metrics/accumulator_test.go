package metrics

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

type batch struct {
	loss             float64
	n                int
	outputs, targets []float32
}

func accumulate(t *testing.T, task Task, classes int, batches []batch) Result {
	t.Helper()
	a := NewAccumulator(task, classes)
	for i, b := range batches {
		if err := a.Add(b.loss, b.n, b.outputs, b.targets); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	return a.Result()
}

func checkMetrics(t *testing.T, r Result, want []Named) {
	t.Helper()
	if len(r.Metrics) != len(want) {
		t.Fatalf("metrics %v, want %v", r.Metrics, want)
	}
	for i, w := range want {
		if g := r.Metrics[i]; g.Name != w.Name || !near(g.Value, w.Value) {
			t.Errorf("metric %d = %s %v, want %s %v", i, g.Name, g.Value, w.Name, w.Value)
		}
	}
}

// Batches of 4 and 4 and a last partial batch of 2: the epoch loss is the
// mean over the 10 examples, not the mean of the three batch means.
func TestAccumulatorWeightsPartialBatch(t *testing.T) {
	r := accumulate(t, Regression, 0, []batch{
		{loss: 1.0, n: 4, outputs: make([]float32, 4), targets: make([]float32, 4)},
		{loss: 2.0, n: 4, outputs: make([]float32, 4), targets: make([]float32, 4)},
		{loss: 7.0, n: 2, outputs: make([]float32, 2), targets: make([]float32, 2)},
	})
	if r.N != 10 {
		t.Errorf("N = %d, want 10", r.N)
	}
	if got, _ := r.Get("loss"); !near(got, (4*1.0+4*2.0+2*7.0)/10) {
		t.Errorf("loss %v, want 2.6 (the mean of batch means would be 3.33)", got)
	}
}

func TestAccumulatorBinary(t *testing.T) {
	// The examples of TestCountBinary "mixed" and TestROCAUC "ties in
	// several groups", split across batches, must give the same numbers as
	// the whole-epoch functions.
	probs := []float32{0.9, 0.6, 0.5, 0.3, 0.7, 0.3, 0.7}
	labels := []float32{1, 0, 1, 0, 1, 1, 0}
	r := accumulate(t, Binary, 0, []batch{
		{0.5, 3, probs[:3], labels[:3]},
		{0.25, 4, probs[3:], labels[3:]},
	})
	counts, _ := CountBinary(probs, labels)
	auc, _ := ROCAUC(probs, labels)
	checkMetrics(t, r, []Named{
		{"loss", (3*0.5 + 4*0.25) / 7},
		{"accuracy", counts.Accuracy()}, {"precision", counts.Precision()},
		{"recall", counts.Recall()}, {"f1", counts.F1()}, {"auc", auc},
	})
	if !reflect.DeepEqual(r.Confusion, counts.Matrix()) {
		t.Errorf("confusion %v, want %v", r.Confusion, counts.Matrix())
	}
	if got := r.Prefixed("val/")[5]; got.Name != "val/auc" || !near(got.Value, auc) {
		t.Errorf("Prefixed: %v", got)
	}

	// Result must not disturb what is accumulated: adding after it works.
	a := NewAccumulator(Binary, 0)
	_ = a.Add(0, 2, []float32{0.9, 0.1}, []float32{0, 1})
	_ = a.Result()
	_ = a.Add(0, 2, []float32{0.8, 0.2}, []float32{1, 0})
	// P={0.1, 0.8} N={0.9, 0.2}: only (0.8, 0.2) is ranked right.
	if got, _ := a.Result().Get("auc"); !near(got, 0.25) {
		t.Errorf("AUC after Result then Add = %v, want 0.25", got)
	}
}

func TestAccumulatorOneClassAUC(t *testing.T) {
	r := accumulate(t, Binary, 0, []batch{{0.1, 2, []float32{0.2, 0.9}, []float32{1, 1}}})
	if auc, _ := r.Get("auc"); !math.IsNaN(auc) {
		t.Errorf("one-class AUC = %v, want NaN", auc)
	}
	if acc, _ := r.Get("accuracy"); acc != 0.5 {
		t.Errorf("accuracy %v, want 0.5", acc)
	}
}

func TestAccumulatorMulticlass(t *testing.T) {
	r := accumulate(t, Multiclass, 3, []batch{
		{1.2, 2, []float32{2, 1, 0, 0, 3, 1}, []float32{0, 1}},
		{0.6, 1, []float32{0, 3, 1}, []float32{2}},
	})
	checkMetrics(t, r, []Named{{"loss", (2*1.2 + 0.6) / 3}, {"accuracy", 2.0 / 3}})
	want := Confusion{{1, 0, 0}, {0, 1, 0}, {0, 1, 0}}
	if !reflect.DeepEqual(r.Confusion, want) {
		t.Errorf("confusion %v, want %v", r.Confusion, want)
	}
}

func TestAccumulatorRegression(t *testing.T) {
	// Two values per example; errors 1, -2 | 0, 3.
	r := accumulate(t, Regression, 0, []batch{
		{0.4, 1, []float32{2, 0}, []float32{1, 2}},
		{0.2, 1, []float32{5, 7}, []float32{5, 4}},
	})
	checkMetrics(t, r, []Named{{"loss", 0.3}, {"rmse", math.Sqrt(3.5)}, {"mae", 1.5}})
	if r.Confusion != nil {
		t.Errorf("regression confusion %v, want nil", r.Confusion)
	}
}

// A model gone NaN must not report metrics computed from its other outputs.
func TestAccumulatorNaNOutputs(t *testing.T) {
	nan := float32(math.NaN())
	for _, tt := range []struct {
		task    Task
		classes int
		b       batch
	}{
		{Binary, 0, batch{math.NaN(), 2, []float32{0.9, nan}, []float32{1, 0}}},
		{Multiclass, 2, batch{math.NaN(), 2, []float32{0.9, 0.1, nan, 0}, []float32{0, 1}}},
	} {
		t.Run(tt.task.String(), func(t *testing.T) {
			r := accumulate(t, tt.task, tt.classes, []batch{tt.b})
			for _, m := range r.Metrics {
				if !math.IsNaN(m.Value) {
					t.Errorf("%s = %v, want NaN", m.Name, m.Value)
				}
			}
			if r.Confusion != nil {
				t.Errorf("confusion %v, want nil", r.Confusion)
			}
		})
	}
}

func TestAccumulatorRejectsBadBatches(t *testing.T) {
	tests := []struct {
		name    string
		task    Task
		classes int
		b       batch
		wantErr string
	}{
		{"binary shape", Binary, 0, batch{0, 3, []float32{0.1, 0.2}, []float32{0, 1}}, "binary batch: 2 outputs and 2 targets for 3 examples"},
		{"binary label", Binary, 0, batch{0, 2, []float32{0.1, 0.2}, []float32{0, 3}}, "label 1 is 3"},
		{"binary logits", Binary, 0, batch{0, 2, []float32{0.1, -2}, []float32{0, 1}}, "output 1 is -2, expected a probability"},
		{"multiclass shape", Multiclass, 3, batch{0, 2, []float32{1, 2, 3}, []float32{0, 1}}, "expected 2×3 outputs"},
		{"multiclass label", Multiclass, 2, batch{0, 1, []float32{1, 2}, []float32{2}}, "label 0 is 2, expected a class index in 0..1"},
		{"regression shape", Regression, 0, batch{0, 2, []float32{1, 2, 3}, []float32{1, 2, 3}}, "expected the same number k ≥ 1"},
		{"empty batch", Regression, 0, batch{0, 0, nil, nil}, "batch of 0 examples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccumulator(tt.task, tt.classes)
			err := a.Add(tt.b.loss, tt.b.n, tt.b.outputs, tt.b.targets)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if r := a.Result(); r.N != 0 || r.Confusion != nil && r.Confusion.N() != 0 {
				t.Errorf("rejected batch was recorded: %+v", r)
			}
		})
	}
}

func TestAccumulatorReset(t *testing.T) {
	a := NewAccumulator(Multiclass, 2)
	_ = a.Add(1, 1, []float32{0, 1}, []float32{1})
	a.Reset()
	r := a.Result()
	if r.N != 0 || r.Confusion != nil {
		t.Errorf("after Reset: %+v", r)
	}
	if loss, _ := r.Get("loss"); !math.IsNaN(loss) {
		t.Errorf("empty loss %v, want NaN", loss)
	}
	_ = a.Add(1, 1, []float32{0, 1}, []float32{1})
	if acc, _ := a.Result().Get("accuracy"); acc != 1 {
		t.Errorf("accuracy after Reset and Add %v, want 1", acc)
	}
}

func TestNewAccumulatorPanics(t *testing.T) {
	for _, tt := range []struct {
		task    Task
		classes int
	}{{Multiclass, 1}, {Task(7), 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewAccumulator(%v, %d) did not panic", tt.task, tt.classes)
				}
			}()
			NewAccumulator(tt.task, tt.classes)
		}()
	}
}
