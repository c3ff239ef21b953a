package textclass

import (
	"slices"
	"strings"
	"testing"
)

// Balanced weights are scikit-learn's compute_class_weight("balanced"):
// for counts [6, 3, 1], n/(classes·count) = 10/18, 10/9, 10/3.
func TestParseClassWeights(t *testing.T) {
	classes, counts := []string{"a", "b", "c"}, []int{6, 3, 1}
	for _, c := range []struct {
		spec string
		want []float64
	}{
		{"", nil},
		{"balanced", []float64{10.0 / 18, 10.0 / 9, 10.0 / 3}},
		{"1, 2,0.5", []float64{1, 2, 0.5}},
		{"c=4,a=0.5", []float64{0.5, 1, 4}},
	} {
		got, err := ParseClassWeights(c.spec, classes, counts)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: %v, %v; want %v", c.spec, got, err, c.want)
		}
	}
	for spec, want := range map[string]string{
		"1,2":       "2 weights for the 3 classes",
		"d=1":       `no class "d"`,
		"a=1,a=2":   "weighed twice",
		"1,-1,1":    "finite number ≥ 0",
		"1,NaN,1":   "finite number ≥ 0",
		"0,0,0":     "would weigh 0",
		"a:1":       "1 weights for the 3 classes", // neither list nor name=weight
		"a=1,b":     "not name=weight",
		"1,+Inf,1":  "finite number ≥ 0",
		"balanced ": "", // trimmed: valid
	} {
		_, err := ParseClassWeights(spec, classes, counts)
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", spec, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "class_weight") {
			t.Errorf("%q: %v; want an error naming class_weight with %q", spec, err, want)
		}
	}
	if _, err := ParseClassWeights("balanced", classes, []int{6, 0, 1}); err == nil || !strings.Contains(err.Error(), `class "b" has no training example`) {
		t.Errorf("balanced with an empty class: %v", err)
	}
}

// headWeights orders a binary model's weights [negative, positive].
func TestHeadWeightsOrder(t *testing.T) {
	if w := headWeights([]float64{3, 1}, 0); !slices.Equal(w, []float64{1, 3}) { // class 0 is positive
		t.Errorf("%v", w)
	}
}

// DP-SGD's weights of the clipped gradients are the class weights in target
// order, divided by the largest: at most 1, so no example counts for more
// than C.
func TestClipWeights(t *testing.T) {
	for _, c := range []struct {
		w        []float64
		positive int
		want     []float64
	}{
		{[]float64{0.73, 1.46}, 1, []float64{0.5, 1}},     // ham, spam; spam positive
		{[]float64{0.73, 1.46}, 0, []float64{1, 0.5}},     // the first class positive: target 1 is it
		{[]float64{2, 4, 1}, -1, []float64{0.5, 1, 0.25}}, // more classes: class order
	} {
		if got := clipWeights(c.w, c.positive); !slices.Equal(got, c.want) {
			t.Errorf("clipWeights(%v, %d) = %v, want %v", c.w, c.positive, got, c.want)
		}
	}
}
