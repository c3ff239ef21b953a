package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LockFile is the lock a training holds in its run folder; it holds the
// owner's process id.
const LockFile = "lock"

// ErrLocked is wrapped by Lock's error when another process holds the
// run folder's lock.
var ErrLocked = errors.New("run folder is locked")

// ErrRunExists is wrapped by Start's error for a fresh run into a folder
// that already holds one.
var ErrRunExists = errors.New("run folder is not empty")

// LockedError says who holds a run folder's lock.
type LockedError struct {
	Root string // the run folder
	PID  int    // the holder's process id; 0 if the lock file does not say
}

func (e *LockedError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = fmt.Sprintf("process %d", e.PID)
	}
	return fmt.Sprintf("checkpoint run %s: locked by %s, which is training into it (lock file %s)", e.Root, holder, filepath.Join(e.Root, LockFile))
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Start prepares the run folder for a training: it takes the lock (see
// Lock) and, for a fresh run (resume false), refuses a folder that holds
// anything besides the lock, with an error wrapping ErrRunExists, so a new
// run cannot replace another's best model or mix its epochs into another's
// index. With force, the previous run's checkpoints (index.json, epoch
// directories, best/, leftovers of interrupted saves) are deleted instead;
// other files are left alone. The returned function releases the lock.
func (d Dir) Start(resume, force bool) (release func() error, err error) {
	release, err = d.Lock()
	if err != nil {
		return nil, err
	}
	if resume {
		return release, nil
	}
	if err := d.prepareFresh(force); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// prepareFresh refuses, or with force clears, a run folder's contents.
func (d Dir) prepareFresh(force bool) error {
	entries, err := os.ReadDir(d.Root)
	if err != nil {
		return fmt.Errorf("checkpoint run %s: %w", d.Root, err)
	}
	var held []string
	for _, e := range entries {
		if e.Name() != LockFile {
			held = append(held, e.Name())
		}
	}
	if len(held) == 0 {
		return nil
	}
	if !force {
		shown := held
		if len(shown) > 4 {
			shown = append(slices.Clone(shown[:4]), "…")
		}
		return fmt.Errorf("checkpoint run %s holds %s: %w; resume that run, or train into a new folder", d.Root, strings.Join(shown, ", "), ErrRunExists)
	}
	// Epoch directories first and index.json last: an interrupted clearing
	// still has an index, and clearing again finishes it.
	for _, n := range held {
		_, isEpoch := parseEpochDir(n)
		_, _, isLeftover := leftoverOf(n)
		if (isEpoch && complete(filepath.Join(d.Root, n))) || isLeftover {
			if err := removeDir(d.Root, n); err != nil {
				return fmt.Errorf("checkpoint run %s: clearing: %w", d.Root, err)
			}
		}
	}
	if complete(filepath.Join(d.Root, BestDir)) {
		if err := removeDir(d.Root, BestDir); err != nil {
			return fmt.Errorf("checkpoint run %s: clearing: %w", d.Root, err)
		}
	}
	if err := fsops.Remove(filepath.Join(d.Root, IndexFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("checkpoint run %s: clearing: %w", d.Root, err)
	}
	return nil
}

// readPID parses a lock file's process id; 0 if it holds none.
func readPID(b []byte) int {
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid < 1 {
		return 0
	}
	return pid
}
