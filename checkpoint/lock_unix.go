//go:build unix

package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/tapeml/tapeml/internal/safeio"
)

// Lock takes the run folder's exclusive lock, creating the folder if
// needed, and writes the process id into the lock file. The lock is an
// flock(2) on the lock file, which the kernel releases when the process
// dies, so a lock file left by a killed training is stale and simply taken
// over. Where flock is unsupported (some network file systems), the lock
// file's process id decides: a live process holds the lock, a dead one
// left a stale lock. If another process holds it, the error is a
// *LockedError naming its process id and wrapping ErrLocked. The returned
// function releases the lock and removes the lock file.
func (d Dir) Lock() (unlock func() error, err error) {
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint run %s: %w", d.Root, err)
	}
	path := filepath.Join(d.Root, LockFile)
	for range 10 {
		if info, err := os.Lstat(path); err == nil && !info.Mode().IsRegular() {
			return nil, fmt.Errorf("checkpoint run %s: %s is not a regular file", d.Root, path)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
		if err != nil {
			return nil, fmt.Errorf("checkpoint run %s: lock: %w", d.Root, err)
		}
		held, _ := safeio.ReadAll(io.NewSectionReader(f, 0, 64), 64, 64)
		pid := readPID(held)
		switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
		case errors.Is(err, syscall.EWOULDBLOCK):
			f.Close()
			return nil, &LockedError{Root: d.Root, PID: pid}
		case err != nil:
			// No flock here: trust the process id, unless it is dead.
			if pid > 0 && pid != os.Getpid() && alive(pid) {
				f.Close()
				return nil, &LockedError{Root: d.Root, PID: pid}
			}
		}
		// The holder that just released the lock may have removed the
		// file we opened; then lock the new one.
		opened, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 != nil || err2 != nil || !os.SameFile(opened, now) {
			f.Close()
			continue
		}
		if err := writePID(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("checkpoint run %s: lock: %w", d.Root, err)
		}
		return func() error {
			rerr := os.Remove(path)
			if cerr := f.Close(); rerr == nil {
				rerr = cerr
			}
			return rerr
		}, nil
	}
	return nil, fmt.Errorf("checkpoint run %s: lock: the lock file keeps changing", d.Root)
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0); err != nil {
		return err
	}
	return f.Sync()
}

// alive reports whether a process with this id exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
