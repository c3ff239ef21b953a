package checkpoint

import (
	"io"
	"io/fs"
	"os"

	"github.com/tapeml/tapeml/atomicfile"
)

// fileSystem is every operation that changes the disk during a save.
// Saves go through fsops, which tests replace with one that "crashes"
// after a given number of operations, to prove that a kill at any point
// leaves a run that loads (see crash_test.go). Reads use os directly.
type fileSystem interface {
	MkdirAll(path string, perm fs.FileMode) error
	MkdirTemp(dir, pattern string) (string, error)
	Chmod(path string, mode fs.FileMode) error
	// Create creates a new file (O_EXCL) for writing.
	Create(path string) (writeFile, error)
	Rename(from, to string) error
	Remove(path string) error
	RemoveAll(path string) error
	Link(from, to string) error
	SyncDir(dir string) error
}

// writeFile is a file being written: Sync makes its bytes durable.
type writeFile interface {
	io.Writer
	Sync() error
	Close() error
}

type osFS struct{}

func (osFS) MkdirAll(path string, perm fs.FileMode) error  { return os.MkdirAll(path, perm) }
func (osFS) MkdirTemp(dir, pattern string) (string, error) { return os.MkdirTemp(dir, pattern) }
func (osFS) Chmod(path string, mode fs.FileMode) error     { return os.Chmod(path, mode) }
func (osFS) Rename(from, to string) error                  { return os.Rename(from, to) }
func (osFS) Remove(path string) error                      { return os.Remove(path) }
func (osFS) RemoveAll(path string) error                   { return os.RemoveAll(path) }
func (osFS) Link(from, to string) error                    { return os.Link(from, to) }
func (osFS) SyncDir(dir string) error                      { return atomicfile.SyncDir(dir) }
func (osFS) Create(path string) (writeFile, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// fsops is the file system saves use.
var fsops fileSystem = osFS{}
