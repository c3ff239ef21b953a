package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var errCrash = errors.New("killed (injected)")

// crashFS passes operations to the disk until left reaches zero, then
// "kills the process": that operation and every later one fail without
// touching the disk, and files written but not yet synced lose their
// second half, as unsynced data may on a real crash. RemoveAll counts one
// operation per entry removed, so a kill can strike in the middle of it.
type crashFS struct {
	left     int
	crashed  bool
	ops      []string
	unsynced map[*crashFile]bool
}

func newCrashFS(left int) *crashFS { return &crashFS{left: left, unsynced: map[*crashFile]bool{}} }

func (c *crashFS) step(op string, args ...string) error {
	if c.crashed {
		return errCrash
	}
	if c.left == 0 {
		c.crashed = true
		for f := range c.unsynced {
			if info, err := os.Stat(f.path); err == nil {
				os.Truncate(f.path, info.Size()/2)
			}
		}
		return errCrash
	}
	c.left--
	for i, a := range args {
		args[i] = filepath.Base(a)
	}
	c.ops = append(c.ops, op+" "+strings.Join(args, " "))
	return nil
}

func (c *crashFS) MkdirAll(p string, perm fs.FileMode) error {
	if err := c.step("mkdirall", p); err != nil {
		return err
	}
	return os.MkdirAll(p, perm)
}

func (c *crashFS) MkdirTemp(dir, pattern string) (string, error) {
	if err := c.step("mkdirtemp", dir, pattern); err != nil {
		return "", err
	}
	return os.MkdirTemp(dir, pattern)
}

func (c *crashFS) Chmod(p string, mode fs.FileMode) error {
	if err := c.step("chmod", p); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

func (c *crashFS) Create(p string) (writeFile, error) {
	if err := c.step("create", p); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	cf := &crashFile{File: f, path: p, fs: c}
	c.unsynced[cf] = true
	return cf, nil
}

func (c *crashFS) Rename(from, to string) error {
	if err := c.step("rename", from, to); err != nil {
		return err
	}
	return os.Rename(from, to)
}

func (c *crashFS) Remove(p string) error {
	if err := c.step("remove", p); err != nil {
		return err
	}
	return os.Remove(p)
}

func (c *crashFS) RemoveAll(p string) error {
	var paths []string
	filepath.WalkDir(p, func(q string, _ fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, q)
		}
		return nil
	})
	for _, q := range slices.Backward(paths) { // children before parents
		if err := c.step("remove", q); err != nil {
			return err
		}
		if err := os.Remove(q); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (c *crashFS) Link(from, to string) error {
	if err := c.step("link", from, to); err != nil {
		return err
	}
	return os.Link(from, to)
}

func (c *crashFS) SyncDir(dir string) error {
	return c.step("syncdir", dir)
}

type crashFile struct {
	*os.File
	path string
	fs   *crashFS
}

func (f *crashFile) Write(p []byte) (int, error) {
	if f.fs.crashed {
		return 0, errCrash
	}
	return f.File.Write(p)
}

func (f *crashFile) Sync() error {
	if err := f.fs.step("sync", f.path); err != nil {
		return err
	}
	delete(f.fs.unsynced, f) // no real fsync: the test is about order, and fast
	return nil
}

// crashScenario is a run folder's history and one save that a kill
// interrupts.
type crashScenario struct {
	name   string
	keep   int
	before []savedEpoch // saved normally first
	save   savedEpoch   // the save the kill interrupts
}

type savedEpoch struct {
	epoch  int
	isBest bool
}

// TestCrashAtEverySaveStep kills Dir.Save after each of its file system
// operations in turn, k = 0, 1, …, and checks that the run still reads
// (Latest, Best, Open), giving either the checkpoint before the save or
// the new one, complete; and that resuming (saving the next epoch)
// succeeds and leaves no leftovers.
func TestCrashAtEverySaveStep(t *testing.T) {
	scenarios := []crashScenario{
		{"first save of a run", 2, nil, savedEpoch{1, true}},
		{"second save, not best", 2, []savedEpoch{{1, true}}, savedEpoch{2, false}},
		{"new best with rotation", 2, []savedEpoch{{1, true}, {2, false}, {3, false}}, savedEpoch{4, true}},
		{"re-save of the best epoch after a resume", 3, []savedEpoch{{1, false}, {2, true}, {3, false}}, savedEpoch{2, false}},
		{"re-save of an epoch as best", 3, []savedEpoch{{1, true}, {2, false}, {3, false}}, savedEpoch{3, true}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			defer func() { fsops = osFS{} }()
			setup := func() (Dir, int, int) {
				fsops = newCrashFS(1 << 30) // never crashes; no fsync, for speed
				d := Dir{Root: filepath.Join(t.TempDir(), "run"), Keep: sc.keep}
				latest, best := -1, -1
				for _, s := range sc.before {
					if _, err := d.Save(sample(s.epoch, false), s.epoch, s.isBest); err != nil {
						t.Fatal(err)
					}
					latest = s.epoch
					if s.isBest {
						best = s.epoch
					}
				}
				return d, latest, best
			}
			// A run without a kill counts the operations.
			d, _, _ := setup()
			counter := newCrashFS(1 << 30)
			fsops = counter
			_, err := d.Save(withMarker(sample(sc.save.epoch, false), 0), sc.save.epoch, sc.save.isBest)
			fsops = osFS{}
			if err != nil {
				t.Fatal(err)
			}
			n := len(counter.ops)
			t.Logf("%d file system operations: %s", n, strings.Join(counter.ops, "; "))
			for k := 0; k <= n; k++ {
				d, prevLatest, prevBest := setup()
				fsops = newCrashFS(k)
				_, err := d.Save(withMarker(sample(sc.save.epoch, false), k), sc.save.epoch, sc.save.isBest)
				fsops = newCrashFS(1 << 30)
				if k < n && !errors.Is(err, errCrash) {
					t.Fatalf("kill after %d operations: Save returned %v", k, err)
				}
				if k == n && err != nil {
					t.Fatalf("Save with no kill: %v", err)
				}
				checkAfterCrash(t, fmt.Sprintf("kill after %d of %d operations", k, n), d, sc.save, prevLatest, prevBest, k)
			}
		})
	}
}

// withMarker tells the interrupted save's checkpoint apart from an earlier
// save of the same epoch.
func withMarker(c *Checkpoint, k int) *Checkpoint {
	c.Extra["marker"] = []byte(fmt.Sprint("interrupted save ", k))
	return c
}

func isNew(c *Checkpoint) bool {
	return strings.HasPrefix(string(c.Extra["marker"]), "interrupted save")
}

func checkAfterCrash(t *testing.T, what string, d Dir, s savedEpoch, prevLatest, prevBest, k int) {
	t.Helper()
	c, err := Open(d.Root, PickLatest)
	switch {
	case err != nil && prevLatest < 0:
		// Nothing was saved before: acceptable only if nothing complete
		// is on disk.
		if got := d.epochDirs(); len(got) > 0 {
			t.Fatalf("%s: Latest fails (%v) although %v are complete", what, err, got)
		}
	case err != nil:
		t.Fatalf("%s: the run does not read: %v", what, err)
	case isNew(c):
		if c.Meta.Epoch != s.epoch {
			t.Fatalf("%s: latest is the new save but epoch %d", what, c.Meta.Epoch)
		}
	case c.Meta.Epoch != prevLatest:
		t.Fatalf("%s: latest is epoch %d, want %d (before) or the new %d", what, c.Meta.Epoch, prevLatest, s.epoch)
	}
	bestReads := false
	if prevBest >= 0 || s.isBest {
		b, err := Open(d.Root, PickBest)
		bestReads = err == nil
		switch {
		case err != nil && prevBest >= 0:
			t.Fatalf("%s: the best checkpoint does not read: %v", what, err)
		case err != nil:
		case isNew(b) && !s.isBest:
			t.Fatalf("%s: best is the new save, which was not best", what)
		case !isNew(b) && b.Meta.Epoch != prevBest:
			t.Fatalf("%s: best is epoch %d, want %d or the new save", what, b.Meta.Epoch, prevBest)
		}
	}
	// Resume: the trainer continues from the latest and saves the next
	// epoch, which must succeed and tidy up.
	next := s.epoch
	if err == nil {
		next = c.Meta.Epoch + 1
	}
	if _, err := d.Save(sample(next, false), next, false); err != nil {
		t.Fatalf("%s: resuming: %v", what, err)
	}
	latest, err := d.Latest()
	if err != nil || filepath.Base(latest) != EpochDirName(next) {
		t.Fatalf("%s: after resuming, Latest = %s, %v; want %s", what, latest, err, EpochDirName(next))
	}
	for _, n := range listDir(t, d.Root) {
		if strings.HasPrefix(n, ".") {
			t.Fatalf("%s: after resuming, leftover %s", what, n)
		}
	}
	if bestReads {
		if _, err := Open(d.Root, PickBest); err != nil {
			t.Fatalf("%s: after resuming, best: %v", what, err)
		}
	}
}
