package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// CheckFinite returns an error naming the first tensor, and the first
// element in it, that holds a NaN or an infinity. Floating-point dtypes
// (F16, BF16, F32, F64) are checked; integer and F8 tensors are skipped.
// Weights that are not finite would silently turn every prediction into
// NaN, so loaders refuse them.
func CheckFinite(tensors []Tensor) error {
	for _, t := range tensors {
		if i, v, ok := firstNonFinite(t); ok {
			return fmt.Errorf("tensor %q: element %d is %s; refusing non-finite weights", t.Name, i, v)
		}
	}
	return nil
}

// firstNonFinite returns the index and kind ("NaN", "+Inf", "-Inf") of the
// first non-finite element of t.
func firstNonFinite(t Tensor) (int, string, bool) {
	kind := func(f float64) string {
		if math.IsNaN(f) {
			return "NaN"
		}
		if f > 0 {
			return "+Inf"
		}
		return "-Inf"
	}
	d := t.Data
	switch t.Dtype {
	case "F32":
		for i := 0; i+4 <= len(d); i += 4 {
			// Exponent all ones: NaN or infinity.
			if b := binary.LittleEndian.Uint32(d[i:]); b&0x7f800000 == 0x7f800000 {
				return i / 4, kind(float64(math.Float32frombits(b))), true
			}
		}
	case "F64":
		for i := 0; i+8 <= len(d); i += 8 {
			if b := binary.LittleEndian.Uint64(d[i:]); b&0x7ff0000000000000 == 0x7ff0000000000000 {
				return i / 8, kind(math.Float64frombits(b)), true
			}
		}
	case "F16":
		for i := 0; i+2 <= len(d); i += 2 {
			if b := binary.LittleEndian.Uint16(d[i:]); b&0x7c00 == 0x7c00 {
				return i / 2, half(b&0x3ff != 0, b&0x8000 != 0), true
			}
		}
	case "BF16":
		for i := 0; i+2 <= len(d); i += 2 {
			if b := binary.LittleEndian.Uint16(d[i:]); b&0x7f80 == 0x7f80 {
				return i / 2, half(b&0x7f != 0, b&0x8000 != 0), true
			}
		}
	}
	return 0, "", false
}

func half(nan, negative bool) string {
	switch {
	case nan:
		return "NaN"
	case negative:
		return "-Inf"
	}
	return "+Inf"
}
