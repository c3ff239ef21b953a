package kernel

import "unsafe"

// Prefetch asks the CPU to bring x's cache lines into its caches ahead of
// a pass over them: a plane of an [N, C, H, W] tensor read channel by
// channel starts a new page far from the last one, where the hardware
// prefetcher has nothing to go on yet. It changes nothing but timing (a
// no-op without amd64 assembly).
func Prefetch[T float32 | int32](x []T) {
	if len(x) > 0 {
		prefetch(unsafe.Pointer(&x[0]), len(x)*4)
	}
}
