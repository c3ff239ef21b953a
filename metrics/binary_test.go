package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b))
}

// Expected values are those of sklearn.metrics {accuracy,precision,recall,
// f1}_score(y, p > 0.5, zero_division=0), worked out by hand.
func TestCountBinary(t *testing.T) {
	tests := []struct {
		name               string
		probs, labels      []float32
		want               BinaryCounts
		acc, prec, rec, f1 float64
	}{
		{
			name:   "mixed, 0.5 exactly is negative",
			probs:  []float32{0.9, 0.6, 0.5, 0.3, 0.7},
			labels: []float32{1, 0, 1, 0, 1},
			want:   BinaryCounts{TP: 2, FP: 1, TN: 1, FN: 1},
			acc:    0.6, prec: 2.0 / 3, rec: 2.0 / 3, f1: 2.0 / 3,
		},
		{
			name:   "no positive predicted: precision 0/0 is 0",
			probs:  []float32{0.2, 0.4, 0.1},
			labels: []float32{0, 1, 1},
			want:   BinaryCounts{TN: 1, FN: 2},
			acc:    1.0 / 3, prec: 0, rec: 0, f1: 0,
		},
		{
			name:   "no positive at all: everything 0/0 is 0",
			probs:  []float32{0.2, 0, 0.5},
			labels: []float32{0, 0, 0},
			want:   BinaryCounts{TN: 3},
			acc:    1, prec: 0, rec: 0, f1: 0,
		},
		{
			name:   "all positive predicted",
			probs:  []float32{1, 0.51, 0.99, 0.8},
			labels: []float32{1, 0, 0, 1},
			want:   BinaryCounts{TP: 2, FP: 2},
			acc:    0.5, prec: 0.5, rec: 1, f1: 2.0 / 3,
		},
		{
			name:   "precision and recall differ",
			probs:  []float32{0.9, 0.8, 0.1, 0.2, 0.3, 0.6},
			labels: []float32{1, 1, 1, 1, 0, 0},
			want:   BinaryCounts{TP: 2, FP: 1, TN: 1, FN: 2},
			acc:    0.5, prec: 2.0 / 3, rec: 0.5, f1: 4.0 / 7,
		},
		{
			name: "empty", want: BinaryCounts{},
			acc: math.NaN(), prec: 0, rec: 0, f1: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CountBinary(tt.probs, tt.labels)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("counts %+v, want %+v", got, tt.want)
			}
			for _, m := range []struct {
				name      string
				got, want float64
			}{
				{"accuracy", got.Accuracy(), tt.acc},
				{"precision", got.Precision(), tt.prec},
				{"recall", got.Recall(), tt.rec},
				{"f1", got.F1(), tt.f1},
			} {
				if !near(m.got, m.want) {
					t.Errorf("%s = %v, want %v", m.name, m.got, m.want)
				}
			}
			m := got.Matrix()
			if m[0][0] != tt.want.TN || m[0][1] != tt.want.FP || m[1][0] != tt.want.FN || m[1][1] != tt.want.TP {
				t.Errorf("matrix %v is not [[TN FP] [FN TP]] of %+v", m, tt.want)
			}
		})
	}
}

func TestCountBinaryErrors(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name          string
		probs, labels []float32
		wantErr       string
	}{
		{"length", []float32{0.1, 0.2}, []float32{1}, "2 probabilities but 1 labels"},
		{"soft label", []float32{0.1, 0.2}, []float32{1, 0.9}, "label 1 is 0.9, expected 0 or 1"},
		{"logit", []float32{0.1, 2.5}, []float32{1, 0}, "output 1 is 2.5, expected a probability"},
		{"negative", []float32{-0.1}, []float32{1}, "output 0 is -0.1"},
		{"NaN", []float32{0.3, nan}, []float32{1, 0}, "output 1 is NaN"},
		{"NaN label", []float32{0.3}, []float32{nan}, "label 0 is NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CountBinary(tt.probs, tt.labels)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// Expected values follow sklearn.metrics.roc_auc_score: the trapezoidal
// rule over distinct thresholds, i.e. the fraction of (positive, negative)
// pairs ranked correctly with ties counting one half.
func TestROCAUC(t *testing.T) {
	tests := []struct {
		name           string
		scores, labels []float32
		want           float64
	}{
		// The example of the roc_auc_score documentation.
		{"sklearn doc", []float32{0.1, 0.4, 0.35, 0.8}, []float32{0, 0, 1, 1}, 0.75},
		{"perfect", []float32{0.1, 0.2, 0.8, 0.9}, []float32{0, 0, 1, 1}, 1},
		{"reversed", []float32{0.9, 0.8, 0.2, 0.1}, []float32{0, 0, 1, 1}, 0},
		{"all tied", []float32{0.5, 0.5, 0.5, 0.5}, []float32{0, 1, 0, 1}, 0.5},
		// Pairs: (0.5,0.1)=1 (0.5,0.5)=½ (0.9,0.1)=1 (0.9,0.5)=1 → 3.5/4.
		{"one tie across classes", []float32{0.1, 0.5, 0.5, 0.9}, []float32{0, 0, 1, 1}, 0.875},
		// P={0.3,0.7,0.7} N={0.3,0.3,0.7,0.1}: 0.3→½+½+0+1, each 0.7→1+1+½+1.
		{"ties in several groups", []float32{0.3, 0.7, 0.7, 0.3, 0.3, 0.7, 0.1}, []float32{1, 1, 1, 0, 0, 0, 0}, (2 + 3.5 + 3.5) / 12},
		{"logits are fine", []float32{-3, 2.5, -0.5, 4}, []float32{0, 1, 1, 0}, 0.5},
		{"negative zero ties zero", []float32{float32(math.Copysign(0, -1)), 0}, []float32{0, 1}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ROCAUC(tt.scores, tt.labels)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want) {
				t.Fatalf("AUC = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestROCAUCErrors(t *testing.T) {
	for _, tt := range []struct {
		name           string
		scores, labels []float32
		wantErr        string
	}{
		{"only negatives", []float32{0.1, 0.9}, []float32{0, 0}, ErrOneClass.Error()},
		{"only positives", []float32{0.1}, []float32{1}, ErrOneClass.Error()},
		{"empty", nil, nil, ErrOneClass.Error()},
		{"NaN score", []float32{0.1, float32(math.NaN())}, []float32{0, 1}, "score 1 is NaN"},
		{"bad label", []float32{0.1, 0.2}, []float32{0, 2}, "label 1 is 2"},
		{"length", []float32{0.1}, []float32{0, 1}, "1 scores but 2 labels"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ROCAUC(tt.scores, tt.labels)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if !math.IsNaN(got) {
				t.Errorf("AUC = %v with an error, want NaN", got)
			}
		})
	}
	if _, err := ROCAUC([]float32{1}, []float32{0}); !errors.Is(err, ErrOneClass) {
		t.Errorf("one class: %v is not ErrOneClass", err)
	}
}

// The sorted sweep must agree with the definition: count every pair.
func TestROCAUCMatchesPairCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		n := 2 + rng.IntN(200)
		scores := make([]float32, n)
		labels := make([]float32, n)
		for i := range scores {
			scores[i] = float32(rng.IntN(10)) / 10 // coarse, so many ties
			labels[i] = float32(rng.IntN(2))
		}
		labels[0], labels[1] = 0, 1
		var pairs, correct float64
		for i := range scores {
			for j := range scores {
				if labels[i] == 1 && labels[j] == 0 {
					pairs++
					switch {
					case scores[i] > scores[j]:
						correct++
					case scores[i] == scores[j]:
						correct += 0.5
					}
				}
			}
		}
		got, err := ROCAUC(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got, correct/pairs) {
			t.Fatalf("trial %d: AUC %v, pair count gives %v", trial, got, correct/pairs)
		}
	}
}
