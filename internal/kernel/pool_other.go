//go:build !amd64 || purego

package kernel

func maxPool2x2AVX512(y *float32, arg *int32, x *float32, base, w, oh, ow, full int, out, in0, in1 uint64) {
	panic("kernel: maxPool2x2AVX512 without AVX-512")
}

func unpool2x2AVX512(gz, grad *float32, arg *int32, base, w, oh, ow, full int, out, in0, in1 uint64) {
	panic("kernel: unpool2x2AVX512 without AVX-512")
}
