package imagedata

import (
	"slices"
	"testing"
)

func TestStratifiedSplit(t *testing.T) {
	labelsOf := func(counts ...int) []int {
		var l []int
		for c, n := range counts {
			for range n {
				l = append(l, c)
			}
		}
		// Interleave a little so indices and classes are not aligned.
		slices.Reverse(l[:len(l)/2])
		return l
	}
	for _, tt := range []struct {
		counts    []int
		fractions []float64
		want      [][]int // per part, per class
	}{
		{[]int{6000, 6000}, []float64{0.9, 0.1}, [][]int{{5400, 5400}, {600, 600}}},
		{[]int{80, 20}, []float64{0.8, 0.1, 0.1}, [][]int{{64, 16}, {8, 2}, {8, 2}}},
		// 4 per class: 0.4 each; the 1 image of 10% goes to the first class.
		{[]int{4, 4, 4}, []float64{0.9, 0.1}, [][]int{{3, 4, 4}, {1, 0, 0}}},
		// 9 and 1: the one-image class keeps it for training.
		{[]int{9, 1}, []float64{0.8, 0.1, 0.1}, [][]int{{7, 1}, {1, 0}, {1, 0}}},
		{[]int{5, 5, 3}, []float64{0.8, 0.1, 0.1}, [][]int{{3, 5, 3}, {1, 0, 0}, {1, 0, 0}}}, // 13 images: one each; ties to the lower class
	} {
		labels := labelsOf(tt.counts...)
		parts := stratifiedSplit(labels, len(tt.counts), tt.fractions, 1)
		seen := make([]bool, len(labels))
		for k, part := range parts {
			counts := make([]int, len(tt.counts))
			for _, i := range part {
				if seen[i] {
					t.Fatalf("%v: index %d in two parts", tt.counts, i)
				}
				seen[i] = true
				counts[labels[i]]++
			}
			if !slices.Equal(counts, tt.want[k]) {
				t.Errorf("%v %v: part %d counts %v, want %v", tt.counts, tt.fractions, k, counts, tt.want[k])
			}
			if !slices.IsSorted(part) {
				t.Errorf("part %d not sorted", k)
			}
		}
		if slices.Contains(seen, false) {
			t.Errorf("%v: an index is in no part", tt.counts)
		}
		if again := stratifiedSplit(labels, len(tt.counts), tt.fractions, 1); !slices.EqualFunc(again, parts, slices.Equal) {
			t.Errorf("%v: not deterministic", tt.counts)
		}
	}
	labels := labelsOf(100, 100)
	a := stratifiedSplit(labels, 2, []float64{0.9, 0.1}, 1)
	b := stratifiedSplit(labels, 2, []float64{0.9, 0.1}, 2)
	if slices.Equal(a[1], b[1]) {
		t.Error("seeds 1 and 2 gave the same validation set")
	}
}
