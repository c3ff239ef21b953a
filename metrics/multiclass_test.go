package metrics

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		row    []float32
		want   int
		wantOK bool
	}{
		{[]float32{0.1, 0.7, 0.2}, 1, true},
		{[]float32{-5, -1, -3}, 1, true},
		{[]float32{2, 2, 1}, 0, true}, // first on ties, like numpy/PyTorch
		{[]float32{1, 3, 3}, 1, true},
		{[]float32{7}, 0, true},
		{[]float32{0.1, nan, 0.2}, 0, false},
		{nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := Argmax(tt.row)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Argmax(%v) = %d, %v; want %d, %v", tt.row, got, ok, tt.want, tt.wantOK)
		}
	}
}

// Values as sklearn.metrics.confusion_matrix(y, logits.argmax(1)) and
// recall_score(..., average=None, zero_division=0).
func TestConfusionMatrix(t *testing.T) {
	outputs := []float32{
		2, 1, 0, // → 0, true 0
		0, 3, 1, // → 1, true 1
		0, 3, 1, // → 1, true 2
		1, 0, 5, // → 2, true 2
		4, 4, 0, // → 0 (tie), true 1
		0, 0, 1, // → 2, true 2
	}
	labels := []float32{0, 1, 2, 2, 1, 2}
	m, err := ConfusionMatrix(outputs, labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := Confusion{{1, 0, 0}, {1, 1, 0}, {0, 1, 2}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("matrix %v, want %v", m, want)
	}
	if got := m.Accuracy(); !near(got, 4.0/6) {
		t.Errorf("accuracy %v, want 4/6", got)
	}
	if got, want := m.PerClassAccuracy(), []float64{1, 0.5, 2.0 / 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("per-class accuracy %v, want %v", got, want)
	}

	// A class without examples has recall 0 (zero_division=0).
	m, err = ConfusionMatrix([]float32{1, 0, 0, 0, 1, 0}, []float32{0, 1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.PerClassAccuracy(), []float64{1, 1, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("per-class accuracy with an absent class %v, want %v", got, want)
	}
	if got := NewConfusion(2).Accuracy(); !math.IsNaN(got) {
		t.Errorf("empty matrix accuracy %v, want NaN", got)
	}
}

func TestConfusionMatrixErrors(t *testing.T) {
	tests := []struct {
		name            string
		outputs, labels []float32
		classes         int
		wantErr         string
	}{
		{"shape", []float32{1, 2, 3}, []float32{0, 1}, 2, "3 outputs for 2 labels, expected 2×2"},
		{"fractional label", []float32{1, 2, 3, 4}, []float32{0, 0.5}, 2, "label 1 is 0.5, expected a class index in 0..1"},
		{"label too large", []float32{1, 2, 3, 4}, []float32{2, 0}, 2, "label 0 is 2"},
		{"negative label", []float32{1, 2}, []float32{-1}, 2, "label 0 is -1"},
		{"huge label", []float32{1, 2}, []float32{1e30}, 2, "label 0 is 1e+30"},
		{"NaN output", []float32{1, float32(math.NaN())}, []float32{0}, 2, "row 0 holds NaN"},
		{"no classes", nil, nil, 0, "0 classes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConfusionMatrix(tt.outputs, tt.labels, tt.classes)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRegression(t *testing.T) {
	tests := []struct {
		name         string
		pred, target []float32
		rmse, mae    float64
	}{
		{"exact", []float32{1, 2, 3}, []float32{1, 2, 3}, 0, 0},
		// errors 1, -2, 0, 3: squares 14/4, absolutes 6/4.
		{"mixed", []float32{2, 0, 5, 7}, []float32{1, 2, 5, 4}, math.Sqrt(3.5), 1.5},
		{"empty", nil, nil, math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rmse, err := RMSE(tt.pred, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			mae, err := MAE(tt.pred, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if !near(rmse, tt.rmse) || !near(mae, tt.mae) {
				t.Errorf("RMSE %v MAE %v, want %v %v", rmse, mae, tt.rmse, tt.mae)
			}
		})
	}
	if _, err := RMSE([]float32{1}, []float32{1, 2}); err == nil || !strings.Contains(err.Error(), "1 predictions but 2 targets") {
		t.Errorf("RMSE length mismatch: %v", err)
	}
	if _, err := MAE([]float32{1}, nil); err == nil {
		t.Error("MAE length mismatch: no error")
	}
}
