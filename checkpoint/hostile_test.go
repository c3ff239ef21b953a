//go:build unix

package checkpoint

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapeml/tapeml/safetensors"
)

// loadWithin fails the test if Load blocks (a FIFO) instead of returning.
func loadWithin(t *testing.T, dir string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := Load(dir); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Load blocked")
		return nil
	}
}

func TestLoadRefusesSpecialFiles(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		replace func(path string) error
		want    string
	}{
		{"weights FIFO", WeightsFile, func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is a FIFO"},
		{"weights link to /dev/zero", WeightsFile, func(p string) error { return os.Symlink("/dev/zero", p) }, "is a device"},
		{"extra FIFO", "history.csv", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is a FIFO"},
		{"meta.json FIFO", MetaFile, func(p string) error { return syscall.Mkfifo(p, 0o644) }, "is a FIFO"},
		{"meta.json link to /dev/zero", MetaFile, func(p string) error { return os.Symlink("/dev/zero", p) }, "is a device"},
		{"meta.json a directory", MetaFile, func(p string) error { return os.Mkdir(p, 0o755) }, "is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mustSave(t, dir, sample(1, false))
			path := filepath.Join(dir, tc.file)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := tc.replace(path); err != nil {
				t.Skip(err)
			}
			wantErr(t, loadWithin(t, dir), path, tc.want)
		})
	}
}

func TestLoadBoundsMeta(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, dir, sample(1, false))
	defer func(old int64) { MaxMetaBytes = old }(MaxMetaBytes)
	MaxMetaBytes = 100
	wantErr(t, loadWithin(t, dir), filepath.Join(dir, MetaFile), "more than the 100-byte limit")
}

// TestLoadRefusesNonFinite writes weights holding NaN or Inf with a
// matching checksum: only the value check can catch them.
func TestLoadRefusesNonFinite(t *testing.T) {
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		dir := t.TempDir()
		c := sample(1, false)
		c.Weights[1] = safetensors.F32("fc.bias", []int{2}, []float32{0, v})
		mustSave(t, dir, c)
		wantErr(t, loadWithin(t, dir), filepath.Join(dir, WeightsFile), `tensor "fc.bias": element 1 is`)
	}
	dir := t.TempDir()
	c := sample(1, false)
	c.Optimizer[0] = safetensors.F32("fc.weight.exp_avg", []int{2, 3}, []float32{0, 0, 0, 0, 0, float32(math.Inf(1))})
	mustSave(t, dir, c)
	wantErr(t, loadWithin(t, dir), filepath.Join(dir, OptimizerFile), `tensor "fc.weight.exp_avg": element 5 is +Inf`)
}

// TestLoadReadsOnlyTheRecordedSize: a listed file that is larger than
// meta.json says is refused from its size, before it is read.
func TestLoadReadsOnlyTheRecordedSize(t *testing.T) {
	dir := t.TempDir()
	mustSave(t, dir, sample(1, false))
	path := filepath.Join(dir, "history.csv")
	big := []byte(strings.Repeat("x", 1<<20))
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr(t, loadWithin(t, dir), path, "1048576 bytes, meta.json says")
}
