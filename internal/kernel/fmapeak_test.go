package kernel

import "testing"

// TestFMARounds checks the operation count each level reports: the loops
// compute nothing observable, so the count is what callers rely on.
func TestFMARounds(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		want := map[Level]float64{Generic: 0, AVX2: 2 * 12 * 8 * 1000, AVX512: 2 * 12 * 16 * 1000}[l]
		if got := FMARounds(1000); got != want {
			t.Errorf("FMARounds(1000) = %g, want %g", got, want)
		}
		for _, n := range []int{0, -5} {
			if got := FMARounds(n); got != 0 {
				t.Errorf("FMARounds(%d) = %g, want 0", n, got)
			}
		}
	})
}
