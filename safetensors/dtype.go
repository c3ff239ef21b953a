package safetensors

import (
	"fmt"
	"math"
	"math/bits"
)

// dtypeSizes holds the element size in bytes of every dtype the reference
// implementation defines. F8 variants are one byte each.
var dtypeSizes = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// DtypeSize returns the size in bytes of one element of dtype ("F32": 4),
// and false for a dtype safetensors does not define.
func DtypeSize(dtype string) (int, bool) {
	n, ok := dtypeSizes[dtype]
	return n, ok
}

// byteLen returns the number of bytes a tensor of dtype and shape occupies,
// with an error for unknown dtypes, negative dimensions and overflow (a
// corrupted header must not wrap around to a plausible length).
func byteLen(dtype string, shape []int64) (int64, error) {
	size, ok := dtypeSizes[dtype]
	if !ok {
		return 0, fmt.Errorf("unknown dtype %q (want one of BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64)", dtype)
	}
	n := uint64(size)
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v: dimension %d is negative", shape, i)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("shape %v of %s: byte length overflows int64", shape, dtype)
		}
		n = lo
	}
	return int64(n), nil
}

func shape64(shape []int) []int64 {
	s := make([]int64, len(shape))
	for i, d := range shape {
		s[i] = int64(d)
	}
	return s
}
