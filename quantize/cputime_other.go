//go:build !linux

package quantize

import "time"

// cpuClock is the wall clock where the process's CPU time is not read.
func cpuClock() func() time.Duration { return wallClock() }
