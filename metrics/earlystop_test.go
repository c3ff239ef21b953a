package metrics

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestEarlyStopping(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name     string
		es       EarlyStopping
		values   []float64
		improved string // one letter per epoch: i improved, . not
		stopAt   int    // 1-based epoch of the first stop, 0 for never
		best     float64
	}{
		{
			name:   "min, patience 2",
			es:     EarlyStopping{Monitor: "val/loss", Mode: Min, Patience: 2},
			values: []float64{0.9, 0.7, 0.75, 0.6, 0.6, 0.65, 0.5},
			// 0.6 again is no strict improvement; two misses stop at epoch 6.
			improved: "ii.i..i", stopAt: 6, best: 0.5,
		},
		{
			name:     "max with min delta",
			es:       EarlyStopping{Monitor: "val/accuracy", Mode: Max, Patience: 3, MinDelta: 0.01},
			values:   []float64{0.80, 0.805, 0.82, 0.825, 0.829, 0.8299, 0.84},
			improved: "i.i...i", stopAt: 6, best: 0.84,
		},
		{
			name:     "patience 0 stops at the first miss, like 1",
			es:       EarlyStopping{Monitor: "val/loss", Patience: 0},
			values:   []float64{1, 0.9, 0.95},
			improved: "ii.", stopAt: 3, best: 0.9,
		},
		{
			name:     "patience 1",
			es:       EarlyStopping{Monitor: "val/loss", Mode: Min, Patience: 1},
			values:   []float64{1, 0.9, 0.95},
			improved: "ii.", stopAt: 3, best: 0.9,
		},
		{
			name:     "NaN and Inf never improve",
			es:       EarlyStopping{Monitor: "val/loss", Mode: Min, Patience: 3},
			values:   []float64{nan, math.Inf(-1), 2, nan, 1},
			improved: "..i.i", stopAt: 0, best: 1,
		},
		{
			name:     "never stops while improving",
			es:       EarlyStopping{Monitor: "val/f1", Mode: Max, Patience: 1},
			values:   []float64{0.1, 0.2, 0.3, 0.4},
			improved: "iiii", stopAt: 0, best: 0.4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.es
			var improved strings.Builder
			stopAt := 0
			for i, v := range tt.values {
				imp, stop := es.Observe(v)
				if imp {
					improved.WriteByte('i')
				} else {
					improved.WriteByte('.')
				}
				if stop && stopAt == 0 {
					stopAt = i + 1
				}
				if stopAt != 0 && !stop {
					t.Errorf("epoch %d: stop went back to false", i+1)
				}
			}
			if improved.String() != tt.improved || stopAt != tt.stopAt {
				t.Errorf("improved %q stop at %d, want %q and %d", improved.String(), stopAt, tt.improved, tt.stopAt)
			}
			if best, _, ok := es.Best(); !ok || best != tt.best {
				t.Errorf("best %v (ok %v), want %v", best, ok, tt.best)
			}
		})
	}
}

// Stopping after a checkpoint/restore at any epoch must match an
// uninterrupted run.
func TestEarlyStoppingResume(t *testing.T) {
	values := []float64{0.9, 0.8, 0.85, 0.79, 0.795, 0.81, 0.8, 0.82}
	fresh := func() EarlyStopping {
		return EarlyStopping{Monitor: "val/loss", Mode: Min, Patience: 3, MinDelta: 0.005}
	}
	type step struct{ improved, stop bool }
	var want []step
	whole := fresh()
	for _, v := range values {
		imp, stop := whole.Observe(v)
		want = append(want, step{imp, stop})
	}
	for cut := 0; cut <= len(values); cut++ {
		first := fresh()
		for _, v := range values[:cut] {
			first.Observe(v)
		}
		data, err := json.Marshal(&first)
		if err != nil {
			t.Fatal(err)
		}
		var resumed EarlyStopping
		if err := json.Unmarshal(data, &resumed); err != nil {
			t.Fatalf("cut %d: %v (%s)", cut, err, data)
		}
		for i := cut; i < len(values); i++ {
			imp, stop := resumed.Observe(values[i])
			if (step{imp, stop}) != want[i] {
				t.Errorf("cut %d, epoch %d: got %v, want %v", cut, i+1, step{imp, stop}, want[i])
			}
		}
		if resumed.Wait() != whole.Wait() || resumed.Stopped() != whole.Stopped() {
			t.Errorf("cut %d: wait %d stopped %v, want %d %v", cut, resumed.Wait(), resumed.Stopped(), whole.Wait(), whole.Stopped())
		}
		_, be, _ := resumed.Best()
		_, we, _ := whole.Best()
		if be != we {
			t.Errorf("cut %d: best epoch %d, want %d", cut, be, we)
		}
	}
	es := fresh()
	data, _ := json.Marshal(&es)
	if want := `{"monitor":"val/loss","mode":"min","patience":3,"min_delta":0.005,"observed":0,"best":null,"best_epoch":0,"wait":0,"stopped":false}`; string(data) != want {
		t.Errorf("JSON %s\nwant %s", data, want)
	}
}

func TestEarlyStoppingValidate(t *testing.T) {
	tests := []struct {
		es      EarlyStopping
		wantErr string
	}{
		{EarlyStopping{Monitor: "val/loss"}, ""},
		{EarlyStopping{}, "Monitor is empty"},
		{EarlyStopping{Monitor: "m", Mode: "auto"}, `mode "auto"`},
		{EarlyStopping{Monitor: "m", Patience: -1}, "Patience is -1"},
		{EarlyStopping{Monitor: "m", MinDelta: -0.1}, "MinDelta is -0.1"},
		{EarlyStopping{Monitor: "m", MinDelta: math.NaN()}, "MinDelta is NaN"},
	}
	for _, tt := range tests {
		err := tt.es.Validate()
		if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%+v: error %v, want %q", tt.es, err, tt.wantErr)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Observe with an invalid configuration did not panic")
		}
	}()
	(&EarlyStopping{}).Observe(1)
}

func TestEarlyStoppingUnmarshalErrors(t *testing.T) {
	tests := []struct{ json, wantErr string }{
		{`{"monitor":"","mode":"min"}`, "Monitor is empty"},
		{`{"monitor":"m","mode":"min","observed":2,"wait":3}`, "expected 0 ≤ wait ≤ observed"},
		{`{"monitor":"m","mode":"min","observed":2,"best":0.5}`, "both set or both unset"},
		{`{"monitor":"m","mode":"min","observed":2,"best":0.5,"best_epoch":4}`, "best_epoch 4"},
		{`{"monitor":"m","patience":"x"}`, "early stopping:"},
	}
	for _, tt := range tests {
		var es EarlyStopping
		err := json.Unmarshal([]byte(tt.json), &es)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.json, err, tt.wantErr)
		}
	}
}
