package repo

import (
	"fmt"
	"io/fs"
	"os"
)

// renameNewPortable checks that nothing is at to, then renames: it races
// only a person creating to between the two, never another publish (they
// hold the model folder's lock).
func renameNewPortable(from, to string) error {
	if _, err := os.Lstat(to); err == nil {
		return &linkError{from, to, fs.ErrExist}
	}
	return os.Rename(from, to)
}

// linkError is a failed rename, naming both paths.
type linkError struct {
	from, to string
	err      error
}

func (e *linkError) Error() string { return fmt.Sprintf("rename %s %s: %v", e.from, e.to, e.err) }
func (e *linkError) Unwrap() error { return e.err }
