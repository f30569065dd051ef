//go:build unix

package audit

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time (user + system) used by this process,
// so benchmarks can report CPU cost on a busy machine, where wall time is noisy.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
