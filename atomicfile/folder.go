package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFolder builds a folder of files at path as a whole: write fills a
// temporary folder beside path (its files written with WriteFile), which
// is synced and then renamed into place, so readers see either the old
// folder or the complete new one. A folder already at path is set aside
// first and removed once the new one is in place (restored if the rename
// fails). Whether path may be replaced at all is the caller's check
// (CheckFolder, with the rule of what is the writer's own); WriteFolder
// itself refuses a symbolic link, a special file or a regular file there.
// On any error the temporary folder is removed and path is left as it was.
func WriteFolder(path string, write func(tmp string) error) (err error) {
	path = filepath.Clean(path)
	if info, err := present(path); err != nil {
		return err
	} else if info != nil && !info.IsDir() {
		return &RefusedError{path, "is a file (a folder goes there)"}
	}
	parent, base := filepath.Split(path)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer Track(tmp)()
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes 0700
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		return err
	}
	if err := SyncDir(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	old := ""
	if info, err := present(path); err != nil {
		return err
	} else if info != nil {
		if !info.IsDir() {
			return &RefusedError{path, "is a file (a folder goes there)"}
		}
		// MkdirTemp reserves a unique name; rename needs it absent.
		if old, err = os.MkdirTemp(parent, "."+base+".old-"); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := os.Remove(old); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := os.Rename(path, old); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		if old != "" {
			if rerr := os.Rename(old, path); rerr != nil {
				return fmt.Errorf("write %s: %w (and restoring the previous folder from %s failed: %v)", path, err, old, rerr)
			}
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(parent); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
