package metrics

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
)

func TestClassifierCurves(t *testing.T) {
	// 4 examples of classes a, b (none of c), probabilities row by row.
	probs := []float32{
		0.8, 0.1, 0.1,
		0.3, 0.6, 0.1,
		0.5, 0.4, 0.1,
		0.2, 0.2, 0.6,
	}
	labels := []int{0, 1, 0, 1}
	curves, skipped, err := ClassifierCurves(probs, labels, []string{"a", "b", "c"}, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(curves) != 2 || curves[0].Class != "a" || curves[1].Class != "b" || !reflect.DeepEqual(skipped, []string{"c"}) {
		t.Fatalf("curves for %v, skipped %v", curves, skipped)
	}
	if auc := curves[0].ROC.AUC(); auc != 1 {
		t.Errorf("class a AUC %v, want 1 (its examples score 0.8 and 0.5, the others 0.3 and 0.2)", auc)
	}
	if _, _, err := ClassifierCurves(probs, []int{0, 1, 0, 3}, []string{"a", "b", "c"}, []int{0}); err == nil {
		t.Error("label 3 of 3 classes accepted")
	}
	if _, _, err := ClassifierCurves(probs[:5], labels, []string{"a", "b", "c"}, []int{0}); err == nil {
		t.Error("short probabilities accepted")
	}

	var roc, pr bytes.Buffer
	if err := WriteROCCSV(&roc, curves); err != nil {
		t.Fatal(err)
	}
	if err := WritePRCSV(&pr, curves); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&roc).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + len(curves[0].ROC.FPR) + len(curves[1].ROC.FPR); len(rows) != want || !reflect.DeepEqual(rows[0], []string{"class", "threshold", "fpr", "tpr"}) || !reflect.DeepEqual(rows[1], []string{"a", "inf", "0", "0"}) {
		t.Errorf("roc.csv has %d rows (want %d), starting %q", len(rows), want, rows[:2])
	}
	if !strings.HasPrefix(pr.String(), "class,threshold,precision,recall\na,0.2,0.5,1\na,0.3,0.6666666666666666,1\na,0.5,1,1\n") || !strings.Contains(pr.String(), "a,inf,1,0\n") {
		t.Errorf("pr.csv:\n%s", pr.String())
	}
}
