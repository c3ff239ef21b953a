package repo

import (
	"errors"

	"golang.org/x/sys/unix"
)

// renameNew renames from to to unless something is at to: Linux's
// RENAME_NOREPLACE, so that not even an empty folder a person made is
// replaced. File systems without it fall back to renameNewPortable.
func renameNew(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return renameNewPortable(from, to)
	}
	if err != nil {
		return &linkError{from, to, err}
	}
	return nil
}
