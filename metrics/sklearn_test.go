package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
)

// sklearnGolden is metrics/testdata/sklearn_golden.json, written by
// tools/sklearn/metrics_golden.py with Debian's scikit-learn.
type sklearnGolden struct {
	Curves []struct {
		Name              string
		Labels            []int
		Scores            []float64
		FPR, TPR          []float64
		ROCThresholds     []float64 `json:"roc_thresholds"`
		AUC               float64
		Precision, Recall []float64
		PRThresholds      []float64 `json:"pr_thresholds"`
		AveragePrecision  float64   `json:"average_precision"`
	}
	Reports []struct {
		Name                  string
		Classes               []string
		YTrue                 []int `json:"y_true"`
		YPred                 []int `json:"y_pred"`
		Confusion             Confusion
		Precision, Recall, F1 []float64
		Support               []int
		Macro, Weighted       [3]float64
		Text2                 string `json:"text_2"`
		Text4                 string `json:"text_4"`
	}
}

func readSKLearn(t *testing.T) sklearnGolden {
	t.Helper()
	b, err := os.ReadFile("testdata/sklearn_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g sklearnGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func closeSlices(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d\n got %v\nwant %v", what, len(got), len(want), got, want)
		return
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
			return
		}
	}
}

func TestCurvesMatchSKLearn(t *testing.T) {
	for _, c := range readSKLearn(t).Curves {
		t.Run(c.Name, func(t *testing.T) {
			scores, labels := make([]float32, len(c.Scores)), make([]float32, len(c.Labels))
			for i := range scores {
				scores[i], labels[i] = float32(c.Scores[i]), float32(c.Labels[i])
				if float64(scores[i]) != c.Scores[i] {
					t.Fatalf("score %d is not a float32", i)
				}
			}
			roc, err := ROCCurve(scores, labels)
			if err != nil {
				t.Fatal(err)
			}
			closeSlices(t, "fpr", roc.FPR, c.FPR)
			closeSlices(t, "tpr", roc.TPR, c.TPR)
			if !math.IsInf(roc.Thresholds[0], 1) {
				t.Errorf("first ROC threshold %v, want +Inf", roc.Thresholds[0])
			}
			closeSlices(t, "roc thresholds", roc.Thresholds[1:], c.ROCThresholds)
			if got := roc.AUC(); math.Abs(got-c.AUC) > 1e-12 {
				t.Errorf("AUC %v, want %v", got, c.AUC)
			}
			if exact, _ := ROCAUC(scores, labels); math.Abs(exact-c.AUC) > 1e-12 {
				t.Errorf("ROCAUC %v, want %v", exact, c.AUC)
			}
			pr, err := PRCurve(scores, labels)
			if err != nil {
				t.Fatal(err)
			}
			closeSlices(t, "precision", pr.Precision, c.Precision)
			closeSlices(t, "recall", pr.Recall, c.Recall)
			closeSlices(t, "pr thresholds", pr.Thresholds, c.PRThresholds)
			if ap, err := AveragePrecision(scores, labels); err != nil || math.Abs(ap-c.AveragePrecision) > 1e-12 {
				t.Errorf("average precision %v (%v), want %v", ap, err, c.AveragePrecision)
			}
		})
	}
}

func TestReportMatchesSKLearn(t *testing.T) {
	for _, c := range readSKLearn(t).Reports {
		t.Run(c.Name, func(t *testing.T) {
			k := len(c.Classes)
			outputs, labels := make([]float32, len(c.YTrue)*k), make([]float32, len(c.YTrue))
			for i := range c.YTrue {
				outputs[i*k+c.YPred[i]] = 1
				labels[i] = float32(c.YTrue[i])
			}
			m, err := ConfusionMatrix(outputs, labels, k)
			if err != nil {
				t.Fatal(err)
			}
			for i := range m {
				for j := range m[i] {
					if m[i][j] != c.Confusion[i][j] {
						t.Fatalf("confusion %v, want %v", m, c.Confusion)
					}
				}
			}
			r := m.Report()
			for i, s := range r.Classes {
				if s.Support != c.Support[i] {
					t.Errorf("class %d support %d, want %d", i, s.Support, c.Support[i])
				}
			}
			get := func(f func(ClassScores) float64) []float64 {
				out := make([]float64, k)
				for i, s := range r.Classes {
					out[i] = f(s)
				}
				return out
			}
			closeSlices(t, "precision", get(func(s ClassScores) float64 { return s.Precision }), c.Precision)
			closeSlices(t, "recall", get(func(s ClassScores) float64 { return s.Recall }), c.Recall)
			closeSlices(t, "f1", get(func(s ClassScores) float64 { return s.F1 }), c.F1)
			closeSlices(t, "macro", []float64{r.Macro.Precision, r.Macro.Recall, r.Macro.F1}, c.Macro[:])
			closeSlices(t, "weighted", []float64{r.Weighted.Precision, r.Weighted.Recall, r.Weighted.F1}, c.Weighted[:])
			if got := r.Format(c.Classes, 2); got != c.Text2 {
				t.Errorf("Format(2)\n%s\nwant\n%s", got, c.Text2)
			}
			if got := r.Format(c.Classes, 4); got != c.Text4 {
				t.Errorf("Format(4)\n%s\nwant\n%s", got, c.Text4)
			}
		})
	}
}

func TestCurveErrors(t *testing.T) {
	if _, err := ROCCurve([]float32{0.1, 0.2}, []float32{1}); err == nil {
		t.Error("mismatched lengths accepted")
	}
	if _, err := ROCCurve(nil, nil); err == nil {
		t.Error("no examples accepted")
	}
	if _, err := PRCurve([]float32{float32(math.NaN())}, []float32{1}); err == nil {
		t.Error("NaN score accepted")
	}
	if _, err := PRCurve([]float32{0.3}, []float32{2}); err == nil {
		t.Error("label 2 accepted")
	}
	roc, err := ROCCurve([]float32{0.1, 0.9}, []float32{1, 1})
	if !errors.Is(err, ErrOneClass) || !math.IsNaN(roc.FPR[1]) || roc.TPR[2] != 1 {
		t.Errorf("positives only: %+v, %v", roc, err)
	}
	if ap, err := AveragePrecision([]float32{0.1, 0.9}, []float32{0, 0}); !errors.Is(err, ErrOneClass) || !math.IsNaN(ap) {
		t.Errorf("negatives only: AP %v, %v", ap, err)
	}
	if pr, err := PRCurve([]float32{0.1, 0.9}, []float32{1, 1}); err != nil || pr.AveragePrecision() != 1 {
		t.Errorf("positives only: %+v, %v; want precision 1", pr, err)
	}
}

func TestOneVsRest(t *testing.T) {
	probs := []float32{0.7, 0.2, 0.1, 0.1, 0.3, 0.6}
	s, b := OneVsRest(probs, []int{0, 2}, 3, 2)
	if s[0] != 0.1 || s[1] != 0.6 || b[0] != 0 || b[1] != 1 {
		t.Errorf("OneVsRest = %v %v", s, b)
	}
}
