package metrics

import (
	"fmt"
	"strings"
)

// ClassScores are one class's precision, recall and F1, with its support
// (the number of its true examples), or an average of them.
type ClassScores struct {
	Precision, Recall, F1 float64
	Support               int
}

// Report is scikit-learn's classification_report of a confusion matrix:
// per-class scores, accuracy, and their macro and weighted averages.
type Report struct {
	Classes  []ClassScores // in label order
	Accuracy float64       // NaN for an empty matrix
	// Macro averages the classes' scores, each class counting the same;
	// Weighted weights them by support. Both have the total support.
	Macro, Weighted ClassScores
	// Absent is true when some class has neither a true nor a predicted
	// example: scikit-learn then prints a "micro avg" row, not
	// "accuracy" (its value is the same).
	Absent bool
}

// Report computes precision TP/(TP+FP), recall TP/(TP+FN) and F1, the
// harmonic mean of the two, for every class of m, each 0 when its
// denominator is (scikit-learn's zero_division=0), and their averages.
func (m Confusion) Report() Report {
	k := len(m)
	r := Report{Classes: make([]ClassScores, k), Accuracy: m.Accuracy()}
	predicted := make([]int, k)
	for _, row := range m {
		for p, c := range row {
			predicted[p] += c
		}
	}
	total := 0
	for t, row := range m {
		support := 0
		for _, c := range row {
			support += c
		}
		tp := m[t][t]
		prec, rec := ratioOrZero(tp, predicted[t]), ratioOrZero(tp, support)
		f1 := 0.0
		if prec+rec > 0 {
			f1 = 2 * prec * rec / (prec + rec)
		}
		r.Classes[t] = ClassScores{prec, rec, f1, support}
		total += support
		r.Absent = r.Absent || support == 0 && predicted[t] == 0
	}
	// Sums first, then one division, as numpy's mean and average do.
	var macro, weighted [3]float64
	for _, c := range r.Classes {
		for i, v := range [3]float64{c.Precision, c.Recall, c.F1} {
			macro[i] += v
			weighted[i] += v * float64(c.Support)
		}
	}
	r.Macro = ClassScores{macro[0] / float64(k), macro[1] / float64(k), macro[2] / float64(k), total}
	r.Weighted = ClassScores{Support: total}
	if total > 0 {
		t := float64(total)
		r.Weighted = ClassScores{weighted[0] / t, weighted[1] / t, weighted[2] / t, total}
	}
	return r
}

// Format lays the report out as scikit-learn's classification_report does,
// with digits decimals (scikit-learn's default is 2), names being the
// classes' names in label order.
func (r Report) Format(names []string, digits int) string {
	width := len("weighted avg")
	for _, n := range names {
		width = max(width, len(n))
	}
	width = max(width, digits)
	var b strings.Builder
	fmt.Fprintf(&b, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support")
	row := func(name string, s ClassScores) {
		fmt.Fprintf(&b, "%*s  %9.*f %9.*f %9.*f %9d\n", width, name, digits, s.Precision, digits, s.Recall, digits, s.F1, s.Support)
	}
	for i, c := range r.Classes {
		name := fmt.Sprint(i)
		if i < len(names) {
			name = names[i]
		}
		row(name, c)
	}
	b.WriteString("\n")
	if r.Absent {
		row("micro avg", ClassScores{r.Accuracy, r.Accuracy, r.Accuracy, r.Macro.Support})
	} else {
		fmt.Fprintf(&b, "%*s  %9s %9s %9.*f %9d\n", width, "accuracy", "", "", digits, r.Accuracy, r.Macro.Support)
	}
	row("macro avg", r.Macro)
	row("weighted avg", r.Weighted)
	return b.String()
}
