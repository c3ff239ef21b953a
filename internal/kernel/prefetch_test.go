package kernel

import "testing"

// Prefetch reads nothing it may not and writes nothing: on every length in
// sizes, at the end of its slice, the values are unchanged.
func TestPrefetch(t *testing.T) {
	for _, n := range sizes {
		x := make([]float32, n)
		idx := make([]int32, n)
		for i := range x {
			x[i], idx[i] = float32(i), int32(i)
		}
		Prefetch(x)
		Prefetch(idx[n/2:])
		Prefetch(x[:0])
		for i := range x {
			if x[i] != float32(i) || idx[i] != int32(i) {
				t.Fatalf("n=%d: [%d] changed", n, i)
			}
		}
	}
}
