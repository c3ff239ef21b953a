//go:build !amd64 || purego

package kernel

import "unsafe"

func prefetch(p unsafe.Pointer, n int) {}
