package textdata

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/dataset"
)

func makeExamples(perClass ...int) []TextExample {
	var ex []TextExample
	for label, n := range perClass {
		for i := range n {
			ex = append(ex, TextExample{Text: fmt.Sprint("text ", label, i), Label: label, Source: fmt.Sprintf("c%d/%04d", label, i)})
		}
	}
	return ex
}

func sources(ex []TextExample) []string {
	out := make([]string, len(ex))
	for i, e := range ex {
		out[i] = e.Source
	}
	return out
}

func TestSplitTextSizes(t *testing.T) {
	tests := []struct {
		perClass         []int
		train, val, test []int
	}{
		{[]int{100, 50}, []int{80, 40}, []int{10, 5}, []int{10, 5}},
		{[]int{1000, 3, 1}, []int{800, 3, 1}, []int{100, 0, 0}, []int{100, 0, 0}},
		{[]int{5, 15}, []int{3, 11}, []int{1, 2}, []int{1, 2}}, // round(0.5)=1, round(1.5)=2
		{[]int{2, 1}, []int{2, 1}, []int{0, 0}, []int{0, 0}},
		{[]int{4150, 1896}, []int{3320, 1516}, []int{415, 190}, []int{415, 190}}, // SpamAssassin
	}
	for _, tt := range tests {
		ex := makeExamples(tt.perClass...)
		classes := make([]string, len(tt.perClass))
		for i := range classes {
			classes[i] = fmt.Sprint("class", i)
		}
		c, err := SplitText(classes, ex, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := [][]int{c.Counts(c.Train), c.Counts(c.Val), c.Counts(c.Test)}
		want := [][]int{tt.train, tt.val, tt.test}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: train/val/test counts = %v, want %v", tt.perClass, got, want)
		}
		all := sources(slices.Concat(c.Train, c.Val, c.Test))
		slices.Sort(all)
		if !slices.Equal(all, sources(sortedBySource(ex))) {
			t.Errorf("%v: splits do not hold every example exactly once", tt.perClass)
		}
	}
}

func TestSplitTextDeterministic(t *testing.T) {
	ex := makeExamples(30, 20)
	classes := []string{"a", "b"}
	base, err := SplitText(classes, ex, 42)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := slices.Clone(ex)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	again, err := SplitText(classes, shuffled, 42)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(base, again) {
		t.Error("the split depends on the order of the examples")
	}
	other, err := SplitText(classes, ex, 43)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(sources(base.Test), sources(other.Test)) {
		t.Error("seeds 42 and 43 gave the same test split")
	}
	// Pin the generator: a change here changes every data set's split.
	want := "c1/0011 c0/0003 c0/0014 c1/0005 c0/0013"
	if got := strings.Join(sources(base.Test), " "); got != want {
		t.Errorf("seed 42 test split = %s, want %s", got, want)
	}
	// Train is shuffled, not grouped by class.
	if slices.IsSortedFunc(base.Train, func(a, b TextExample) int { return a.Label - b.Label }) {
		t.Error("train split is ordered by class")
	}
}

func TestSplitTextErrors(t *testing.T) {
	tests := []struct {
		name     string
		classes  []string
		examples []TextExample
		wantErr  string
	}{
		{"no classes", nil, makeExamples(3), "at least two"},
		{"one class", []string{"a"}, makeExamples(3), `found 1 class ["a"]`},
		{"empty corpus", []string{"a", "b"}, nil, "empty corpus"},
		{"empty class", []string{"a", "b", "c"}, makeExamples(3, 0, 2), `class "b" has no examples`},
		{"label out of range", []string{"a", "b"}, makeExamples(1, 1, 1), "label 2 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SplitText(tt.classes, tt.examples, 0)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("SplitText error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// The split's generator (dataset.SplitMix) draws uniformly.
func TestSplitMixUniform(t *testing.T) {
	rng := dataset.NewSplitMix(9)
	var counts [3]int
	for range 30000 {
		counts[rng.Below(3)]++
	}
	for i, n := range counts {
		if n < 9500 || n > 10500 {
			t.Errorf("Below(3) returned %d %d times in 30000", i, n)
		}
	}
}
