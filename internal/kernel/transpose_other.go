//go:build !amd64 || purego

package kernel

func transposeFast(dst []float32, ldd int, src []float32, lds int, blocks int) bool { return false }
