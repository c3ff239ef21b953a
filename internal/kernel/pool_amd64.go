//go:build amd64 && !purego

package kernel

// maxPool2x2AVX512 and unpool2x2AVX512 run MaxPool2x2 and Unpool2x2 over
// oh output rows: full vectors of sixteen outputs per row, then one
// partial vector when out is not 0 (its output mask, and the masks of its
// two vectors of inputs per input row).

//go:noescape
func maxPool2x2AVX512(y *float32, arg *int32, x *float32, base, w, oh, ow, full int, out, in0, in1 uint64)

//go:noescape
func unpool2x2AVX512(gz, grad *float32, arg *int32, base, w, oh, ow, full int, out, in0, in1 uint64)
