//go:build unix

package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/tapeml/tapeml/atomicfile"
)

// Save never replaces a symbolic link (even to a checkpoint) or a FIFO,
// and CheckOutput refuses an existing checkpoint unless replace, the
// input, and a path inside any checkpoint.
func TestSaveAndCheckOutputRefuse(t *testing.T) {
	parent := t.TempDir()
	ckpt := filepath.Join(parent, "ckpt")
	if err := Save(ckpt, sample(1, false)); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(parent, "link")
	if err := os.Symlink(ckpt, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(parent, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	wantErr(t, Save(link, sample(2, false)), link, "is a symbolic link")
	wantErr(t, Save(fifo, sample(2, false)), fifo, "is a FIFO")
	wantErr(t, Save(filepath.Join(ckpt, "nested"), sample(2, false)), "is inside a checkpoint")
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced")
	}
	if c, err := Load(ckpt); err != nil || c.Meta.Epoch != 1 {
		t.Fatalf("the checkpoint changed: %v", err)
	}
	for _, tc := range []struct {
		dir     string
		replace bool
		inputs  []string
		want    string
	}{
		{ckpt, false, nil, "exists (a checkpoint); refusing to replace it without the force setting"},
		{ckpt, true, []string{ckpt}, "is the input"},
		{filepath.Join(ckpt, "int8"), true, nil, "is inside a checkpoint"},
		{parent, true, []string{ckpt}, "holds the input"},
	} {
		err := CheckOutput(tc.dir, tc.replace, tc.inputs...)
		if !errors.Is(err, atomicfile.ErrRefused) {
			t.Errorf("%s: %v, want a refusal", tc.dir, err)
			continue
		}
		wantErr(t, err, tc.want)
	}
	if err := CheckOutput(ckpt, true, filepath.Join(parent, "elsewhere")); err != nil {
		t.Errorf("replacing a checkpoint that is not the input: %v", err)
	}
}

// An interrupted program removes Save's temporary folder
// (atomicfile.RemoveTemporaries), and the checkpoint it would have
// replaced stays as it was.
func TestSaveTemporaryFolderIsTracked(t *testing.T) {
	parent := t.TempDir()
	ckpt := filepath.Join(parent, "ckpt")
	if err := Save(ckpt, sample(1, false)); err != nil {
		t.Fatal(err)
	}
	var removed []string
	afterWrite = func(name string) error {
		if name == WeightsFile {
			removed = atomicfile.RemoveTemporaries()
		}
		return nil
	}
	defer func() { afterWrite = nil }()
	if err := Save(ckpt, sample(2, false)); err == nil {
		t.Fatal("the save went on without its temporary folder")
	}
	if len(removed) != 1 {
		t.Fatalf("removed %v, want the save's temporary folder", removed)
	}
	if left := listDir(t, parent); !slices.Equal(left, []string{"ckpt"}) {
		t.Errorf("left %v", left)
	}
	if c, err := Load(ckpt); err != nil || c.Meta.Epoch != 1 {
		t.Fatalf("the checkpoint changed: %v", err)
	}
}

// CheckProgress: the epoch and step a resumed run continues from agree
// with the folder and the run's index.
func TestCheckProgress(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	for e := 1; e <= 3; e++ {
		if _, err := d.Save(sample(e, false), e, e == 2); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.LatestEpoch(); got != 3 {
		t.Errorf("LatestEpoch %d, want 3", got)
	}
	for _, name := range []string{"epoch-0003", BestDir} {
		c, err := Load(filepath.Join(d.Root, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckProgress(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, err := Load(filepath.Join(d.Root, BestDir))
	if err != nil {
		t.Fatal(err)
	}
	c.Meta.Epoch = 3 // best/ holds epoch 2
	wantErr(t, c.CheckProgress(), "epoch 3, but the run's index.json says its best epoch is 2")
	c.Meta.Epoch, c.Meta.Step = 2, 1
	wantErr(t, c.CheckProgress(), "step 1 is below epoch 2")
	c.Meta.Epoch = 0
	wantErr(t, c.CheckProgress(), "epoch 0")
	if got := (Dir{Root: t.TempDir()}).LatestEpoch(); got != 0 {
		t.Errorf("an empty run's LatestEpoch %d", got)
	}
}
