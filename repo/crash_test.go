package repo

import (
	"context"
	"errors"
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
// operation per entry, so a kill can strike in the middle of it. (As
// checkpoint/crash_test.go does for saves.)
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

func (c *crashFS) RenameNew(from, to string) error {
	if err := c.step("rename", from, to); err != nil {
		return err
	}
	return renameNew(from, to)
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

func (c *crashFS) SyncDir(dir string) error { return c.step("syncdir", dir) }

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

// TestCrashAtEveryPublishStep kills Publish after each of its file-system
// operations in turn, k = 0, 1, …, over a repository that holds one
// version and a leftover of an earlier kill, and checks that every
// version folder serve would load is complete (loads, with its card), and
// that the next publish succeeds with the next number and removes what
// the kill left.
func TestCrashAtEveryPublishStep(t *testing.T) {
	_, runs := sharedFixture(t)
	defer func() { fsops = osFS{} }()
	ctx := context.Background()
	setup := func() string {
		fsops = osFS{}
		dir := t.TempDir()
		if _, err := Publish(ctx, PublishOptions{Checkpoint: runs[0], Repo: dir, Name: "m", NoTest: true}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := setup()
	counter := newCrashFS(1 << 30)
	fsops = counter
	if _, err := Publish(ctx, PublishOptions{Checkpoint: runs[1], Repo: dir, Name: "m", NoTest: true, Label: "stable"}); err != nil {
		t.Fatal(err)
	}
	fsops = osFS{}
	n := len(counter.ops)
	t.Logf("a publish takes %d file-system steps: %s", n, strings.Join(counter.ops, "; "))
	if n < 8 {
		t.Fatalf("only %d steps counted", n)
	}
	for k := range n {
		dir := setup()
		crash := newCrashFS(k)
		fsops = crash
		_, err := Publish(ctx, PublishOptions{Checkpoint: runs[1], Repo: dir, Name: "m", NoTest: true, Label: "stable"})
		fsops = osFS{}
		if err == nil {
			t.Fatalf("kill at step %d (%s): publish succeeded", k, counter.ops[k])
		}
		mdir := filepath.Join(dir, "m")
		// What serve would load: numbered folders. Each is complete.
		entries, _ := os.ReadDir(mdir)
		complete := 0
		for _, e := range entries {
			v, ok := parseVersion(e.Name())
			if !ok {
				continue
			}
			complete++
			if c, err := ReadCard(filepath.Join(mdir, e.Name(), CardFile)); err != nil || c.Version != v {
				t.Errorf("kill at step %d (%s): version %d has no valid card: %v", k, counter.ops[k], v, err)
			}
		}
		if complete < 1 || complete > 2 {
			t.Fatalf("kill at step %d: %d versions", k, complete)
		}
		checkVersionsLeft(t, mdir, complete, true)
		// The next publish takes the next number and cleans up.
		p, err := Publish(ctx, PublishOptions{Checkpoint: runs[0], Repo: dir, Name: "m", NoTest: true})
		if err != nil {
			t.Fatalf("kill at step %d: the next publish: %v", k, err)
		}
		if p.Version != int64(complete+1) {
			t.Fatalf("kill at step %d: next version %d after %d complete", k, p.Version, complete)
		}
		checkVersions(t, mdir, complete+1)
	}
}
