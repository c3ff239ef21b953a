//go:build amd64 && !purego

package kernel

import "unsafe"

// prefetch issues PREFETCHT0 for every 64-byte line of the n bytes at p.
//
//go:noescape
func prefetch(p unsafe.Pointer, n int)
