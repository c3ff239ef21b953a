// Package atomicfile writes a file so that readers see either its old
// contents or the complete new ones, never a partial file: the bytes go to
// a temporary file in the same directory, which is synced and then renamed
// over the target. Every export and checkpoint file in tapeml is written
// this way. It also holds the one set of rules of what an output may
// replace (CheckFile, CheckFolder), and tracks the temporary files being
// written so that an interrupted program can remove them
// (RemoveTemporaries).
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
// the error names path. Only a regular file is replaced: a device, FIFO,
// socket, symbolic link or directory at path is an error (ErrRefused),
// checked before writing and again before the rename.
func WriteFile(path string, write func(io.Writer) error) error {
	if _, err := replaceable(path); err != nil {
		return err
	}
	return writeFile(path, write, func(tmp string) error {
		if _, err := replaceable(path); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	})
}

// replaceable refuses a path WriteFile must not rename over: anything
// but a regular file or nothing. exists says there is a file.
func replaceable(path string) (exists bool, err error) {
	info, err := present(path)
	if err != nil || info == nil {
		return false, err
	}
	if info.IsDir() {
		return true, &RefusedError{path, "is a directory (a file goes there)"}
	}
	return true, nil
}

// ErrExists matches (errors.Is) the ExistsError of a file already at the
// path, as WriteNew and CheckFile return it without replace.
var ErrExists = errors.New("file exists")

// WriteNew writes path as WriteFile does, but only over what is its own to
// replace, by CheckFile's rules: nothing, or with replace a regular file.
// A symbolic link, a directory, a device, a FIFO, a socket or a path
// inside a checkpoint is refused, and so is a regular file unless replace.
// Without replace the new file is linked into place, which fails if a file
// appeared there meanwhile.
func WriteNew(path string, replace bool, write func(io.Writer) error) error {
	if err := CheckFile(path, replace); err != nil {
		return err
	}
	return writeFile(path, write, func(tmp string) error {
		if replace {
			if err := CheckFile(path, replace); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}
		err := os.Link(tmp, path)
		switch {
		case errors.Is(err, fs.ErrExist):
			return CheckFile(path, replace)
		case err != nil:
			// No hard links here (some FUSE and network file systems):
			// check again and rename, racing only a writer that creates
			// the file between the two.
			if err := CheckFile(path, replace); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}
		return os.Remove(tmp)
	})
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
	untrack := Track(tmp)
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			if !strings.HasPrefix(err.Error(), "write "+path+":") {
				err = fmt.Errorf("write %s: %w", path, err)
			}
		}
		untrack()
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
