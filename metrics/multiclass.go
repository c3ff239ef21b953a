package metrics

import (
	"fmt"
	"math"
)

// Confusion is a C×C confusion matrix: Confusion[t][p] counts the examples
// of true class t predicted as class p, as in scikit-learn's
// confusion_matrix. For a binary task it is [[TN, FP], [FN, TP]].
type Confusion [][]int

// NewConfusion returns a zeroed classes×classes matrix.
func NewConfusion(classes int) Confusion {
	m := make(Confusion, classes)
	cells := make([]int, classes*classes)
	for t := range m {
		m[t] = cells[t*classes : (t+1)*classes : (t+1)*classes]
	}
	return m
}

// ConfusionMatrix takes the argmax of each row of outputs (logits or
// probabilities, [N, classes] row-major) as the prediction and counts it
// against labels (class indices 0..classes-1 stored as floats). It fails on
// mismatched lengths, labels that are not such an index, and rows holding
// NaN.
func ConfusionMatrix(outputs, labels []float32, classes int) (Confusion, error) {
	if classes < 1 {
		return nil, fmt.Errorf("confusion matrix: %d classes, expected at least 1", classes)
	}
	if len(outputs) != len(labels)*classes {
		return nil, fmt.Errorf("confusion matrix: %d outputs for %d labels, expected %d×%d", len(outputs), len(labels), len(labels), classes)
	}
	m := NewConfusion(classes)
	for i, l := range labels {
		t, err := classLabel(l, classes, i)
		if err != nil {
			return nil, fmt.Errorf("confusion matrix: %w", err)
		}
		p, ok := Argmax(outputs[i*classes : (i+1)*classes])
		if !ok {
			return nil, fmt.Errorf("confusion matrix: output row %d holds NaN", i)
		}
		m[t][p]++
	}
	return m, nil
}

// Argmax is the index of the largest value of row, the first one on ties
// (like numpy and PyTorch). ok is false when row is empty or holds NaN.
func Argmax(row []float32) (index int, ok bool) {
	if len(row) == 0 {
		return 0, false
	}
	for i, v := range row {
		if math.IsNaN(float64(v)) {
			return 0, false
		}
		if v > row[index] {
			index = i
		}
	}
	return index, true
}

// N is the number of examples counted.
func (m Confusion) N() int {
	n := 0
	for _, row := range m {
		for _, c := range row {
			n += c
		}
	}
	return n
}

// Accuracy is the fraction of examples on the diagonal; NaN when the matrix
// is empty.
func (m Confusion) Accuracy() float64 {
	n := m.N()
	if n == 0 {
		return math.NaN()
	}
	correct := 0
	for t := range m {
		correct += m[t][t]
	}
	return float64(correct) / float64(n)
}

// PerClassAccuracy is the recall of each class: the fraction of its examples
// predicted correctly, 0 for a class with no examples (scikit-learn's
// recall_score(average=None, zero_division=0)).
func (m Confusion) PerClassAccuracy() []float64 {
	acc := make([]float64, len(m))
	for t, row := range m {
		total := 0
		for _, c := range row {
			total += c
		}
		acc[t] = ratioOrZero(m[t][t], total)
	}
	return acc
}

// classLabel accepts whole numbers in [0, classes).
func classLabel(v float32, classes, i int) (int, error) {
	if v != float32(math.Trunc(float64(v))) || v < 0 || float64(v) >= float64(classes) {
		return 0, fmt.Errorf("label %d is %g, expected a class index in 0..%d", i, v, classes-1)
	}
	return int(v), nil
}

// Format renders the matrix as aligned text with class names.
func (m Confusion) Format(classes []string) string {
	width := 5
	for _, row := range m {
		for _, v := range row {
			width = max(width, len(fmt.Sprint(v))+1)
		}
	}
	name := 0
	for _, c := range classes {
		name = max(name, len(c))
	}
	s := fmt.Sprintf("%*s", name+4, "")
	for j := range m {
		s += fmt.Sprintf("%*d", width, j)
	}
	s += "   ← predicted\n"
	for i, row := range m {
		s += fmt.Sprintf("%*s %2d ", name, classes[i], i)
		for _, v := range row {
			s += fmt.Sprintf("%*d", width, v)
		}
		s += "\n"
	}
	return s
}
