package repo

import (
	"io"
	"io/fs"
	"os"

	"github.com/tapeml/tapeml/atomicfile"
)

// fileSystem is every operation that changes the disk during a publish.
// Tests replace fsops with one that "crashes" after a given number of
// operations, to prove that a kill at any point leaves no version that
// serve would load half-written (crash_test.go), as package checkpoint's
// tests do for saves.
type fileSystem interface {
	MkdirAll(path string, perm fs.FileMode) error
	MkdirTemp(dir, pattern string) (string, error)
	// Create creates a new file (O_EXCL) for writing.
	Create(path string) (writeFile, error)
	// RenameNew renames a folder to a name nothing holds; it fails if
	// something does, even an empty folder.
	RenameNew(from, to string) error
	RemoveAll(path string) error
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
func (osFS) RenameNew(from, to string) error               { return renameNew(from, to) }
func (osFS) RemoveAll(path string) error                   { return os.RemoveAll(path) }
func (osFS) SyncDir(dir string) error                      { return atomicfile.SyncDir(dir) }
func (osFS) Create(path string) (writeFile, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// fsops is the file system publishes use.
var fsops fileSystem = osFS{}
