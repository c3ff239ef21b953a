// Package atomicfile writes a file so that readers see either its old
// contents or the complete new ones, never a partial file: the bytes go to
// a temporary file in the same directory, which is synced and then renamed
// over the target. Every export and checkpoint file in tapeml is written
// this way.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteFile calls write with a buffered writer on a temporary file beside
// path and, if write succeeds, replaces path with it. On any error the
// temporary file is removed and a previous file at path is left untouched;
// the error names path.
func WriteFile(path string, write func(io.Writer) error) error {
	return writeFile(path, write, func(tmp string) error { return os.Rename(tmp, path) })
}

// ErrExists is wrapped by WriteNew's and CheckNew's errors for a file
// already at the path.
var ErrExists = errors.New("file exists")

// WriteNew writes path as WriteFile does, but only over what is its own to
// replace: nothing, or with replace a regular file. A symbolic link, a
// directory, a device, a FIFO or a socket at path is refused (CheckNew),
// and so is a regular file unless replace. Without replace the new file is
// linked into place, which fails if a file appeared there meanwhile.
func WriteNew(path string, replace bool, write func(io.Writer) error) error {
	if err := CheckNew(path, replace); err != nil {
		return err
	}
	return writeFile(path, write, func(tmp string) error {
		if replace {
			if err := CheckNew(path, replace); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}
		err := os.Link(tmp, path)
		switch {
		case errors.Is(err, fs.ErrExist):
			return CheckNew(path, replace)
		case err != nil:
			// No hard links here (some FUSE and network file systems):
			// check again and rename, racing only a writer that creates
			// the file between the two.
			if err := CheckNew(path, replace); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}
		return os.Remove(tmp)
	})
}

// CheckNew returns WriteNew's refusal of path, if any: nil when nothing is
// there or, with replace, a regular file.
func CheckNew(path string, replace bool) error {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case info.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("write %s: is a symbolic link; refusing to replace it", path)
	case !info.Mode().IsRegular():
		return fmt.Errorf("write %s: is not a regular file (%s); refusing to replace it", path, fileType(info.Mode()))
	case !replace:
		return fmt.Errorf("write %s: %w", path, ErrExists)
	}
	return nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return "a device"
	}
	return m.Type().String()
}

// writeFile writes a synced temporary file beside path and calls place to
// put it there; on any error the temporary file is removed.
func writeFile(path string, write func(io.Writer) error, place func(tmp string) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("write %s: not a file name", path)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		// Name the folder, not the temporary file the user never asked for.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("write %s: cannot create a file in %s: %w", path, dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			if !strings.HasPrefix(err.Error(), "write "+path+":") {
				err = fmt.Errorf("write %s: %w", path, err)
			}
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err = write(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil { // CreateTemp makes 0600 files
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = place(tmp); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes renames and creations in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
