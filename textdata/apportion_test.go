package textdata

import (
	"reflect"
	"testing"
)

func TestApportion(t *testing.T) {
	for _, tt := range []struct {
		sizes []int
		n     int
		want  []int
	}{
		{[]int{2500, 1400, 250, 500, 1396}, 2000, []int{827, 463, 83, 165, 462}}, // the SpamAssassin groups
		{[]int{6000, 6000, 6000}, 300, []int{100, 100, 100}},
		{[]int{1, 1, 1}, 2, []int{1, 1, 0}}, // ties: earlier first
		{[]int{5, 5}, 10, []int{5, 5}},
		{[]int{9, 1}, 1, []int{1, 0}},
		{[]int{7, 3}, 10, []int{7, 3}},
	} {
		if got := Apportion(tt.sizes, tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Apportion(%v, %d) = %v, want %v", tt.sizes, tt.n, got, tt.want)
		}
	}
}
