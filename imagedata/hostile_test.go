//go:build unix

package imagedata

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("blocked")
		return nil
	}
}

func TestLoadHostile(t *testing.T) {
	defer func(a, b int64) { MaxDecompressedBytes, MaxTotalPixels = a, b }(MaxDecompressedBytes, MaxTotalPixels)
	MaxDecompressedBytes = 1 << 20
	MaxTotalPixels = 1000
	imgs, labels := tinyIDX(3, 2)
	bomb := gz(append(imgs[:len(imgs):len(imgs)], make([]byte, 4<<20)...))
	tests := []struct {
		name  string
		files map[string][]byte
		after func(dir string) error
		want  string
	}{
		{"PNG declaring 20000×20000", map[string][]byte{"a/x.png": pngGray(2, 2, 1), "b/big.png": pngDeclaring(20000, 20000)},
			nil, "b/big.png: PNG image of 20000×20000 pixels is over the 16777216-pixel limit"},
		{"folder over the total pixel limit", map[string][]byte{"a/x.png": pngGray(20, 20, 1), "b/y.png": pngGray(20, 20, 2), "b/z.png": pngGray(20, 20, 3)},
			nil, "exceed the 1000-pixel limit for one data set"},
		{"IDX gzip bomb", map[string][]byte{"train-images-idx3-ubyte.gz": bomb, "train-labels-idx1-ubyte": labels},
			nil, "train-images-idx3-ubyte.gz: gzip: inflates to more than the 34 bytes its IDX header declares: trailing data"},
		{"IDX gzip declaring too much", map[string][]byte{"train-images-idx3-ubyte.gz": gz(idxFile(idxImagesMagic, []int{60000, 100, 100}, nil)), "train-labels-idx1-ubyte": labels},
			nil, "train-images-idx3-ubyte.gz: gzip: the IDX header declares 3 dimensions totalling more than the 1048576-byte limit"},
		{"gzip bomb that is not IDX", map[string][]byte{"data_batch_1.bin": gz(make([]byte, 4<<20))},
			nil, "data_batch_1.bin: gzip: inflates to more than the 1048576-byte limit"},
		{"IDX FIFO", map[string][]byte{"train-labels-idx1-ubyte": labels}, func(dir string) error {
			return syscall.Mkfifo(filepath.Join(dir, "train-images-idx3-ubyte"), 0o644)
		}, "train-images-idx3-ubyte: is a FIFO"},
		{"CIFAR link to /dev/zero", nil, func(dir string) error {
			return os.Symlink("/dev/zero", filepath.Join(dir, "data_batch_1.bin"))
		}, "data_batch_1.bin: is a device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			if tc.after != nil {
				if err := tc.after(dir); err != nil {
					t.Skip(err)
				}
			}
			err := within(t, func() error { _, err := Load(dir, Options{}); return err })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoadImageFileHostile(t *testing.T) {
	dir := writeFiles(t, map[string][]byte{"big.png": pngDeclaring(20000, 20000)})
	p := Pipeline{Channels: 1, Height: 2, Width: 2, Mean: []float64{0}, Std: []float64{1}}
	_, _, err := LoadImageFile(filepath.Join(dir, "big.png"), p)
	if err == nil || !strings.Contains(err.Error(), "20000×20000 pixels is over the") {
		t.Fatalf("got %v", err)
	}
	fifo := filepath.Join(dir, "fifo.png")
	if syscall.Mkfifo(fifo, 0o644) == nil {
		err := within(t, func() error { _, _, err := LoadImageFile(fifo, p); return err })
		if err == nil || !strings.Contains(err.Error(), "is a FIFO") {
			t.Fatalf("got %v", err)
		}
	}
}

func TestPipelineValidateBoundsSize(t *testing.T) {
	p := Pipeline{Channels: 1, Height: 20000, Width: 20000, Mean: []float64{0}, Std: []float64{1}}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "height 20000 × width 20000 is over the 16777216-pixel limit") {
		t.Fatalf("got %v", err)
	}
}
