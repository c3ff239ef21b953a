//go:build unix

package safeio

import "syscall"

// openFlags keeps open(2) from blocking on a FIFO that replaced a checked
// regular file; reads of a regular file ignore O_NONBLOCK.
const openFlags = syscall.O_NONBLOCK
