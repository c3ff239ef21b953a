package quantize

import (
	"time"

	"golang.org/x/sys/unix"
)

// cpuClock reads the CPU time the process has used (every thread), in
// nanoseconds: the per-layer choice counts the work a model does, which
// other processes on a shared machine cannot lengthen by taking the CPU
// away from it, as they lengthen its wall-clock time. It falls back to the
// wall clock when the clock cannot be read.
func cpuClock() func() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return wallClock()
	}
	return func() time.Duration {
		if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
			return 0
		}
		return time.Duration(ts.Nano())
	}
}
