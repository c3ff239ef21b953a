package dataset

import "testing"

func TestSplitMixUniform(t *testing.T) {
	rng := NewSplitMix(9)
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
