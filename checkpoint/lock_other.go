//go:build !unix

package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Lock takes the run folder's lock: a lock file created exclusively,
// holding the process id. Without flock, a lock left by a killed process
// must be removed by hand; the error names the process id to check.
func (d Dir) Lock() (unlock func() error, err error) {
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return nil, fmt.Errorf("checkpoint run %s: %w", d.Root, err)
	}
	path := filepath.Join(d.Root, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		held, _ := os.ReadFile(path)
		return nil, &LockedError{Root: d.Root, PID: readPID(held)}
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint run %s: lock: %w", d.Root, err)
	}
	if _, err := fmt.Fprintf(f, "%d\n", os.Getpid()); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("checkpoint run %s: lock: %w", d.Root, err)
	}
	return func() error {
		f.Close()
		return os.Remove(path)
	}, nil
}
