package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// BinaryThreshold is the probability above which a binary prediction is
// class 1. The comparison is strict (p > 0.5), as in Keras' binary_accuracy
// and torchmetrics.
const BinaryThreshold = 0.5

// ErrOneClass reports that ROC-AUC is undefined because the labels hold only
// one class (scikit-learn raises a ValueError in that case).
var ErrOneClass = errors.New("ROC-AUC is undefined when only one class is present in the labels")

// BinaryCounts is the confusion matrix of a binary classifier, class 1 being
// the positive class.
type BinaryCounts struct {
	TP, FP, TN, FN int
}

// CountBinary thresholds probabilities at BinaryThreshold and counts them
// against 0/1 labels. It fails on mismatched lengths, on labels other than 0
// and 1, and on probabilities outside [0, 1] or NaN (logits must go through a
// sigmoid first).
func CountBinary(probs, labels []float32) (BinaryCounts, error) {
	var c BinaryCounts
	if len(probs) != len(labels) {
		return c, fmt.Errorf("binary metrics: %d probabilities but %d labels", len(probs), len(labels))
	}
	for i, p := range probs {
		positive, err := binaryLabel(labels[i], i)
		if err != nil {
			return BinaryCounts{}, err
		}
		if err := checkProbability(p, i); err != nil {
			return BinaryCounts{}, err
		}
		c.add(p > BinaryThreshold, positive)
	}
	return c, nil
}

func (c *BinaryCounts) add(predicted, actual bool) {
	switch {
	case predicted && actual:
		c.TP++
	case predicted:
		c.FP++
	case actual:
		c.FN++
	default:
		c.TN++
	}
}

// N is the number of examples counted.
func (c BinaryCounts) N() int { return c.TP + c.FP + c.TN + c.FN }

// Accuracy is the fraction of correct predictions; NaN when nothing was
// counted.
func (c BinaryCounts) Accuracy() float64 {
	if c.N() == 0 {
		return math.NaN()
	}
	return float64(c.TP+c.TN) / float64(c.N())
}

// Precision is TP/(TP+FP), 0 when nothing was predicted positive.
func (c BinaryCounts) Precision() float64 { return ratioOrZero(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 0 when there are no positive labels.
func (c BinaryCounts) Recall() float64 { return ratioOrZero(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall, 2TP/(2TP+FP+FN), and 0
// when there are neither positive labels nor positive predictions.
func (c BinaryCounts) F1() float64 { return ratioOrZero(2*c.TP, 2*c.TP+c.FP+c.FN) }

// Matrix returns the counts as a 2×2 Confusion laid out like scikit-learn's
// confusion_matrix: [[TN, FP], [FN, TP]].
func (c BinaryCounts) Matrix() Confusion {
	return Confusion{{c.TN, c.FP}, {c.FN, c.TP}}
}

// ratioOrZero implements scikit-learn's zero_division=0.
func ratioOrZero(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// ROCAUC is the area under the ROC curve of scores (probabilities, logits or
// any monotone transform of them) against 0/1 labels, computed exactly as
// scikit-learn's roc_auc_score: the trapezoidal area over the distinct score
// thresholds, so each tied positive/negative pair counts one half. It returns
// NaN and ErrOneClass when the labels hold a single class, and an error for
// NaN scores, labels other than 0 and 1 or mismatched lengths.
func ROCAUC(scores, labels []float32) (float64, error) {
	if len(scores) != len(labels) {
		return math.NaN(), fmt.Errorf("ROC-AUC: %d scores but %d labels", len(scores), len(labels))
	}
	pairs := make([]scoredLabel, len(scores))
	for i, s := range scores {
		positive, err := binaryLabel(labels[i], i)
		if err != nil {
			return math.NaN(), fmt.Errorf("ROC-AUC: %w", err)
		}
		if math.IsNaN(float64(s)) {
			return math.NaN(), fmt.Errorf("ROC-AUC: score %d is NaN", i)
		}
		pairs[i] = scoredLabel{s, positive}
	}
	return areaUnderROC(pairs)
}

// scoredLabel is one example for ROC-AUC.
type scoredLabel struct {
	score    float32
	positive bool
}

// areaUnderROC sorts pairs (in place) from the highest score down and walks
// them one group of tied scores at a time. A group adding dfp negatives and
// dtp positives on top of tp earlier positives adds the trapezoid
// dfp·(tp + dtp/2); the sums are kept doubled in integers so the result is
// exact up to the final division.
func areaUnderROC(pairs []scoredLabel) (float64, error) {
	slices.SortFunc(pairs, func(a, b scoredLabel) int { return cmp.Compare(b.score, a.score) })
	var tp, fp, doubledArea int64
	for i := 0; i < len(pairs); {
		score := pairs[i].score
		var dtp, dfp int64
		for ; i < len(pairs) && pairs[i].score == score; i++ {
			if pairs[i].positive {
				dtp++
			} else {
				dfp++
			}
		}
		doubledArea += dfp * (2*tp + dtp)
		tp += dtp
		fp += dfp
	}
	if tp == 0 || fp == 0 {
		return math.NaN(), ErrOneClass
	}
	return float64(doubledArea) / (2 * float64(tp) * float64(fp)), nil
}

// binaryLabel accepts exactly 0 and 1.
func binaryLabel(v float32, i int) (bool, error) {
	switch v {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, fmt.Errorf("label %d is %g, expected 0 or 1", i, v)
}

func checkProbability(p float32, i int) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("output %d is %g, expected a probability in [0, 1] (apply a sigmoid to logits)", i, p)
	}
	return nil
}
