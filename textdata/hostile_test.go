//go:build unix

package textdata

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tgz builds a .tgz whose members are given as name → size of zeros (or
// content when text is set).
func writeTgz(t *testing.T, path string, members []tarMember) {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		body := []byte(m.text)
		if m.text == "" {
			body = make([]byte, m.zeros)
		}
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

type tarMember struct {
	name  string
	zeros int
	text  string
}

func loadWithin(t *testing.T, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := LoadText(path, TextOptions{}); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("LoadText blocked")
		return nil
	}
}

func TestLoadTextHostile(t *testing.T) {
	defer func(a, b int64) { MaxDecompressedBytes, MaxMemberBytes = a, b }(MaxDecompressedBytes, MaxMemberBytes)
	MaxDecompressedBytes, MaxMemberBytes = 8<<20, 1<<20
	msg := `{"id":"1","group":"spam-1","text":"buy now"}`
	tests := []struct {
		name  string
		setup func(dir string) string // returns the path to load
		want  string
	}{
		{"tgz bomb in a skipped member", func(dir string) string {
			p := filepath.Join(dir, "bomb.tgz")
			writeTgz(t, p, []tarMember{{name: "package/data/spam-1/a.json", text: msg}, {name: "package/big.bin", zeros: 9 << 20}})
			return p
		}, "inflated archive: more than the 8388608-byte limit"},
		{"tgz member too large", func(dir string) string {
			p := filepath.Join(dir, "big.tgz")
			writeTgz(t, p, []tarMember{{name: "package/data/spam-1/a.json", zeros: 2 << 20}})
			return p
		}, "package/data/spam-1/a.json: 2097152 bytes, more than the 1048576-byte limit"},
		{"csv FIFO", func(dir string) string {
			p := filepath.Join(dir, "x.csv")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip(err)
			}
			return p
		}, "is a FIFO"},
		{"csv link to /dev/zero", func(dir string) string {
			p := filepath.Join(dir, "x.csv")
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Skip(err)
			}
			return p
		}, "is a device"},
		{"tgz FIFO", func(dir string) string {
			p := filepath.Join(dir, "x.tgz")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip(err)
			}
			return p
		}, "is a FIFO"},
		{"label folder text linked to /dev/zero", func(dir string) string {
			for _, c := range []string{"neg", "pos"} {
				if err := os.MkdirAll(filepath.Join(dir, c), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, c, "a.txt"), []byte("fine"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("/dev/zero", filepath.Join(dir, "pos", "b.txt")); err != nil {
				t.Skip(err)
			}
			return dir
		}, "is a device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.setup(t.TempDir())
			err := loadWithin(t, path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
