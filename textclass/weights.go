package textclass

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/train"
)

// Balanced is the class-weight setting that weighs each class by
// n_samples / (n_classes · its count), as scikit-learn's
// compute_class_weight("balanced") does.
const Balanced = "balanced"

// ParseClassWeights reads a class-weight setting for classes with the
// given training counts, into one weight per class in class order (nil
// for ""): Balanced, weights in class order ("1,3"), or weights by name
// ("ham=1,spam=3"; a class not named weighs 1). Errors name the setting
// "class_weight".
func ParseClassWeights(spec string, classes []string, counts []int) ([]float64, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	w := make([]float64, len(classes))
	if spec == Balanced {
		n := 0
		for _, c := range counts {
			n += c
		}
		for i, c := range counts {
			if c == 0 {
				return nil, train.Invalidf("%s %s: class %q has no training example", train.Field("class_weight"), Balanced, classes[i])
			}
			w[i] = float64(n) / float64(len(classes)*c)
		}
		return w, nil
	}
	parts := strings.Split(spec, ",")
	byName := strings.Contains(spec, "=")
	if !byName && len(parts) != len(classes) {
		return nil, train.Invalidf("%s %q: %d weights for the %d classes %q (or give %s, or name=weight pairs)", train.Field("class_weight"), spec, len(parts), len(classes), classes, Balanced)
	}
	if byName {
		for i := range w {
			w[i] = 1
		}
	}
	seen := map[int]bool{}
	for i, part := range parts {
		at, value := i, strings.TrimSpace(part)
		if byName {
			name, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, train.Invalidf("%s %q: %q is not name=weight", train.Field("class_weight"), spec, part)
			}
			if at = slices.Index(classes, strings.TrimSpace(name)); at < 0 {
				return nil, train.Invalidf("%s %q: no class %q (the classes are %q)", train.Field("class_weight"), spec, strings.TrimSpace(name), classes)
			}
			if seen[at] {
				return nil, train.Invalidf("%s %q: class %q weighed twice", train.Field("class_weight"), spec, classes[at])
			}
			seen[at] = true
			value = strings.TrimSpace(v)
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || !(f >= 0) || math.IsInf(f, 0) {
			return nil, train.Invalidf("%s %q: weight %q: want a finite number ≥ 0", train.Field("class_weight"), spec, value)
		}
		w[at] = f
	}
	total := 0.0
	for i, v := range w {
		total += v * float64(counts[i])
	}
	if !(total > 0) {
		return nil, train.Invalidf("%s %q: every training example would weigh 0", train.Field("class_weight"), spec)
	}
	return w, nil
}

// headWeights puts class weights (class order) in a Head's target order:
// [negative, positive] for two classes.
func headWeights(w []float64, positive int) []float64 {
	if len(w) == 2 {
		return []float64{w[1-positive], w[positive]}
	}
	return slices.Clone(w)
}

// clipWeights returns class weights (class order) as DP-SGD's weights of
// the clipped gradients: in target order, as headWeights, and divided by
// the largest, so that no example moves the clipped sum by more than C.
func clipWeights(w []float64, positive int) []float64 {
	ordered := headWeights(w, positive)
	top := slices.Max(ordered)
	for i := range ordered {
		ordered[i] /= top
	}
	return ordered
}

// formatWeights writes weights for a summary line: "ham=1 spam=3".
func formatWeights(w []float64, classes []string) string {
	parts := make([]string, len(w))
	for i, v := range w {
		parts[i] = fmt.Sprintf("%s=%.4g", classes[i], v)
	}
	return strings.Join(parts, " ")
}
