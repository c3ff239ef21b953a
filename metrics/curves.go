package metrics

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// ROC is a receiver operating characteristic curve, as scikit-learn's
// roc_curve (drop_intermediate=True) gives it: the false and true positive
// rates of predicting "positive" for scores at or above each threshold,
// from the highest threshold down. The first point is (0, 0) at threshold
// +Inf (scikit-learn before 1.3 wrote the highest score + 1 there);
// thresholds whose point lies on a straight segment between its
// neighbours are dropped, which leaves the curve and its area unchanged.
type ROC struct {
	FPR, TPR, Thresholds []float64
}

// AUC is the area under the curve by the trapezoidal rule, which is
// scikit-learn's roc_auc_score (and ROCAUC up to rounding).
func (r ROC) AUC() float64 { return trapezoid(r.FPR, r.TPR) }

// PrecisionRecall is a precision–recall curve, as scikit-learn's
// precision_recall_curve gives it: for each distinct score, from the
// lowest up, the precision and recall of predicting "positive" at or above
// it, then the point (recall 0, precision 1) that has no threshold, so
// Thresholds is one shorter than Precision and Recall.
type PrecisionRecall struct {
	Precision, Recall, Thresholds []float64
}

// AveragePrecision is scikit-learn's average_precision_score: the
// precisions weighted by the recall they add, Σ (Rₙ − Rₙ₊₁)·Pₙ, with no
// interpolation.
func (c PrecisionRecall) AveragePrecision() float64 {
	var ap float64
	for i := 0; i+1 < len(c.Recall); i++ {
		ap += (c.Recall[i] - c.Recall[i+1]) * c.Precision[i]
	}
	return ap
}

// ROCCurve is the ROC curve of scores (probabilities or any monotone
// transform of them) against 0/1 labels. With a single class in the labels
// one rate is undefined: the curve holds NaN for it and the error is
// ErrOneClass. Mismatched lengths, no examples, NaN scores and labels
// other than 0 and 1 are errors.
func ROCCurve(scores, labels []float32) (ROC, error) {
	fps, tps, thr, err := thresholdCounts(scores, labels, "ROC curve")
	if err != nil {
		return ROC{}, err
	}
	if n := len(fps); n > 2 {
		// Keep the ends and the corners (a non-zero second difference),
		// as scikit-learn's drop_intermediate does.
		keep := 1
		for i := 1; i < n-1; i++ {
			if fps[i+1]-2*fps[i]+fps[i-1] != 0 || tps[i+1]-2*tps[i]+tps[i-1] != 0 {
				fps[keep], tps[keep], thr[keep] = fps[i], tps[i], thr[i]
				keep++
			}
		}
		fps[keep], tps[keep], thr[keep] = fps[n-1], tps[n-1], thr[n-1]
		fps, tps, thr = fps[:keep+1], tps[:keep+1], thr[:keep+1]
	}
	r := ROC{
		FPR:        rates(fps),
		TPR:        rates(tps),
		Thresholds: append([]float64{math.Inf(1)}, thr...),
	}
	if fps[len(fps)-1] == 0 || tps[len(tps)-1] == 0 {
		return r, ErrOneClass
	}
	return r, nil
}

// rates divides cumulative counts by their total, after a leading 0: NaN
// when the total is 0.
func rates(counts []float64) []float64 {
	out := make([]float64, len(counts)+1)
	total := counts[len(counts)-1]
	for i, c := range counts {
		out[i+1] = c / total
	}
	if total == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
	}
	return out
}

// PRCurve is the precision–recall curve of scores against 0/1 labels.
// Without positive labels recall is undefined: the error is ErrOneClass
// (scikit-learn sets recall to 1 and warns). Other errors are ROCCurve's.
func PRCurve(scores, labels []float32) (PrecisionRecall, error) {
	fps, tps, thr, err := thresholdCounts(scores, labels, "precision-recall curve")
	if err != nil {
		return PrecisionRecall{}, err
	}
	n := len(tps)
	c := PrecisionRecall{
		Precision:  make([]float64, n+1),
		Recall:     make([]float64, n+1),
		Thresholds: make([]float64, n),
	}
	positives := tps[n-1]
	for i := range n {
		j := n - 1 - i // lowest threshold first
		c.Precision[i] = tps[j] / (tps[j] + fps[j])
		c.Recall[i] = tps[j] / positives
		c.Thresholds[i] = thr[j]
	}
	c.Precision[n], c.Recall[n] = 1, 0
	if positives == 0 {
		for i := range n {
			c.Recall[i] = 1
		}
		return c, ErrOneClass
	}
	return c, nil
}

// AveragePrecision is PRCurve(scores, labels).AveragePrecision(), and NaN
// with PRCurve's errors.
func AveragePrecision(scores, labels []float32) (float64, error) {
	c, err := PRCurve(scores, labels)
	if err != nil {
		return math.NaN(), err
	}
	return c.AveragePrecision(), nil
}

// thresholdCounts is scikit-learn's _binary_clf_curve: for each distinct
// score, from the highest down, how many negatives (fps) and positives
// (tps) score at or above it.
func thresholdCounts(scores, labels []float32, what string) (fps, tps, thresholds []float64, err error) {
	if len(scores) != len(labels) {
		return nil, nil, nil, fmt.Errorf("%s: %d scores but %d labels", what, len(scores), len(labels))
	}
	if len(scores) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: no examples", what)
	}
	pairs := make([]scoredLabel, len(scores))
	for i, s := range scores {
		positive, err := binaryLabel(labels[i], i)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		if math.IsNaN(float64(s)) {
			return nil, nil, nil, fmt.Errorf("%s: score %d is NaN", what, i)
		}
		pairs[i] = scoredLabel{s, positive}
	}
	slices.SortFunc(pairs, func(a, b scoredLabel) int { return cmp.Compare(b.score, a.score) })
	var tp, fp float64
	for i, p := range pairs {
		if p.positive {
			tp++
		} else {
			fp++
		}
		if i+1 == len(pairs) || pairs[i+1].score != p.score {
			fps, tps, thresholds = append(fps, fp), append(tps, tp), append(thresholds, float64(p.score))
		}
	}
	return fps, tps, thresholds, nil
}

// trapezoid is numpy's trapz(y, x).
func trapezoid(x, y []float64) float64 {
	var s float64
	for i := 0; i+1 < len(x); i++ {
		s += (x[i+1] - x[i]) * (y[i+1] + y[i]) / 2
	}
	return s
}

// OneVsRest is class k's binary view of n examples' class probabilities
// (probs, n×classes row by row) and true classes: class k's probability
// as the score, label 1 for its examples and 0 for the others. It is what
// a ROC or precision–recall curve of one class of several is drawn from.
func OneVsRest(probs []float32, labels []int, classes, k int) (scores, binary []float32) {
	scores, binary = make([]float32, len(labels)), make([]float32, len(labels))
	for i, l := range labels {
		scores[i] = probs[i*classes+k]
		if l == k {
			binary[i] = 1
		}
	}
	return scores, binary
}

// ClassCurves are one class's ROC and precision–recall curves against the
// other classes.
type ClassCurves struct {
	Class string
	ROC   ROC
	PR    PrecisionRecall
}

// ClassifierCurves draws the curves of the given classes (indices into
// names) from n examples' class probabilities (n×len(names), row by row)
// and true classes: one-vs-rest for each. A class whose examples are all
// or none of the n has no curves: it is listed in skipped instead.
func ClassifierCurves(probs []float32, labels []int, names []string, classes []int) (curves []ClassCurves, skipped []string, err error) {
	k := len(names)
	if len(probs) != len(labels)*k {
		return nil, nil, fmt.Errorf("curves: %d probabilities for %d examples of %d classes", len(probs), len(labels), k)
	}
	for _, l := range labels {
		if l < 0 || l >= k {
			return nil, nil, fmt.Errorf("curves: label %d outside 0..%d", l, k-1)
		}
	}
	for _, c := range classes {
		scores, binary := OneVsRest(probs, labels, k, c)
		roc, err := ROCCurve(scores, binary)
		if errors.Is(err, ErrOneClass) {
			skipped = append(skipped, names[c])
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("curves of class %q: %w", names[c], err)
		}
		pr, err := PRCurve(scores, binary)
		if err != nil {
			return nil, nil, fmt.Errorf("curves of class %q: %w", names[c], err)
		}
		curves = append(curves, ClassCurves{names[c], roc, pr})
	}
	return curves, skipped, nil
}

// WriteROCCSV writes curves' ROC points as CSV: class, threshold, fpr,
// tpr, one row per point, the first threshold of each class being "inf".
func WriteROCCSV(w io.Writer, curves []ClassCurves) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"class", "threshold", "fpr", "tpr"})
	for _, c := range curves {
		for i := range c.ROC.FPR {
			cw.Write([]string{c.Class, csvScore(c.ROC.Thresholds[i]), csvFloat(c.ROC.FPR[i]), csvFloat(c.ROC.TPR[i])})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WritePRCSV writes curves' precision–recall points as CSV: class,
// threshold, precision, recall, one row per point; the last point of each
// class (recall 0, precision 1) has the threshold "inf".
func WritePRCSV(w io.Writer, curves []ClassCurves) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"class", "threshold", "precision", "recall"})
	for _, c := range curves {
		for i := range c.PR.Precision {
			t := math.Inf(1)
			if i < len(c.PR.Thresholds) {
				t = c.PR.Thresholds[i]
			}
			cw.Write([]string{c.Class, csvScore(t), csvFloat(c.PR.Precision[i]), csvFloat(c.PR.Recall[i])})
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvFloat is the shortest representation that reads back exactly.
func csvFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// csvScore is csvFloat for a threshold, which is a float32 score: the
// shortest representation that reads back as that float32 ("0.8", not
// "0.800000011920929"); +Inf is "inf", as numpy and pandas read it.
func csvScore(v float64) string {
	if math.IsInf(v, 1) {
		return "inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 32)
}
