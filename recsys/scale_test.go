package recsys

import (
	"math"
	"testing"
)

// A rating scale must be finite and ordered in float32, where ratings and
// predictions live (issue 28: values that are 0 or infinite in float32
// are refused at load).
func TestScaleValidate(t *testing.T) {
	for _, s := range []Scale{{0.5, 5}, {1, 10}, {-1, 1}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%v: %v", s, err)
		}
	}
	for _, s := range []Scale{{5, 0.5}, {1, 1}, {1e-300, 2e-300}, {-1e39, 1e39}, {0, math.Inf(1)}, {math.NaN(), 1}, {1, 1 + 1e-12}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%v: accepted", s)
		}
	}
}
