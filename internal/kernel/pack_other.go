//go:build !amd64 || purego

package kernel

func packBT16(dst, b []float32, ldb, kc int) int { return 0 }
